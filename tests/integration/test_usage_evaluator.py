"""The usage evaluator looks only at subscriptions with thresholds, alerts or a customer budget.

Catalog (test_progressive_billing._catalog): plan `metered` without thresholds, 1.00 EUR/unit,
VAT 20 %; plan `stepped` the same with a 50.00 EUR usage threshold. Four subscriptions, one
customer each: `plain` (nothing to evaluate), `thr` (stepped), `alerted` (an alert), `budget`
(its customer has a budget).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient

from releve.adapters.sql.uow import SqlUnitOfWorkFactory
from releve.bootstrap import Container
from releve.services.alert_records import TriggeredAlert
from releve.services.alerts import AlertService
from releve.services.billing_records import Invoice
from releve.services.progressive_billing import ProgressiveBillingService
from releve.services.usage_evaluator import UsageEvaluator
from tests.integration.billing_support import post, subscribe
from tests.integration.support import FakeClock
from tests.integration.test_progressive_billing import _catalog

pytestmark = pytest.mark.store
MARCH = datetime(2024, 3, 1, tzinfo=UTC)
SUBS = ("plain", "thr", "alerted", "budget")


class CountingProgressive(ProgressiveBillingService):
    def __init__(self, *args: Any) -> None:
        super().__init__(*args)
        self.seen: list[UUID] = []

    def evaluate(self, organization_id: UUID, subscription_id: UUID) -> Invoice | None:
        self.seen.append(subscription_id)
        return super().evaluate(organization_id, subscription_id)


class CountingAlerts(AlertService):
    def __init__(self, *args: Any) -> None:
        super().__init__(*args)
        self.seen: list[UUID] = []

    def evaluate(self, organization_id: UUID, subscription_id: UUID) -> list[TriggeredAlert]:
        self.seen.append(subscription_id)
        return super().evaluate(organization_id, subscription_id)


def _setup(api: TestClient, clock: FakeClock, container: Container, org: UUID) -> dict[str, Any]:
    _catalog(api, thresholds=[])
    plan = api.get("/api/v1/plans/metered").json()["plan"]
    charge = plan["charges"][0]
    post(api, "plans", {"plan": {
        "name": "Stepped", "code": "stepped", "interval": "monthly", "amount_cents": 1000,
        "amount_currency": "EUR", "pay_in_advance": False,
        "charges": [{"billable_metric_id": charge["lago_billable_metric_id"],
                     "charge_model": "standard", "properties": {"amount": "1"}}],
        "usage_thresholds": [{"amount_cents": 5000}],
    }})  # fmt: skip
    ids = {}
    for name in SUBS:
        plan_code = "stepped" if name == "thr" else "metered"
        sub = subscribe(api, clock, MARCH, customer=f"cus_{name}", external_id=f"sub_{name}",
                        plan_code=plan_code)  # fmt: skip
        ids[name] = UUID(sub["lago_id"])
    post(api, "subscriptions/sub_alerted/alerts", {"alert": {
        "alert_type": "current_usage_amount", "code": "spend",
        "thresholds": [{"value": "5000"}]}})  # fmt: skip
    container.budgets.set(org, "cus_budget", 10000)
    return ids


def _units(api: TestClient, clock: FakeClock, name: str, value: int) -> None:
    when = datetime(2024, 3, 2, tzinfo=UTC)
    clock.set(when)
    post(api, "events", {"event": {"transaction_id": f"{name}-{value}",
                                   "external_subscription_id": f"sub_{name}", "code": "units",
                                   "timestamp": int(when.timestamp()),
                                   "properties": {"value": value}}})  # fmt: skip


@contextmanager
def _statements(engine: sa.Engine) -> Iterator[list[str]]:
    """The SQL statements run on `engine` meanwhile (transaction control left out)."""
    seen: list[str] = []

    def record(*args: Any) -> None:
        statement = str(args[2]).lstrip().upper()
        if not statement.startswith(("BEGIN", "COMMIT", "ROLLBACK")):
            seen.append(statement)

    sa.event.listen(engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        sa.event.remove(engine, "before_cursor_execute", record)


def test_only_subscriptions_with_something_to_evaluate_are_evaluated(
    api: TestClient, clock: FakeClock, container: Container, org: tuple[UUID, str]
) -> None:
    ids = _setup(api, clock, container, org[0])
    uow = SqlUnitOfWorkFactory(container.engine)
    progressive = CountingProgressive(uow, clock)
    alerts = CountingAlerts(uow, clock)
    budgets: list[tuple[UUID, UUID]] = []

    def check(organization_id: UUID, customer_id: UUID) -> None:
        budgets.append((organization_id, customer_id))
        container.budgets.check(organization_id, customer_id)

    evaluator = UsageEvaluator(uow, progressive, alerts, check, lambda: 0)
    evaluator.notify(org[0], list(ids.values()))
    evaluator.drain()
    assert progressive.seen == [ids["thr"]]
    assert alerts.seen == [ids["alerted"]]
    customer = container.customers.get(org[0], "cus_budget").id
    assert budgets == [(org[0], customer)]

    # Another organization's id for a subscription is not evaluated as that organization's.
    evaluator.notify(UUID(int=1), [ids["thr"], ids["alerted"], ids["budget"]])
    evaluator.drain()
    assert (len(progressive.seen), len(alerts.seen), len(budgets)) == (1, 1, 1)

    # A terminated subscription crosses no threshold and fires no alert; its budget still counts.
    for name in ("thr", "alerted", "budget"):
        assert api.delete(f"/api/v1/subscriptions/sub_{name}").status_code == 200
    evaluator.notify(org[0], list(ids.values()))
    evaluator.drain()
    assert (len(progressive.seen), len(alerts.seen), len(budgets)) == (1, 1, 2)


def test_a_wake_up_without_anything_to_evaluate_is_one_query(
    api: TestClient, clock: FakeClock, container: Container, org: tuple[UUID, str]
) -> None:
    ids = _setup(api, clock, container, org[0])
    plain = [ids["plain"], *(UUID(int=n) for n in range(1, 1200))]  # unknown ids: 3 chunks
    with _statements(container.engine) as seen:
        container.usage_evaluator.notify(org[0], plain[:1])
        container.usage_evaluator.drain()
    assert len(seen) == 1 and "FROM SUBSCRIPTIONS" in seen[0]
    with _statements(container.engine) as seen:
        container.usage_evaluator.notify(org[0], plain)
        container.usage_evaluator.drain()
    assert len(seen) == 3  # one per 500 ids


def test_ingest_then_drain_fires_each_kind(
    api: TestClient, clock: FakeClock, container: Container, org: tuple[UUID, str]
) -> None:
    _setup(api, clock, container, org[0])
    for name in SUBS:
        _units(api, clock, name, 70)  # 70.00 EUR of usage each, 84.00 with VAT
    container.usage_evaluator.drain()
    progressive = api.get("/api/v1/invoices", params={"invoice_type": "progressive_billing"})
    assert [i["fees_amount_cents"] for i in progressive.json()["invoices"]] == [7000]
    triggered = api.get("/api/v1/subscriptions/sub_alerted/alerts/spend/triggered_alerts")
    assert [t["current_value"] for t in triggered.json()["triggered_alerts"]] == ["7000"]
    status = container.budgets.status(org[0], "cus_budget")
    assert status is not None and [a.threshold for a in status.alerts] == [80]
