"""Review: where coupons, credit notes and wallets meet on one invoice.

Catalog (billing_support.catalog): plan `pro`, monthly in arrears, 10.00 EUR; api_calls standard
0.05 EUR per call; VAT 20 % applied to the organization unless `vat=None`. Customer cus_1
subscribes Jan 1 2024 (UTC).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from fastapi.testclient import TestClient

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


def _wallet(api: TestClient, **fields: Any) -> dict[str, Any]:
    body = {"external_customer_id": "cus_1", "currency": "EUR", "rate_amount": "1", **fields}
    wallet: dict[str, Any] = post(api, "wallets", {"wallet": body})["wallet"]
    return wallet


def _get(api: TestClient, path: str, root: str) -> dict[str, Any]:
    r = api.get(f"/api/v1/{path}")
    assert r.status_code == 200, r.text
    found: dict[str, Any] = r.json()[root]
    return found


def _skip_zero_amount_invoices(api: TestClient) -> None:
    post(
        api,
        "customers",
        {"customer": {"external_id": "cus_1", "finalize_zero_amount_invoice": "skip"}},
    )


def test_a_zero_total_paid_by_a_wallet_is_still_finalized_and_debits_the_wallet(
    api: TestClient, clock: FakeClock, container: Container
) -> None:
    """Lago skips a zero-amount invoice on its *fees* (`fees_amount_cents.zero?`), not on the
    total left after prepaid credits: otherwise the period is billed to nobody and the wallet
    keeps the money."""
    catalog(api, vat=None)
    subscribe(api, clock, at(2024, 1, 1))
    _skip_zero_amount_invoices(api)
    clock.set(at(2024, 1, 2))
    wallet = _wallet(api, granted_credits="50")  # rate 1: 50.00 EUR = 5000 cents

    clock.set(at(2024, 2, 1, 1))
    run = container.billing.bill_due()
    assert run.errors == [] and run.closed == 0
    (invoice,) = list_invoices(api, invoice_type="subscription")
    # fees: subscription 10.00 = 1000 cents, no usage, no VAT; wallet pays 1000 → total 0.
    assert invoice["status"] == "finalized"
    assert (invoice["fees_amount_cents"], invoice["prepaid_credit_amount_cents"]) == (1000, 1000)
    assert (invoice["total_amount_cents"], invoice["payment_status"]) == (0, "succeeded")
    # 5000 − 1000 = 4000 cents left.
    assert _get(api, f"wallets/{wallet['lago_id']}", "wallet")["balance_cents"] == 4000


def test_a_zero_total_paid_by_a_credit_note_consumes_the_credit_note(
    api: TestClient, clock: FakeClock, container: Container
) -> None:
    catalog(api)  # VAT 20 %
    subscribe(api, clock, at(2024, 1, 1))
    usage(api, clock, at(2024, 1, 15, 9), "api_calls", {"value": 100})
    clock.set(at(2024, 2, 1, 1))
    container.billing.bill_due()
    (january,) = list_invoices(api)
    # January: 10.00 + 100 × 0.05 = 15.00; VAT 3.00 → 1800.
    assert january["total_amount_cents"] == 1800
    fees = fees_by_code(january)
    clock.set(at(2024, 2, 5))
    # Credit the whole January invoice: items 1000 + 500, VAT 20 % = 300 → 1800 of credit.
    note = post(
        api,
        "credit_notes",
        {
            "credit_note": {
                "invoice_id": january["lago_id"],
                "reason": "other",
                "credit_amount_cents": 1800,
                "items": [
                    {"fee_id": fees["pro"]["lago_id"], "amount_cents": 1000},
                    {"fee_id": fees["api_calls"]["lago_id"], "amount_cents": 500},
                ],
            }
        },
    )["credit_note"]
    assert note["balance_amount_cents"] == 1800
    _skip_zero_amount_invoices(api)

    clock.set(at(2024, 3, 1, 1))
    run = container.billing.bill_due()
    assert run.errors == [] and run.closed == 0
    february = list_invoices(api)[0]
    # February: 10.00 + VAT 2.00 = 1200, all paid by the credit note → total 0.
    assert february["status"] == "finalized"
    assert (february["credit_notes_amount_cents"], february["total_amount_cents"]) == (1200, 0)
    # 1800 − 1200 = 600 left on the note.
    assert (
        _get(api, f"credit_notes/{note['lago_id']}", "credit_note")["balance_amount_cents"] == 600
    )


def test_voiding_an_invoice_gives_back_its_credit_note_and_wallet_credits(
    api: TestClient, clock: FakeClock, container: Container
) -> None:
    """Lago's `Invoices::VoidService`: each credit note credit of the voided invoice is
    re-credited (`CreditNotes::RecreditService`: balance += amount) and each wallet consumption
    comes back as granted credits (`WalletTransactions::RecreditService`)."""
    catalog(api)  # VAT 20 %
    subscribe(api, clock, at(2024, 1, 1))
    usage(api, clock, at(2024, 1, 15, 9), "api_calls", {"value": 100})
    clock.set(at(2024, 2, 1, 1))
    container.billing.bill_due()
    (january,) = list_invoices(api)
    clock.set(at(2024, 2, 5))
    # Credit the api_calls fee: 500 + VAT 20 % 100 = 600 of credit.
    note = post(
        api,
        "credit_notes",
        {
            "credit_note": {
                "invoice_id": january["lago_id"],
                "reason": "other",
                "credit_amount_cents": 600,
                "items": [
                    {"fee_id": fees_by_code(january)["api_calls"]["lago_id"], "amount_cents": 500}
                ],
            }
        },
    )["credit_note"]
    wallet = _wallet(api, granted_credits="4")  # rate 1: 400 cents

    clock.set(at(2024, 3, 1, 1))
    container.billing.bill_due()
    february = list_invoices(api)[0]
    # 10.00 + VAT 2.00 = 1200 − credit note 600 − wallet 400 = 200 due.
    assert (
        february["credit_notes_amount_cents"],
        february["prepaid_credit_amount_cents"],
        february["total_amount_cents"],
    ) == (600, 400, 200)
    assert _get(api, f"credit_notes/{note['lago_id']}", "credit_note")["credit_status"] == (
        "consumed"
    )
    assert _get(api, f"wallets/{wallet['lago_id']}", "wallet")["balance_cents"] == 0

    r = api.post(f"/api/v1/invoices/{february['lago_id']}/void")
    assert r.status_code == 200, r.text
    restored = _get(api, f"credit_notes/{note['lago_id']}", "credit_note")
    assert (restored["credit_status"], restored["balance_amount_cents"]) == ("available", 600)
    assert _get(api, f"wallets/{wallet['lago_id']}", "wallet")["balance_cents"] == 400
    # The voided invoice keeps what it showed.
    voided = _get(api, f"invoices/{february['lago_id']}", "invoice")
    assert (voided["status"], voided["credit_notes_amount_cents"]) == ("voided", 600)

    # March consumes them again: 1200 − 600 − 400 = 200.
    clock.set(at(2024, 4, 1, 1))
    container.billing.bill_due()
    march = list_invoices(api)[0]
    assert march["lago_id"] != february["lago_id"]
    assert (
        march["credit_notes_amount_cents"],
        march["prepaid_credit_amount_cents"],
        march["total_amount_cents"],
    ) == (600, 400, 200)
    assert _get(api, f"wallets/{wallet['lago_id']}", "wallet")["balance_cents"] == 0


def test_an_invoice_paid_with_a_credit_note_balance_can_be_credited_back_in_full(
    api: TestClient, clock: FakeClock, container: Container
) -> None:
    """What an invoice consumed of earlier credit notes was given for it, like wallet credits:
    Lago's ceiling is the fees' creditable amount incl. taxes (sub_total_including_taxes), so
    it can be credited back (never refunded in cash)."""
    catalog(api)  # VAT 20 %
    subscribe(api, clock, at(2024, 1, 1))
    usage(api, clock, at(2024, 1, 15, 9), "api_calls", {"value": 100})
    clock.set(at(2024, 2, 1, 1))
    container.billing.bill_due()
    (january,) = list_invoices(api)
    clock.set(at(2024, 2, 5))
    api_calls = fees_by_code(january)["api_calls"]["lago_id"]
    post(
        api,
        "credit_notes",
        {
            "credit_note": {
                "invoice_id": january["lago_id"],
                "reason": "other",
                "credit_amount_cents": 600,  # 500 + VAT 20 % 100
                "items": [{"fee_id": api_calls, "amount_cents": 500}],
            }
        },
    )
    clock.set(at(2024, 3, 1, 1))
    container.billing.bill_due()
    february = list_invoices(api)[0]
    # 10.00 + VAT 2.00 = 1200 − credit note 600 = 600 due.
    assert (february["credit_notes_amount_cents"], february["total_amount_cents"]) == (600, 600)

    subscription_fee = fees_by_code(february)["pro"]["lago_id"]
    body = {
        "credit_note": {
            "invoice_id": february["lago_id"],
            "reason": "other",
            "items": [{"fee_id": subscription_fee, "amount_cents": 1000}],
        }
    }
    r = api.post("/api/v1/credit_notes/estimate", json=body)
    assert r.status_code == 200, r.text
    estimate = r.json()["estimated_credit_note"]
    # Ceiling: total 600 + credit notes 600 = 1200 = the fee 1000 + VAT 200; nothing paid in
    # cash (no refund), 600 still due (offset up to 600).
    assert (
        estimate["max_creditable_amount_cents"],
        estimate["max_refundable_amount_cents"],
        estimate["max_offsettable_amount_cents"],
    ) == (1200, 0, 600)
    body["credit_note"]["credit_amount_cents"] = 1200
    note = post(api, "credit_notes", body)["credit_note"]
    assert (note["total_amount_cents"], note["balance_amount_cents"]) == (1200, 1200)
