"""The bill run's per-run cache (`billing_run_cache`): never stale across runs, and a bounded
number of statements per subscription (the plan is no longer reloaded five times each).

Catalog (billing_support.catalog, no VAT): plan `pro`, monthly, 10.00 EUR; api_calls standard
0.05 EUR/call; storage graduated (no storage usage here: a 0.00 fee).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient

from releve.adapters.sql.tables import customers
from releve.bootstrap import Container
from tests.integration.billing_support import GRADUATED, catalog, fees_by_code, subscribe, usage
from tests.integration.support import FakeClock

pytestmark = pytest.mark.store

# Measured: 16.0 statements per subscription here (319 for 20), 15.2 at 100 on the bench
# data; 51.4 here before the run cache (plan, customer, taxes reloaded per step).
MAX_STATEMENTS_PER_SUBSCRIPTION = 20


def at(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=UTC)  # type: ignore[arg-type, misc]


def _reprice_api_calls(api: TestClient, plan: dict[str, Any], amount: str) -> None:
    calls, storage = plan["charges"]
    charges = [
        {
            "id": calls["lago_id"],
            "billable_metric_code": "api_calls",
            "charge_model": "standard",
            "properties": {"amount": amount},
        },
        {
            "id": storage["lago_id"],
            "billable_metric_code": "storage",
            "charge_model": "graduated",
            "properties": GRADUATED,
        },
    ]
    r = api.put("/api/v1/plans/pro", json={"plan": {"charges": charges}})
    assert r.status_code == 200, r.text


def test_a_charge_edited_between_two_runs_is_billed_at_its_new_price(
    api: TestClient, clock: FakeClock, container: Container
) -> None:
    plan = catalog(api, vat=None)
    subscribe(api, clock, at(2024, 1, 1))
    usage(api, clock, at(2024, 1, 15, 9), "api_calls", {"value": 1000})
    clock.set(at(2024, 2, 1, 1))
    # January: 10.00 + 1,000 × 0.05 = 60.00
    assert [i.total_amount_cents for i in container.billing.bill_due().issued] == [6000]

    _reprice_api_calls(api, plan, "0.10")
    usage(api, clock, at(2024, 2, 15, 9), "api_calls", {"value": 1000})
    clock.set(at(2024, 3, 1, 1))
    # February, same service object: 10.00 + 1,000 × 0.10 = 110.00 (a cache kept across runs
    # would bill 60.00)
    (february,) = container.billing.bill_due().issued
    assert february.total_amount_cents == 11000
    r = api.get(f"/api/v1/invoices/{february.id}")
    assert fees_by_code(r.json()["invoice"])["api_calls"]["amount_cents"] == 10000


def test_statements_per_subscription_stay_bounded(
    api: TestClient, clock: FakeClock, container: Container, engine: sa.Engine
) -> None:
    catalog(api, vat=None)
    count = 20
    for n in range(count):
        subscribe(api, clock, at(2024, 1, 1), customer=f"cus_{n}", external_id=f"sub_{n}")
        usage(api, clock, at(2024, 1, 10, 9, n), "api_calls", {"value": n}, external_id=f"sub_{n}")
    statements: list[str] = []

    def record(*args: Any) -> None:
        statements.append(args[2])

    clock.set(at(2024, 2, 1, 1))
    sa.event.listen(engine, "before_cursor_execute", record)
    try:
        run = container.billing.bill_due()
    finally:
        sa.event.remove(engine, "before_cursor_execute", record)
    # 10.00 + n × 0.05 each: Σ = 20 × 1,000 + 5 × (0 + … + 19) = 20,950 cents
    assert len(run.issued) == count and not run.errors
    assert sum(i.total_amount_cents for i in run.issued) == 20950
    assert len(statements) < MAX_STATEMENTS_PER_SUBSCRIPTION * count, len(statements)
    # The plan (one row, then its charges, filters and metrics) is read once for the run.
    plan_reads = [s for s in statements if "FROM plans" in s and "plans.id =" in s]
    assert len(plan_reads) == 1, plan_reads


def test_a_subscription_that_cannot_be_planned_does_not_stop_its_chunk(
    api: TestClient, clock: FakeClock, container: Container, engine: sa.Engine
) -> None:
    catalog(api, vat=None)
    subs = [
        subscribe(api, clock, at(2024, 1, 1, n), customer=f"cus_{n}", external_id=f"sub_{n}")
        for n in range(3)
    ]
    with engine.begin() as c:  # the middle one's customer is gone: it cannot be priced
        c.execute(
            customers.update()
            .where(customers.c.external_id == "cus_1")
            .values(deleted_at=at(2024, 1, 20))
        )
    clock.set(at(2024, 2, 1, 1))
    run = container.billing.bill_due()
    # 10.00 prorated from 00:00 / 02:00 on Jan 1: whole days, 1,000 cents each
    assert [i.total_amount_cents for i in run.issued] == [1000, 1000]
    assert len(run.errors) == 1 and run.errors[0].startswith(subs[1]["lago_id"])
