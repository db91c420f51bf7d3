"""Progressive billing: usage thresholds → progressive_billing invoices, credited at period end.

Catalog: VAT 20 % on the organization; metric `units` (sum of `value`); plan `metered`, monthly,
10.00 EUR in arrears, charge standard 1 EUR/unit, usage_thresholds [50.00 EUR, recurring
100.00 EUR] → threshold points 5000, 15000, 25000, … cents of lifetime usage.
"""

from __future__ import annotations

import threading
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient
from hypothesis import given
from hypothesis import strategies as st

from releve.adapters.sql.tables_webhooks import webhooks
from releve.bootstrap import Container
from releve.domain.billing.progressive import highest_usage_threshold
from releve.domain.plans import UsageThreshold
from tests.integration.billing_support import list_invoices, post, subscribe
from tests.integration.support import FakeClock

pytestmark = pytest.mark.store


def at(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=UTC)  # type: ignore[arg-type, misc]


def _catalog(api: TestClient, thresholds: list[dict[str, Any]] | None = None) -> None:
    post(api, "taxes", {"tax": {"code": "vat", "name": "VAT", "rate": "20",
                                "applied_to_organization": True}})  # fmt: skip
    metric = post(
        api,
        "billable_metrics",
        {
            "billable_metric": {
                "name": "Units",
                "code": "units",
                "aggregation_type": "sum_agg",
                "field_name": "value",
            }
        },
    )
    post(api, "plans", {"plan": {
        "name": "Metered", "code": "metered", "interval": "monthly", "amount_cents": 1000,
        "amount_currency": "EUR", "pay_in_advance": False,
        "charges": [{"billable_metric_id": metric["billable_metric"]["lago_id"],
                     "charge_model": "standard", "properties": {"amount": "1"}}],
        "usage_thresholds": thresholds if thresholds is not None else [
            {"amount_cents": 5000, "threshold_display_name": "First"},
            {"amount_cents": 10000, "recurring": True}],
    }})  # fmt: skip


_seq = iter(range(10**6))


def _units(api: TestClient, clock: FakeClock, when: datetime, value: int) -> None:
    clock.set(when)
    post(api, "events", {"event": {"transaction_id": f"u-{next(_seq)}",
                                   "external_subscription_id": "sub_1", "code": "units",
                                   "timestamp": int(when.timestamp()),
                                   "properties": {"value": value}}})  # fmt: skip


def _progressive(api: TestClient) -> list[dict[str, Any]]:
    found = list_invoices(api, invoice_type="progressive_billing")
    return sorted(found, key=lambda i: i["sequential_id"])


def _amounts(invoice: dict[str, Any]) -> dict[str, int]:
    keys = (
        "fees_amount_cents",
        "progressive_billing_credit_amount_cents",
        "sub_total_excluding_taxes_amount_cents",
        "taxes_amount_cents",
        "total_amount_cents",
    )
    return {k: invoice[k] for k in keys}  # fmt: skip


def test_thresholds_issue_progressive_invoices_credited_at_period_end(
    api: TestClient, clock: FakeClock, container: Container, org: tuple[UUID, str]
) -> None:
    _catalog(api)
    subscribe(api, clock, at(2024, 3, 1), plan_code="metered")
    _units(api, clock, at(2024, 3, 5, 10), 40)
    container.usage_evaluator.drain()
    assert _progressive(api) == []  # 40.00 < 50.00

    _units(api, clock, at(2024, 3, 6, 10), 20)  # 60 units: crosses 50.00
    container.usage_evaluator.drain()
    (first,) = _progressive(api)
    # 60 × 1.00 = 60.00; VAT 20 % = 12.00; total 72.00
    assert _amounts(first) == {"fees_amount_cents": 6000,
        "progressive_billing_credit_amount_cents": 0,
        "sub_total_excluding_taxes_amount_cents": 6000, "taxes_amount_cents": 1200,
        "total_amount_cents": 7200}  # fmt: skip
    assert first["status"] == "finalized" and first["number"]
    assert first["invoice_type"] == "progressive_billing"
    assert first["billing_periods"][0]["invoicing_reason"] == "progressive_billing"

    container.usage_evaluator.evaluate(org[0], _sub_id(api))
    assert len(_progressive(api)) == 1  # evaluating again issues nothing

    _units(api, clock, at(2024, 3, 20, 10), 100)  # 160 units: crosses 50 + 100 = 150.00
    container.usage_evaluator.drain()
    first, second = _progressive(api)
    # fees 160.00 − already billed 60.00 = 100.00; VAT 20.00; total 120.00
    assert _amounts(second) == {"fees_amount_cents": 16000,
        "progressive_billing_credit_amount_cents": 6000,
        "sub_total_excluding_taxes_amount_cents": 10000, "taxes_amount_cents": 2000,
        "total_amount_cents": 12000}  # fmt: skip

    clock.set(at(2024, 4, 1, 1))
    run = container.billing.bill_due()
    (period,) = run.issued
    (march,) = [i for i in list_invoices(api, invoice_type="subscription")]
    # fees: subscription 10.00 + units 160.00 = 170.00; progressive credit 160.00;
    # taxable 10.00; VAT 2.00; total 12.00
    assert _amounts(march) == {"fees_amount_cents": 17000,
        "progressive_billing_credit_amount_cents": 16000,
        "sub_total_excluding_taxes_amount_cents": 1000, "taxes_amount_cents": 200,
        "total_amount_cents": 1200}  # fmt: skip
    assert period.total_amount_cents == 1200
    charge = next(f for f in march["fees"] if f["item"]["code"] == "units")
    assert charge["amount_cents"] == 16000
    # Past usage lists March once (the period invoice), not once more per progressive invoice.
    history = api.get("/api/v1/customers/cus_1/past_usage?external_subscription_id=sub_1")
    assert history.status_code == 200, history.text
    (march_usage,) = history.json()["usage_periods"]
    assert march_usage["amount_cents"] == 16000

    # April: lifetime = 160.00 invoiced + April's usage; next point 250.00 → at 90 units.
    _units(api, clock, at(2024, 4, 3, 10), 89)
    container.usage_evaluator.drain()
    assert len(_progressive(api)) == 2  # 249.00
    _units(api, clock, at(2024, 4, 4, 10), 1)
    container.usage_evaluator.drain()
    third = _progressive(api)[-1]
    assert _amounts(third)["fees_amount_cents"] == 9000  # 90 × 1.00, nothing billed in April yet
    assert _amounts(third)["total_amount_cents"] == 10800  # + VAT 18.00


