"""The billing run and the invoice API, checked field by field against hand-computed amounts.

Catalog (billing_support.catalog): VAT 20 % applied to the organization; plan `pro`, monthly,
10.00 EUR; api_calls standard 0.05 EUR/call; storage graduated 1 EUR for 0–10 GB, 0.5 after.
"""

from __future__ import annotations

import threading
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient

from releve.adapters.sql.tables_billing import fees, invoices
from releve.bootstrap import Container
from releve.services.errors import ValidationFailed
from tests.integration.billing_support import (
    catalog,
    fees_by_code,
    list_invoices,
    subscribe,
    usage,
)
from tests.integration.support import FakeClock

pytestmark = pytest.mark.store


def at(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=UTC)  # type: ignore[arg-type, misc]


def _prefix(org: tuple[UUID, str]) -> str:
    return f"ACM-{org[0].hex[-4:].upper()}"


def test_two_months_in_arrears_field_by_field(
    api: TestClient, clock: FakeClock, container: Container, org: tuple[UUID, str]
) -> None:
    catalog(api)
    sub = subscribe(api, clock, at(2024, 1, 10, 12))
    usage(api, clock, at(2024, 1, 15, 9), "api_calls", {"value": 1000})
    usage(api, clock, at(2024, 1, 20, 9), "storage", {"gb": 25})
    usage(api, clock, at(2024, 2, 10, 9), "api_calls", {"value": 2000})
    usage(api, clock, at(2024, 2, 10, 9, 30), "storage", {"gb": 5})
    clock.set(at(2024, 1, 31, 23, 59))
    assert container.billing.bill_due().issued == []  # January is not over
    clock.set(at(2024, 2, 1, 1))
    run = container.billing.bill_due()
    assert [i.total_amount_cents for i in run.issued] == [8952]

    (jan,) = list_invoices(api)
    # 22 of January's 31 days: 10.00 × 22/31 = 7.0967… → 7.10
    # api_calls 1,000 × 0.05 = 50.00; storage 10 × 1 + 15 × 0.5 = 17.50
    # fees 74.60; VAT 20 % = 14.92; total 89.52
    assert {k: jan[k] for k in (
        "number", "sequential_id", "status", "payment_status", "invoice_type", "currency",
        "issuing_date", "payment_due_date", "net_payment_term", "version_number",
        "fees_amount_cents", "coupons_amount_cents", "progressive_billing_credit_amount_cents",
        "sub_total_excluding_taxes_amount_cents", "taxes_amount_cents",
        "sub_total_including_taxes_amount_cents", "credit_notes_amount_cents",
        "prepaid_credit_amount_cents", "total_amount_cents", "total_due_amount_cents",
    )} == {
        "number": f"{_prefix(org)}-000001", "sequential_id": 1, "status": "finalized",
        "payment_status": "pending", "invoice_type": "subscription", "currency": "EUR",
        "issuing_date": "2024-02-01", "payment_due_date": "2024-02-01", "net_payment_term": 0,
        "version_number": 4, "fees_amount_cents": 7460, "coupons_amount_cents": 0,
        "progressive_billing_credit_amount_cents": 0,
        "sub_total_excluding_taxes_amount_cents": 7460, "taxes_amount_cents": 1492,
        "sub_total_including_taxes_amount_cents": 8952, "credit_notes_amount_cents": 0,
        "prepaid_credit_amount_cents": 0, "total_amount_cents": 8952,
        "total_due_amount_cents": 8952,
    }  # fmt: skip
    assert jan["customer"]["external_id"] == "cus_1"
    assert [s["external_id"] for s in jan["subscriptions"]] == ["sub_1"]
    assert jan["billing_periods"] == [
        {
            "lago_subscription_id": sub["lago_id"],
            "external_subscription_id": "sub_1",
            "lago_plan_id": sub["plan"]["lago_id"],
            "subscription_from_datetime": "2024-01-10T00:00:00Z",
            "subscription_to_datetime": "2024-02-01T00:00:00Z",
            "charges_from_datetime": "2024-01-10T00:00:00Z",
            "charges_to_datetime": "2024-02-01T00:00:00Z",
            "invoicing_reason": "subscription_periodic",
        }
    ]
    (vat,) = jan["applied_taxes"]
    assert (vat["tax_code"], vat["tax_rate"], vat["fees_amount_cents"], vat["amount_cents"]) == (
        "vat",
        20,
        7460,
        1492,
    )
    by_code = fees_by_code(jan)
    plan_fee, calls, storage = by_code["pro"], by_code["api_calls"], by_code["storage"]
    assert (plan_fee["amount_cents"], plan_fee["units"], plan_fee["taxes_amount_cents"]) == (
        710,
        "1",
        142,
    )
    assert plan_fee["item"]["type"] == "subscription" and plan_fee["from_date"].startswith(
        "2024-01-10"
    )
    assert "22/31" in plan_fee["explanation"]
    assert (calls["amount_cents"], calls["units"], calls["events_count"]) == (5000, "1000", 1)
    assert calls["taxes_amount_cents"] == 1000 and calls["total_amount_cents"] == 6000
    assert calls["item"]["type"] == "charge" and calls["item"]["item_type"] == "BillableMetric"
    assert calls["precise_unit_amount"] == "0.05" and calls["lago_charge_id"]
    assert (storage["amount_cents"], storage["units"], storage["taxes_amount_cents"]) == (
        1750,
        "25",
        350,
    )
    assert storage["amount_details"]["graduated_ranges"][1]["units"] in ("15", 15)
    assert storage["explanation"]

    clock.set(at(2024, 3, 1, 1))
    run = container.billing.bill_due()
    # February (29 days, full): 10.00 + 2,000 × 0.05 = 100.00 + 5 GB = 5.00 → 115.00 + 23.00
    assert [i.total_amount_cents for i in run.issued] == [13800]
    feb = list_invoices(api, issuing_date_from="2024-03-01")[0]
    assert (feb["number"], feb["fees_amount_cents"], feb["taxes_amount_cents"]) == (
        f"{_prefix(org)}-000002",
        11500,
        2300,
    )
    assert {c: f["amount_cents"] for c, f in fees_by_code(feb).items()} == {
        "pro": 1000,
        "api_calls": 10000,
        "storage": 500,
    }
    assert len(list_invoices(api)) == 2
    one = api.get(f"/api/v1/invoices/{jan['lago_id']}").json()["invoice"]
    assert one["payment_overdue"] is True  # due Feb 1, still pending on Mar 1
    assert {**one, "payment_overdue": False} == jan
    charge_fees = api.get(
        "/api/v1/fees", params={"fee_type": "charge", "external_subscription_id": "sub_1"}
    ).json()
    assert charge_fees["meta"]["total_count"] == 4
    fee = api.get(f"/api/v1/fees/{calls['lago_id']}").json()["fee"]
    assert fee["amount_cents"] == 5000 and fee["lago_invoice_id"] == jan["lago_id"]
    assert api.get("/api/v1/fees", params={"external_customer_id": "nobody"}).json()["fees"] == []


