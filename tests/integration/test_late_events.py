"""Late events after finalization: an adjustment on the next invoice, never an edit.

Catalog: VAT 20 % applied to the organization; metric `units` (sum of `value`); plan `late`,
monthly, 0.00 EUR fee, one arrears charge — graduated (0–100 at 1.00 EUR, above at 0.50 EUR)
or volume (all units at 1.00 EUR up to 100, at 0.50 EUR above: a cliff). Customers in UTC.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from uuid import UUID

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient

from releve.adapters.sql.tables_adjustments import late_adjustment_credits
from releve.bootstrap import Container
from tests.integration.billing_support import list_invoices, post, subscribe
from tests.integration.support import FakeClock

pytestmark = pytest.mark.store

RANGES = [
    {"from_value": 0, "to_value": 100, "per_unit_amount": "1", "flat_amount": "0"},
    {"from_value": 101, "to_value": None, "per_unit_amount": "0.5", "flat_amount": "0"},
]


def at(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=UTC)  # type: ignore[arg-type, misc]


def catalog(api: TestClient, model: str = "graduated") -> None:
    post(
        api,
        "taxes",
        {"tax": {"code": "vat", "name": "VAT", "rate": "20", "applied_to_organization": True}},
    )
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
    )["billable_metric"]["lago_id"]
    post(
        api,
        "plans",
        {
            "plan": {
                "name": "Late",
                "code": "late",
                "interval": "monthly",
                "amount_cents": 0,
                "amount_currency": "EUR",
                "pay_in_advance": False,
                "charges": [
                    {
                        "billable_metric_id": metric,
                        "charge_model": model,
                        "properties": {f"{model}_ranges": RANGES},
                    }
                ],
            }
        },
    )


def send(api: TestClient, clock: FakeClock, now: datetime, stamp: datetime, value: int,
         sub: str = "sub_1") -> None:  # fmt: skip
    """An event timestamped `stamp`, ingested at `now`."""
    clock.set(now)
    post(
        api,
        "events",
        {
            "event": {
                "transaction_id": f"{sub}-{stamp.isoformat()}-{now.isoformat()}",
                "external_subscription_id": sub,
                "code": "units",
                "timestamp": int(stamp.timestamp()),
                "properties": {"value": value},
            }
        },
    )


def pending(api: TestClient, sub: str = "sub_1") -> list[dict[str, Any]]:
    r = api.get(f"/api/v1/subscriptions/{sub}/pending_adjustments")
    assert r.status_code == 200, r.text
    items: list[dict[str, Any]] = r.json()["pending_adjustments"]
    return items


def january(api: TestClient, clock: FakeClock, container: Container, model: str) -> dict[str, Any]:
    """Subscribed Jan 1 2026, 90 units on Jan 15, January billed Feb 1 (90 × 1.00 = 90.00)."""
    catalog(api, model)
    subscribe(api, clock, at(2026, 1, 1), plan_code="late")
    send(api, clock, at(2026, 1, 15), at(2026, 1, 15), 90)
    clock.set(at(2026, 2, 1, 1))
    container.billing.bill_due()
    (jan,) = list_invoices(api)
    assert (jan["status"], jan["fees_amount_cents"], jan["total_amount_cents"]) == (
        "finalized", 9000, 10800,  # 90.00 + 20 % VAT
    )  # fmt: skip
    return jan


def test_graduated_late_event_adjusts_the_next_invoice_once(
    api: TestClient, clock: FakeClock, container: Container
) -> None:
    jan = january(api, clock, container, "graduated")
    send(api, clock, at(2026, 2, 10), at(2026, 1, 20), 20)  # dated January, arrives in February
    send(api, clock, at(2026, 2, 12), at(2026, 2, 12), 10)  # February's own usage

    # Before February is invoiced, the operator sees it: 110 units = 100 × 1 + 10 × 0.5
    # = 105.00, invoiced 90.00 → +15.00.
    (item,) = pending(api)
    assert {k: item[k] for k in (
        "period_from", "period_to", "original_invoice_id", "original_invoice_number",
        "charge_code", "invoiced_amount_cents", "current_amount_cents",
        "adjustment_amount_cents", "currency", "late_events_count", "settlement",
    )} == {
        "period_from": "2026-01-01T00:00:00Z", "period_to": "2026-02-01T00:00:00Z",
        "original_invoice_id": jan["lago_id"], "original_invoice_number": jan["number"],
        "charge_code": "units", "invoiced_amount_cents": 9000, "current_amount_cents": 10500,
        "adjustment_amount_cents": 1500, "currency": "EUR", "late_events_count": 1,
        "settlement": "next_invoice",
    }  # fmt: skip

    clock.set(at(2026, 3, 1, 1))
    run = container.billing.bill_due()
    # February: 10 units × 1.00 = 10.00 + adjustment 15.00 = 25.00; VAT 5.00 → 30.00.
    assert [i.total_amount_cents for i in run.issued] == [3000]
    feb = next(i for i in list_invoices(api) if i["lago_id"] != jan["lago_id"])
    (adjustment,) = [f for f in feb["fees"] if f["item"]["type"] == "adjustment"]
    assert {k: adjustment[k] for k in (
        "amount_cents", "taxes_amount_cents", "total_amount_cents", "from_date", "to_date",
        "units",
    )} == {
        "amount_cents": 1500, "taxes_amount_cents": 300, "total_amount_cents": 1800,
        "from_date": "2026-01-01T00:00:00Z", "to_date": "2026-02-01T00:00:00Z", "units": "1",
    }  # fmt: skip
    assert adjustment["item"]["code"] == "units"
    assert adjustment["amount_details"]["original_invoice_number"] == jan["number"]
    assert adjustment["explanation"] == (
        f"Units, 1–31 Jan 2026 (invoice {jan['number']}): now 110 units = 105.00 EUR,"
        " invoiced 90.00 EUR → +15.00 EUR"
    )
    assert pending(api) == []

    # A second run, and the next month: nothing more; January itself never changed.
    assert container.billing.bill_due().issued == []
    clock.set(at(2026, 4, 1, 1))
    (mar,) = container.billing.bill_due().issued
    assert mar.fees_amount_cents == 0
    again = api.get(f"/api/v1/invoices/{jan['lago_id']}").json()["invoice"]
    assert (again["fees_amount_cents"], again["total_amount_cents"]) == (9000, 10800)
    adjustments = api.get("/api/v1/fees", params={"fee_type": "adjustment"}).json()["fees"]
    assert len(adjustments) == 1


def test_volume_cliff_late_event_is_credited_on_the_original_invoice(
    api: TestClient, clock: FakeClock, container: Container, engine: sa.Engine
) -> None:
    jan = january(api, clock, container, "volume")
    send(api, clock, at(2026, 2, 10), at(2026, 1, 20), 20)
    send(api, clock, at(2026, 2, 12), at(2026, 2, 12), 10)
    # 110 units cross the cliff: 110 × 0.50 = 55.00, invoiced 90.00 → −35.00.
    (item,) = pending(api)
    assert (item["adjustment_amount_cents"], item["settlement"]) == (-3500, "credit_note")

    clock.set(at(2026, 3, 1, 1))
    container.billing.bill_due()
    # Credit note on January: 35.00 + 20 % VAT = 42.00, all as credit. February: 10 × 1.00
    # = 10.00 + VAT 2.00 = 12.00, paid by 12.00 of that credit → total 0; 30.00 left.
    (note,) = api.get("/api/v1/credit_notes").json()["credit_notes"]
    assert (note["lago_invoice_id"], note["total_amount_cents"], note["balance_amount_cents"]) == (
        jan["lago_id"], 4200, 3000,
    )  # fmt: skip
    assert note["description"].endswith("→ −35.00 EUR")
    feb = next(i for i in list_invoices(api) if i["lago_id"] != jan["lago_id"])
    assert (feb["fees_amount_cents"], feb["credit_notes_amount_cents"]) == (1000, 1200)
    assert feb["total_amount_cents"] == 0
    assert not [f for f in feb["fees"] if f["item"]["type"] == "adjustment"]
    assert pending(api) == []
    with engine.connect() as c:
        rows = c.execute(sa.select(late_adjustment_credits)).all()
    assert [(r.amount_cents, r.sequence, str(r.original_invoice_id)) for r in rows] == [
        (-3500, 1, jan["lago_id"])
    ]
    clock.set(at(2026, 3, 2))
    assert container.billing.bill_due().issued == []
    assert len(api.get("/api/v1/credit_notes").json()["credit_notes"]) == 1


def test_late_event_in_a_draft_period_updates_the_draft_and_adjusts_nothing(
    api: TestClient, clock: FakeClock, container: Container
) -> None:
    catalog(api, "graduated")
    clock.set(at(2026, 1, 1))
    post(api, "customers", {"customer": {
        "external_id": "cus_1", "name": "Acme", "currency": "EUR",
        "billing_configuration": {"invoice_grace_period": 3},
    }})  # fmt: skip
    post(api, "subscriptions", {"subscription": {
        "external_customer_id": "cus_1", "plan_code": "late", "external_id": "sub_1",
    }})  # fmt: skip
    send(api, clock, at(2026, 1, 15), at(2026, 1, 15), 90)
    clock.set(at(2026, 2, 1, 1))
    container.billing.bill_due()
    (draft,) = list_invoices(api)
    assert (draft["status"], draft["fees_amount_cents"]) == ("draft", 9000)
    send(api, clock, at(2026, 2, 2), at(2026, 1, 20), 20)
    assert pending(api) == []  # a draft is not finalized: nothing to adjust
    refreshed = api.put(f"/api/v1/invoices/{draft['lago_id']}/refresh").json()["invoice"]
    assert refreshed["fees_amount_cents"] == 10500  # 100 × 1 + 10 × 0.5
    clock.set(at(2026, 2, 4, 1))
    (final,) = container.billing.bill_due().finalized
    assert final.fees_amount_cents == 10500
    clock.set(at(2026, 3, 4, 1))
    container.billing.bill_due()
    assert api.get("/api/v1/fees", params={"fee_type": "adjustment"}).json()["fees"] == []


def test_late_events_never_leak_to_another_subscription_or_organization(
    api: TestClient,
    client: TestClient,
    clock: FakeClock,
    container: Container,
    other_org: tuple[UUID, str],
) -> None:
    catalog(api, "graduated")
    subscribe(api, clock, at(2026, 1, 1), plan_code="late")
    subscribe(api, clock, at(2026, 1, 1), customer="cus_2", external_id="sub_2",
              plan_code="late")  # fmt: skip
    send(api, clock, at(2026, 1, 15), at(2026, 1, 15), 90)
    send(api, clock, at(2026, 1, 15), at(2026, 1, 15), 90, sub="sub_2")
    clock.set(at(2026, 2, 1, 1))
    assert len(container.billing.bill_due().issued) == 2
    send(api, clock, at(2026, 2, 10), at(2026, 1, 20), 20, sub="sub_2")  # sub_2's January
    assert pending(api) == []
    assert [i["adjustment_amount_cents"] for i in pending(api, "sub_2")] == [1500]
    r = client.get(
        "/api/v1/subscriptions/sub_1/pending_adjustments",
        headers={"Authorization": f"Bearer {other_org[1]}"},
    )
    assert r.status_code == 404
    assert api.get("/api/v1/subscriptions/nope/pending_adjustments").status_code == 404
    clock.set(at(2026, 3, 1, 1))
    container.billing.bill_due()
    found = api.get("/api/v1/fees", params={"fee_type": "adjustment"}).json()["fees"]
    assert [(f["external_subscription_id"], f["amount_cents"]) for f in found] == [("sub_2", 1500)]