def _sub_id(api: TestClient) -> UUID:
    r = api.get("/api/v1/subscriptions/sub_1")
    return UUID(r.json()["subscription"]["lago_id"])


def test_concurrent_evaluators_issue_one_invoice_per_crossing(
    api: TestClient, clock: FakeClock, container: Container, org: tuple[UUID, str]
) -> None:
    _catalog(api)
    subscribe(api, clock, at(2024, 3, 1), plan_code="metered")
    _units(api, clock, at(2024, 3, 5, 10), 60)
    sub_id = _sub_id(api)
    barrier = threading.Barrier(4)
    errors: list[BaseException] = []

    def run() -> None:
        try:
            barrier.wait()
            container.progressive_billing.evaluate(org[0], sub_id)
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=run) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    (only,) = _progressive(api)
    assert only["fees_amount_cents"] == 6000
    assert container.progressive_billing.evaluate_all() == 0


def test_webhooks_and_catch_up_after_a_lost_queue(
    api: TestClient, clock: FakeClock, container: Container, org: tuple[UUID, str]
) -> None:
    post(api, "webhook_endpoints", {"webhook_endpoint": {"webhook_url": "https://example.com/h"}})
    _catalog(api)
    subscribe(api, clock, at(2024, 3, 1), plan_code="metered")
    _units(api, clock, at(2024, 3, 5, 10), 75)
    # The queue is lost (a crash): the scheduler's catch-up still bills the crossing once.
    container.usage_evaluator._pending.clear()
    assert container.usage_evaluator.catch_up()["progressive_invoices"] == 1
    assert container.usage_evaluator.catch_up()["progressive_invoices"] == 0
    (invoice,) = _progressive(api)
    assert invoice["total_amount_cents"] == 9000  # 75.00 + VAT 15.00
    types = webhook_types(container)
    assert types.count("invoice.created") == 1
    assert types.count("subscription.usage_threshold_reached") == 1


def webhook_types(container: Container) -> list[str]:
    with container.engine.connect() as connection:
        return [r[0] for r in connection.execute(sa.select(webhooks.c.webhook_type))]


@given(
    fixed=st.lists(st.integers(1, 10_000), max_size=4, unique=True),
    step=st.one_of(st.none(), st.integers(1, 5_000)),
    a=st.integers(0, 100_000),
    b=st.integers(0, 100_000),
)
def test_highest_threshold_is_monotone_and_reached(
    fixed: list[int], step: int | None, a: int, b: int
) -> None:
    thresholds = [UsageThreshold(v) for v in fixed]
    if step is not None:
        thresholds.append(UsageThreshold(step, recurring=True))
    low, high = sorted((a, b))
    h_low = highest_usage_threshold(thresholds, low)
    h_high = highest_usage_threshold(thresholds, high)
    assert h_low is None or h_low <= low
    assert h_high is None or h_high <= high
    if h_low is not None:
        assert h_high is not None and h_high >= h_low


def test_usage_sent_late_into_a_progressively_billed_span_bills_at_period_end(
    api: TestClient, clock: FakeClock, container: Container, org: tuple[UUID, str]
) -> None:
    """A progressive invoice bills part of an OPEN period: usage that arrives after it for the
    span it covered is not a late event of a closed period (no adjustment, no error) — the
    period invoice bills it, minus what the progressive invoice billed."""
    _catalog(api)
    subscribe(api, clock, at(2024, 3, 1), plan_code="metered")
    _units(api, clock, at(2024, 3, 6, 10), 60)  # crosses 50.00 → progressive invoice of 60.00
    container.usage_evaluator.drain()
    assert len(_progressive(api)) == 1
    clock.set(at(2024, 3, 10, 12))  # sent on Mar 10, dated Mar 5: inside the billed span
    post(api, "events", {"event": {"transaction_id": "late-into-progressive",
                                   "external_subscription_id": "sub_1", "code": "units",
                                   "timestamp": int(at(2024, 3, 5, 9).timestamp()),
                                   "properties": {"value": 5}}})  # fmt: skip
    container.usage_evaluator.drain()
    pending = api.get("/api/v1/subscriptions/sub_1/pending_adjustments")
    assert pending.status_code == 200, pending.text
    assert pending.json()["pending_adjustments"] == []

    clock.set(at(2024, 4, 1, 1))
    run = container.billing.bill_due()
    assert run.errors == []
    (march,) = list_invoices(api, invoice_type="subscription")
    # fees: subscription 10.00 + units 65 × 1.00 = 75.00; progressive credit 60.00;
    # taxable 15.00; VAT 3.00; total 18.00 — and no adjustment line.
    assert _amounts(march) == {"fees_amount_cents": 7500,
        "progressive_billing_credit_amount_cents": 6000,
        "sub_total_excluding_taxes_amount_cents": 1500, "taxes_amount_cents": 300,
        "total_amount_cents": 1800}  # fmt: skip
    assert [f for f in march["fees"] if f["item"]["type"] == "adjustment"] == []