def test_in_advance_plan_start_invoice_at_creation_then_next_period_in_customer_zone(
    api: TestClient, clock: FakeClock, container: Container, org: tuple[UUID, str]
) -> None:
    catalog(api, pay_in_advance=True)
    subscribe(api, clock, at(2024, 1, 10, 12), timezone="Europe/Paris")
    # Issued by POST /subscriptions itself: 22/31 of 10.00 = 7.10 + VAT 1.42
    (start,) = list_invoices(api)
    assert (
        start["fees_amount_cents"],
        start["taxes_amount_cents"],
        start["total_amount_cents"],
    ) == (
        710,
        142,
        852,
    )
    assert start["issuing_date"] == "2024-01-10"
    assert start["billing_periods"][0]["invoicing_reason"] == "subscription_starting"
    assert start["fees"][0]["pay_in_advance"] is True
    # Paris midnight is 23:00 UTC on Jan 9: the first period starts there.
    assert start["fees"][0]["from_date"] == "2024-01-09T23:00:00Z"
    usage(api, clock, at(2024, 1, 15, 9), "api_calls", {"value": 100})
    clock.set(at(2024, 1, 31, 22, 59))  # 23:59 in Paris: January still runs
    assert container.billing.bill_due().issued == []
    clock.set(at(2024, 1, 31, 23, 30))  # 00:30 on Feb 1 in Paris
    run = container.billing.bill_due()
    # February's fee in advance (10.00) + January's usage (100 × 0.05 = 5.00) → 15.00 + 3.00
    assert [i.total_amount_cents for i in run.issued] == [1800]
    feb = list_invoices(api, issuing_date_from="2024-02-01")[0]
    assert feb["issuing_date"] == "2024-02-01" and feb["number"].endswith("-000002")
    by_code = fees_by_code(feb)
    assert by_code["pro"]["amount_cents"] == 1000
    assert by_code["pro"]["from_date"] == "2024-01-31T23:00:00Z"
    assert by_code["api_calls"]["amount_cents"] == 500
    assert by_code["api_calls"]["to_date"] == "2024-01-31T23:00:00Z"
    assert "storage" not in by_code  # no usage, no fee (Lago)


