"""Credit notes over the API: issue (credit, refund, offset), estimate, limits, consumption by
the next invoices, void, drafts, tenant isolation. Amounts hand-computed.

Catalog (billing_support.catalog): VAT 20 % applied to the organization; plan `pro`, monthly,
in arrears, 10.00 EUR; api_calls standard 0.05 EUR/call. Customer cus_1 subscribes Jan 1 2024
(UTC) and makes 100 calls in January. January's invoice (issued Feb 1):
subscription 10.00 + api_calls 100 × 0.05 = 5.00 → fees 15.00; VAT 3.00; total 18.00.
Every later month: subscription 10.00 + VAT 2.00 = 12.00.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from uuid import UUID

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient

from releve.adapters.sql.tables_credit_notes import credit_note_consumptions
from releve.bootstrap import Container
from tests.integration.billing_support import (
    catalog,
    fees_by_code,
    list_invoices,
    post,
    subscribe,
    usage,
)
from tests.integration.support import FakeClock

pytestmark = pytest.mark.store


def at(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=UTC)  # type: ignore[arg-type, misc]


def january(api: TestClient, clock: FakeClock, container: Container) -> dict[str, Any]:
    catalog(api)
    subscribe(api, clock, at(2024, 1, 1))
    usage(api, clock, at(2024, 1, 15, 9), "api_calls", {"value": 100})
    clock.set(at(2024, 2, 1, 1))
    container.billing.bill_due()
    (invoice,) = list_invoices(api)
    assert (invoice["fees_amount_cents"], invoice["total_amount_cents"]) == (1500, 1800)
    return invoice


def bill_month(
    api: TestClient, clock: FakeClock, container: Container, when: datetime
) -> dict[str, Any]:
    clock.set(when)
    container.billing.bill_due()
    return list_invoices(api)[0]  # newest first


def body(invoice: dict[str, Any], items: list[tuple[str, int]], **split: int) -> dict[str, Any]:
    fees = fees_by_code(invoice)
    return {
        "credit_note": {
            "invoice_id": invoice["lago_id"],
            "reason": "other",
            "items": [{"fee_id": fees[code]["lago_id"], "amount_cents": n} for code, n in items],
            **{f"{k}_amount_cents": v for k, v in split.items()},
        }
    }


def issue(
    api: TestClient, invoice: dict[str, Any], items: list[tuple[str, int]], **split: int
) -> dict[str, Any]:
    r = api.post("/api/v1/credit_notes", json=body(invoice, items, **split))
    assert r.status_code == 200, r.text
    note: dict[str, Any] = r.json()["credit_note"]
    return note


def test_credit_and_refund_on_one_fee_equal_the_estimate(
    api: TestClient, clock: FakeClock, container: Container
) -> None:
    invoice = january(api, clock, container)
    r = api.put(
        f"/api/v1/invoices/{invoice['lago_id']}", json={"invoice": {"payment_status": "succeeded"}}
    )
    assert r.status_code == 200, r.text
    clock.set(at(2024, 2, 5, 10))
    # api_calls fee 5.00: item 500, no coupon; VAT 20 % × 500 = 100;
    # total 600 = 400 credit + 200 refund
    estimate = api.post("/api/v1/credit_notes/estimate", json=body(invoice, [("api_calls", 500)]))
    assert estimate.status_code == 200, estimate.text
    est = estimate.json()["estimated_credit_note"]
    assert {k: est[k] for k in (
        "sub_total_excluding_taxes_amount_cents", "taxes_amount_cents",
        "coupons_adjustment_amount_cents", "max_creditable_amount_cents",
        "max_refundable_amount_cents", "max_offsettable_amount_cents",
    )} == {
        "sub_total_excluding_taxes_amount_cents": 500, "taxes_amount_cents": 100,
        "coupons_adjustment_amount_cents": 0, "max_creditable_amount_cents": 600,
        "max_refundable_amount_cents": 600, "max_offsettable_amount_cents": 0,
    }  # fmt: skip
    note = issue(api, invoice, [("api_calls", 500)], credit=400, refund=200)
    assert {k: note[k] for k in (
        "sequential_id", "number", "invoice_number", "credit_status", "refund_status", "reason",
        "currency", "sub_total_excluding_taxes_amount_cents", "taxes_amount_cents",
        "total_amount_cents", "credit_amount_cents", "refund_amount_cents",
        "offset_amount_cents", "balance_amount_cents", "coupons_adjustment_amount_cents",
        "issuing_date",
    )} == {
        "sequential_id": 1, "number": f"{invoice['number']}-CN1",
        "invoice_number": invoice["number"], "credit_status": "available",
        "refund_status": "pending", "reason": "other", "currency": "EUR",
        "sub_total_excluding_taxes_amount_cents": est["sub_total_excluding_taxes_amount_cents"],
        "taxes_amount_cents": est["taxes_amount_cents"], "total_amount_cents": 600,
        "credit_amount_cents": 400, "refund_amount_cents": 200, "offset_amount_cents": 0,
        "balance_amount_cents": 400, "coupons_adjustment_amount_cents": 0,
        "issuing_date": "2024-02-05",
    }  # fmt: skip
    assert [
        (t["tax_code"], t["base_amount_cents"], t["amount_cents"]) for t in note["applied_taxes"]
    ] == [("vat", 500, 100)]
    assert [(i["amount_cents"], i["fee"]["item"]["code"]) for i in note["items"]] == [
        (500, "api_calls")
    ]
    # The invoice itself never changes.
    assert (
        api.get(f"/api/v1/invoices/{invoice['lago_id']}").json()["invoice"]["total_amount_cents"]
        == 1800
    )
    # refund status moves; nothing else can
    r = api.put(
        f"/api/v1/credit_notes/{note['lago_id']}",
        json={"credit_note": {"refund_status": "succeeded"}},
    )
    assert r.status_code == 200 and r.json()["credit_note"]["refund_status"] == "succeeded"
    r = api.put(
        f"/api/v1/credit_notes/{note['lago_id']}", json={"credit_note": {"refund_status": "paid"}}
    )
    assert r.status_code == 422 and r.json()["error_details"] == {
        "refund_status": ["value_is_invalid"]
    }
    found = api.get(f"/api/v1/credit_notes/{note['lago_id']}").json()["credit_note"]
    assert found["total_amount_cents"] == 600


def test_limits_are_422_and_change_nothing(
    api: TestClient, clock: FakeClock, container: Container
) -> None:
    invoice = january(api, clock, container)
    issue(api, invoice, [("api_calls", 500)], credit=600)
    cases = [
        # the api_calls fee is fully credited: 1 more cent is over its remainder
        (
            body(invoice, [("api_calls", 1)], credit=1),
            {"amount_cents": ["higher_than_remaining_fee_amount"]},
        ),
        # 10.00 + 20 % = 12.00, but the split says 11.00
        (body(invoice, [("pro", 1000)], credit=1100), {"base": ["does_not_match_item_amounts"]}),
        # unpaid invoice: nothing to refund
        (
            body(invoice, [("pro", 1000)], refund=1200),
            {"refund_amount_cents": ["higher_than_remaining_invoice_amount"]},
        ),
        (body(invoice, [("pro", 1000)], credit=-1), {"credit_amount_cents": ["value_is_invalid"]}),
    ]
    for request, details in cases:
        r = api.post("/api/v1/credit_notes", json=request)
        assert r.status_code == 422, r.text
        assert r.json()["error_details"] == details
    bad_reason = body(invoice, [("pro", 1000)], credit=1200)
    bad_reason["credit_note"]["reason"] = "because"
    r = api.post("/api/v1/credit_notes", json=bad_reason)
    assert r.status_code == 422 and r.json()["error_details"] == {"reason": ["value_is_invalid"]}
    listed = api.get("/api/v1/credit_notes").json()
    assert listed["meta"]["total_count"] == 1
    # offset of what is still due works: 12.00 of the 18.00 due, Σ credit notes = 6 + 12 = 18
    issue(api, invoice, [("pro", 1000)], offset=1200)
    r = api.post("/api/v1/credit_notes/estimate", json=body(invoice, [("pro", 0)]))
    assert r.status_code == 422  # nothing left to credit: a zero credit note is refused


def test_balance_reduces_the_next_invoice_then_is_consumed(
    api: TestClient, clock: FakeClock, container: Container
) -> None:
    invoice = january(api, clock, container)
    note = issue(api, invoice, [("api_calls", 500)], credit=400, offset=200)
    feb = bill_month(api, clock, container, at(2024, 3, 1, 1))
    # 10.00 + VAT 2.00 = 12.00 − credit note 4.00 = 8.00
    assert (feb["sub_total_including_taxes_amount_cents"], feb["credit_notes_amount_cents"],
            feb["total_amount_cents"]) == (1200, 400, 800)  # fmt: skip
    assert [
        (c["amount_cents"], c["item"]["lago_item_id"], c["item"]["type"]) for c in feb["credits"]
    ] == [(400, note["lago_id"], "credit_note")]
    after = api.get(f"/api/v1/credit_notes/{note['lago_id']}").json()["credit_note"]
    assert (after["balance_amount_cents"], after["credit_status"]) == (0, "consumed")
    mar = bill_month(api, clock, container, at(2024, 4, 1, 1))
    assert (mar["credit_notes_amount_cents"], mar["total_amount_cents"]) == (0, 1200)


def test_a_larger_balance_is_carried_over(
    api: TestClient, clock: FakeClock, container: Container
) -> None:
    invoice = january(api, clock, container)
    # the whole invoice credited: (1000 + 500) + 20 % = 1800
    note = issue(api, invoice, [("pro", 1000), ("api_calls", 500)], credit=1800)
    feb = bill_month(api, clock, container, at(2024, 3, 1, 1))
    assert (feb["credit_notes_amount_cents"], feb["total_amount_cents"]) == (1200, 0)
    mid = api.get(f"/api/v1/credit_notes/{note['lago_id']}").json()["credit_note"]
    assert (mid["balance_amount_cents"], mid["credit_status"]) == (600, "available")  # 1800 − 1200
    mar = bill_month(api, clock, container, at(2024, 4, 1, 1))
    assert (mar["credit_notes_amount_cents"], mar["total_amount_cents"]) == (600, 600)  # 1200 − 600
    end = api.get(f"/api/v1/credit_notes/{note['lago_id']}").json()["credit_note"]
    assert (end["balance_amount_cents"], end["credit_status"]) == (0, "consumed")


def test_void_drops_the_balance(api: TestClient, clock: FakeClock, container: Container) -> None:
    invoice = january(api, clock, container)
    note = issue(api, invoice, [("pro", 1000), ("api_calls", 500)], credit=1800)
    r = api.put(f"/api/v1/credit_notes/{note['lago_id']}/void")
    assert r.status_code == 200, r.text
    voided = r.json()["credit_note"]
    assert (
        voided["balance_amount_cents"],
        voided["credit_status"],
        voided["total_amount_cents"],
    ) == (0, "voided", 1800)
    assert voided["voided_at"] is not None
    again = api.put(f"/api/v1/credit_notes/{note['lago_id']}/void")
    assert (again.status_code, again.json()["code"]) == (405, "no_voidable_amount")
    feb = bill_month(api, clock, container, at(2024, 3, 1, 1))
    assert (feb["credit_notes_amount_cents"], feb["total_amount_cents"]) == (0, 1200)
    # Σ still counts the voided note: the invoice has nothing left to credit
    r = api.post("/api/v1/credit_notes", json=body(invoice, [("pro", 1)], credit=1))
    assert r.status_code == 422


def test_draft_refresh_and_finalize_consume_once(
    api: TestClient, clock: FakeClock, container: Container
) -> None:
    invoice = january(api, clock, container)
    note = issue(api, invoice, [("api_calls", 500)], credit=600)
    post(
        api,
        "customers",
        {
            "customer": {
                "external_id": "cus_1",
                "billing_configuration": {"invoice_grace_period": 3},
            }
        },
    )
    draft = bill_month(api, clock, container, at(2024, 3, 1, 1))
    assert (draft["status"], draft["credit_notes_amount_cents"], draft["total_amount_cents"]) == (
        "draft",
        600,
        600,
    )
    assert (
        api.get(f"/api/v1/credit_notes/{note['lago_id']}").json()["credit_note"][
            "balance_amount_cents"
        ]
        == 600
    )
    r = api.put(f"/api/v1/invoices/{draft['lago_id']}/refresh")
    assert r.status_code == 200 and r.json()["invoice"]["credit_notes_amount_cents"] == 600
    r = api.put(f"/api/v1/invoices/{draft['lago_id']}/finalize")
    assert r.status_code == 200, r.text
    assert (
        r.json()["invoice"]["credit_notes_amount_cents"],
        r.json()["invoice"]["total_amount_cents"],
    ) == (600, 600)
    assert api.put(f"/api/v1/invoices/{draft['lago_id']}/finalize").status_code == 405
    after = api.get(f"/api/v1/credit_notes/{note['lago_id']}").json()["credit_note"]
    assert (after["balance_amount_cents"], after["credit_status"]) == (0, "consumed")
    with container.engine.connect() as c:
        rows = c.execute(sa.select(credit_note_consumptions.c.amount_cents)).all()
    assert [r.amount_cents for r in rows] == [600]


def test_other_organization_is_404(
    client: TestClient,
    clock: FakeClock,
    container: Container,
    org: tuple[UUID, str],
    other_org: tuple[UUID, str],
) -> None:
    client.headers["Authorization"] = f"Bearer {org[1]}"
    invoice = january(client, clock, container)
    note = issue(client, invoice, [("api_calls", 500)], credit=600)
    client.headers["Authorization"] = f"Bearer {other_org[1]}"
    assert client.get(f"/api/v1/credit_notes/{note['lago_id']}").status_code == 404
    assert client.put(f"/api/v1/credit_notes/{note['lago_id']}/void").status_code == 404
    assert (
        client.post(
            "/api/v1/credit_notes", json=body(invoice, [("pro", 10)], credit=12)
        ).status_code
        == 404
    )
    assert client.get("/api/v1/credit_notes").json()["credit_notes"] == []
    assert client.get("/api/v1/credit_notes/not-a-uuid").status_code == 404


def test_list_filters(api: TestClient, clock: FakeClock, container: Container) -> None:
    invoice = january(api, clock, container)
    clock.set(at(2024, 2, 3, 12))
    issue(api, invoice, [("api_calls", 500)], credit=600)
    clock.set(at(2024, 2, 4, 12))
    issue(api, invoice, [("pro", 100)], offset=120)

    def numbers(**query: Any) -> list[str]:
        r = api.get("/api/v1/credit_notes", params=query)
        assert r.status_code == 200, r.text
        return [n["number"] for n in r.json()["credit_notes"]]

    cn1, cn2 = f"{invoice['number']}-CN1", f"{invoice['number']}-CN2"
    assert numbers() == [cn2, cn1]
    assert numbers(external_customer_id="cus_1") == [cn2, cn1]
    assert numbers(external_customer_id="nobody") == []
    assert numbers(invoice_number=invoice["number"]) == [cn2, cn1]
    assert numbers(issuing_date_from="2024-02-04") == [cn2]
    assert numbers(issuing_date_to="2024-02-03") == [cn1]
    assert numbers(per_page=1, page=2) == [cn1]
    assert (
        api.get("/api/v1/credit_notes", params={"issuing_date_from": "yesterday"}).status_code
        == 422
    )


def test_credit_note_webhook_object_is_the_api_object(
    api: TestClient, clock: FakeClock, container: Container, org: tuple[UUID, str]
) -> None:
    from releve.entrypoints import webhook_objects

    invoice = january(api, clock, container)
    note = issue(api, invoice, [("api_calls", 500)], credit=600)
    rendered = webhook_objects.render(container, org[0], "credit_note", note["lago_id"])
    assert rendered == api.get(f"/api/v1/credit_notes/{note['lago_id']}").json()["credit_note"]