def test_termination_mid_month_issues_the_final_invoice_before_delete_returns(
    api: TestClient, clock: FakeClock, container: Container
) -> None:
    catalog(api)
    subscribe(api, clock, at(2024, 3, 1))
    usage(api, clock, at(2024, 3, 5, 9), "api_calls", {"value": 300})
    usage(api, clock, at(2024, 3, 5, 10), "storage", {"gb": 12})
    clock.set(at(2024, 3, 15, 10))
    r = api.delete("/api/v1/subscriptions/sub_1")
    assert r.status_code == 200, r.text
    assert r.json()["subscription"]["status"] == "terminated"
    (final,) = list_invoices(api)
    # Mar 1 → Mar 15 inclusive = 15 of 31 days: 10.00 × 15/31 = 4.8387… → 4.84
    # api_calls 300 × 0.05 = 15.00; storage 10 × 1 + 2 × 0.5 = 11.00
    # fees 30.84; VAT 20 % = 6.168 → 6.17; total 37.01
    assert {c: f["amount_cents"] for c, f in fees_by_code(final).items()} == {
        "pro": 484,
        "api_calls": 1500,
        "storage": 1100,
    }
    assert (
        final["fees_amount_cents"],
        final["taxes_amount_cents"],
        final["total_amount_cents"],
    ) == (
        3084,
        617,
        3701,
    )
    assert final["issuing_date"] == "2024-03-15" and final["status"] == "finalized"
    assert final["billing_periods"][0]["invoicing_reason"] == "subscription_terminating"
    plan_fee = fees_by_code(final)["pro"]
    assert (plan_fee["from_date"], plan_fee["to_date"]) == (
        "2024-03-01T00:00:00Z",
        "2024-03-16T00:00:00Z",
    )
    assert "15/31" in plan_fee["explanation"]
    clock.set(at(2024, 4, 1, 1))
    assert container.billing.bill_due().issued == []
    assert len(list_invoices(api)) == 1


def test_termination_with_skip_issues_nothing_but_catches_up_a_missed_period(
    api: TestClient, clock: FakeClock, container: Container
) -> None:
    catalog(api, vat=None)
    subscribe(api, clock, at(2024, 1, 1))
    usage(api, clock, at(2024, 1, 20), "api_calls", {"value": 10})
    clock.set(at(2024, 2, 10))  # January was never billed (no run happened)
    r = api.delete("/api/v1/subscriptions/sub_1", params={"on_termination_invoice": "skip"})
    assert r.status_code == 200, r.text
    (january,) = list_invoices(api)
    assert january["issuing_date"] == "2024-02-01"
    assert january["total_amount_cents"] == 1000 + 50
    assert container.billing.bill_due().issued == []


def test_bill_due_twice_and_future_at(
    api: TestClient, clock: FakeClock, container: Container
) -> None:
    catalog(api)
    subscribe(api, clock, at(2024, 1, 1))
    clock.set(at(2024, 2, 1, 1))
    assert len(container.billing.bill_due().issued) == 1
    again = container.billing.bill_due()
    assert again.issued == [] and again.errors == []
    assert len(list_invoices(api)) == 1
    with pytest.raises(ValidationFailed):
        container.billing.bill_due(at(2024, 3, 1))


def test_concurrent_runs_issue_one_invoice_per_period_with_gapless_numbers(
    api: TestClient, clock: FakeClock, container: Container, org: tuple[UUID, str]
) -> None:
    catalog(api)
    for n in range(6):
        subscribe(api, clock, at(2024, 1, 1), customer=f"cus_{n}", external_id=f"sub_{n}")
    clock.set(at(2024, 3, 1, 1))
    barrier = threading.Barrier(2)
    runs: list[Any] = []

    def run() -> None:
        barrier.wait()
        runs.append(container.billing.bill_due())

    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert all(r.errors == [] for r in runs), [r.errors for r in runs]
    assert sum(len(r.issued) for r in runs) == 12  # 6 subscriptions × January and February
    found = list_invoices(api, per_page=100)
    assert len(found) == 12
    numbers = sorted(i["sequential_id"] for i in found)
    assert numbers == list(range(1, 13))
    assert len({i["number"] for i in found}) == 12
    periods = {(i["subscriptions"][0]["external_id"], i["issuing_date"]) for i in found}
    assert len(periods) == 12


def _finalized(api: TestClient, clock: FakeClock, container: Container) -> dict[str, Any]:
    catalog(api)
    subscribe(api, clock, at(2024, 1, 1))
    usage(api, clock, at(2024, 1, 3), "api_calls", {"value": 10})
    clock.set(at(2024, 2, 1, 1))
    container.billing.bill_due()
    (invoice,) = list_invoices(api)
    return invoice


def test_finalized_invoice_is_immutable_through_the_api(
    api: TestClient, clock: FakeClock, container: Container
) -> None:
    invoice = _finalized(api, clock, container)
    url = f"/api/v1/invoices/{invoice['lago_id']}"
    r = api.put(url, json={"invoice": {"total_amount_cents": 1}})
    assert r.status_code == 405 and r.json()["code"] == "invoice_not_editable"
    r = api.put(url, json={"invoice": {"payment_status": "paid"}})
    assert r.status_code == 422
    assert r.json()["error_details"] == {"payment_status": ["value_is_invalid"]}
    assert api.put(url, json={"payment_status": "succeeded"}).status_code == 400
    r = api.put(
        url,
        json={
            "invoice": {"payment_status": "succeeded", "metadata": [{"key": "po", "value": "7"}]}
        },
    )
    assert r.status_code == 200, r.text
    updated = r.json()["invoice"]
    assert updated["payment_status"] == "succeeded" and updated["total_due_amount_cents"] == 0
    assert updated["metadata"][0]["key"] == "po" and updated["metadata"][0]["value"] == "7"
    assert updated["total_amount_cents"] == invoice["total_amount_cents"]
    assert (
        api.get("/api/v1/invoices", params={"payment_status": "succeeded"}).json()["meta"][
            "total_count"
        ]
        == 1
    )


def test_finalized_invoice_is_immutable_in_sql(
    api: TestClient, clock: FakeClock, container: Container, engine: sa.Engine
) -> None:
    invoice_id = UUID(_finalized(api, clock, container)["lago_id"])
    forbidden = [
        invoices.update().where(invoices.c.id == invoice_id).values(total_amount_cents=1),
        invoices.update().where(invoices.c.id == invoice_id).values(number="X-1"),
        invoices.update().where(invoices.c.id == invoice_id).values(status="draft"),
        invoices.delete().where(invoices.c.id == invoice_id),
        fees.update().where(fees.c.invoice_id == invoice_id).values(amount_cents=0),
        fees.delete().where(fees.c.invoice_id == invoice_id),
    ]
    for statement in forbidden:
        with pytest.raises(sa.exc.DBAPIError, match="immutable"), engine.begin() as c:
            c.execute(statement)
    with engine.begin() as c:  # what stays allowed: payment status, then voiding
        c.execute(
            fees.update().where(fees.c.invoice_id == invoice_id).values(payment_status="failed")
        )
        c.execute(
            invoices.update().where(invoices.c.id == invoice_id).values(payment_status="failed")
        )
        c.execute(invoices.update().where(invoices.c.id == invoice_id).values(status="voided"))
    with pytest.raises(sa.exc.DBAPIError, match="immutable"), engine.begin() as c:
        c.execute(invoices.update().where(invoices.c.id == invoice_id).values(status="finalized"))
    with engine.connect() as c:
        total = c.execute(
            sa.select(invoices.c.total_amount_cents).where(invoices.c.id == invoice_id)
        ).scalar_one()
    assert total == 1000 + 50 + 210


def test_isolation_and_bad_input(
    api: TestClient,
    clock: FakeClock,
    container: Container,
    client: TestClient,
    other_org: tuple[UUID, str],
) -> None:
    invoice = _finalized(api, clock, container)
    fee_id = invoice["fees"][0]["lago_id"]
    other = {"Authorization": f"Bearer {other_org[1]}"}
    r = client.get(f"/api/v1/invoices/{invoice['lago_id']}", headers=other)
    assert r.status_code == 404 and r.json()["code"] == "invoice_not_found"
    r = client.get(f"/api/v1/fees/{fee_id}", headers=other)
    assert r.status_code == 404 and r.json()["code"] == "fee_not_found"
    r = client.put(
        f"/api/v1/invoices/{invoice['lago_id']}",
        json={"invoice": {"payment_status": "succeeded"}},
        headers=other,
    )
    assert r.status_code == 404
    assert client.get("/api/v1/invoices", headers=other).json()["invoices"] == []
    assert client.get("/api/v1/fees", headers=other).json()["meta"]["total_count"] == 0
    assert api.get("/api/v1/invoices/not-a-uuid").status_code == 404
    assert api.get("/api/v1/invoices").json()["meta"]["total_count"] == 1
    r = api.get("/api/v1/invoices", params={"status": "paid", "issuing_date_from": "soon"})
    assert r.status_code == 422
    assert r.json()["error_details"] == {
        "status": ["value_is_invalid"],
        "issuing_date_from": ["invalid_date"],
    }
    assert api.get("/api/v1/fees", params={"fee_type": "x"}).status_code == 422
    assert (
        api.get("/api/v1/invoices", params={"external_customer_id": "nobody"}).json()["invoices"]
        == []
    )
    assert client.get("/api/v1/invoices", headers={"Authorization": ""}).status_code == 401


def test_grace_period_leaves_the_invoice_draft_without_a_number(
    api: TestClient, clock: FakeClock, container: Container, org: tuple[UUID, str]
) -> None:
    catalog(api, vat=None)
    subscribe(api, clock, at(2024, 1, 1))
    r = api.post(
        "/api/v1/customers",
        json={
            "customer": {
                "external_id": "cus_1",
                "billing_configuration": {"invoice_grace_period": 3},
            }
        },
    )
    assert (
        r.status_code == 200
        and r.json()["customer"]["billing_configuration"]["invoice_grace_period"] == 3
    )
    clock.set(at(2024, 2, 1, 1))
    (draft,) = container.billing.bill_due().issued
    assert draft.status == "draft" and draft.number is None and draft.sequential_id is None
    (shown,) = list_invoices(api, status="draft")
    assert shown["number"] == f"{_prefix(org)}-DRAFT" and shown["total_amount_cents"] == 1000
    r = api.put(
        f"/api/v1/invoices/{shown['lago_id']}", json={"invoice": {"payment_status": "succeeded"}}
    )
    assert r.status_code == 405 and r.json()["code"] == "invoice_not_finalized"
    r = api.put(f"/api/v1/invoices/{shown['lago_id']}", json={"invoice": {"fees_amount_cents": 1}})
    assert r.status_code == 422
    assert r.json()["error_details"] == {"fees_amount_cents": ["cannot_be_updated"]}
    assert container.billing.bill_due().issued == []  # the draft already bills January


def test_upgrade_bills_the_old_plan_up_to_the_change_day(
    api: TestClient, clock: FakeClock, container: Container
) -> None:
    """Lago's example: plan A 100 EUR from Jan 1, upgrade to B 200 EUR on Jan 15:
    A 14/31 × 100 = 45.16 at once; B 17/31 × 200 = 109.68 on Feb 1."""
    catalog(api, vat=None, amount_cents=10000, code="a")
    r = api.post(
        "/api/v1/plans",
        json={
            "plan": {
                "name": "B",
                "code": "b",
                "interval": "monthly",
                "amount_cents": 20000,
                "amount_currency": "EUR",
                "charges": [],
            }
        },
    )
    assert r.status_code == 200, r.text
    subscribe(api, clock, at(2024, 1, 1), plan_code="a")
    clock.set(at(2024, 1, 15, 12))
    r = api.post(
        "/api/v1/subscriptions",
        json={
            "subscription": {
                "external_customer_id": "cus_1",
                "plan_code": "b",
                "external_id": "sub_1",
            }
        },
    )
    assert r.status_code == 200 and r.json()["subscription"]["plan_code"] == "b"
    (old,) = list_invoices(api)
    assert old["total_amount_cents"] == 4516 and old["issuing_date"] == "2024-01-15"
    assert fees_by_code(old)["a"]["to_date"] == "2024-01-15T00:00:00Z"
    clock.set(at(2024, 2, 1, 1))
    (new,) = container.billing.bill_due().issued
    assert new.total_amount_cents == 10968
    assert len(list_invoices(api)) == 2
