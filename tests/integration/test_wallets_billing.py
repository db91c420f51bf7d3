"""Wallets and invoices: consumption at finalization (once), priority order, the ongoing
balance after each event (no job), and expiry in the billing run.

Catalog (billing_support.catalog): plan `pro`, monthly in arrears, 10.00 EUR; api_calls
standard 0.05 EUR per call; VAT 20 % applied to the organization unless `vat=None`.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from fastapi.testclient import TestClient

from releve.bootstrap import Container
from tests.integration.billing_support import catalog, list_invoices, post, subscribe, usage
from tests.integration.support import FakeClock

pytestmark = pytest.mark.store


def at(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=UTC)  # type: ignore[arg-type, misc]


def _wallet(api: TestClient, **fields: Any) -> dict[str, Any]:
    body = {"external_customer_id": "cus_1", "currency": "EUR", "rate_amount": "1", **fields}
    wallet: dict[str, Any] = post(api, "wallets", {"wallet": body})["wallet"]
    return wallet


def _get(api: TestClient, lago_id: str) -> dict[str, Any]:
    r = api.get(f"/api/v1/wallets/{lago_id}")
    assert r.status_code == 200, r.text
    wallet: dict[str, Any] = r.json()["wallet"]
    return wallet


def _ledger(api: TestClient, lago_id: str, **query: Any) -> list[dict[str, Any]]:
    r = api.get(f"/api/v1/wallets/{lago_id}/wallet_transactions", params=query)
    rows: list[dict[str, Any]] = r.json()["wallet_transactions"]
    return rows


def test_period_invoice_is_paid_from_granted_then_purchased_credits(
    api: TestClient, clock: FakeClock, container: Container
) -> None:
    catalog(api)  # VAT 20 %
    subscribe(api, clock, at(2024, 1, 1))
    clock.set(at(2024, 1, 2))
    # rate 1.5: 5 granted = 7.50 EUR (750), 10 paid = 15.00 EUR (1500), settled at once.
    wallet = _wallet(api, rate_amount="1.5", granted_credits="5", paid_credits="10")
    assert wallet["balance_cents"] == 2250
    usage(api, clock, at(2024, 1, 15), "api_calls", {"value": 100})

    clock.set(at(2024, 2, 1, 1))
    run = container.billing.bill_due()
    assert run.errors == []
    (invoice,) = list_invoices(api, invoice_type="subscription")
    # fees 10.00 + 100 × 0.05 = 15.00 → VAT 20 % = 3.00 → 18.00 = 1800 cents incl. taxes;
    # prepaid 1800 ≤ 2250: granted first 750, then purchased 1050; total 1800 − 1800 = 0.
    assert invoice["sub_total_including_taxes_amount_cents"] == 1800
    assert invoice["prepaid_credit_amount_cents"] == 1800
    assert invoice["prepaid_granted_credit_amount_cents"] == 750
    assert invoice["prepaid_purchased_credit_amount_cents"] == 1050
    assert (invoice["total_amount_cents"], invoice["payment_status"]) == (0, "succeeded")

    after = _get(api, wallet["lago_id"])
    # 2250 − 1800 = 450 cents; 15 − 1800 / 150 = 15 − 12 = 3 credits.
    assert (after["balance_cents"], after["credits_balance"]) == (450, "3.0")
    assert (after["consumed_amount_cents"], after["consumed_credits"]) == (1800, "12.0")
    (consumed,) = _ledger(api, wallet["lago_id"], transaction_status="invoiced")
    assert consumed["lago_invoice_id"] == invoice["lago_id"]
    assert (consumed["amount"], consumed["credit_amount"]) == ("18.00", "12.0")
    assert (consumed["transaction_type"], consumed["status"]) == ("outbound", "settled")
    assert container.billing.bill_due().issued == []  # nothing new, no second debit
    assert len(_ledger(api, wallet["lago_id"], transaction_status="invoiced")) == 1


def test_draft_refresh_and_finalize_debit_once_and_drafts_count_in_the_ongoing_balance(
    api: TestClient, clock: FakeClock, container: Container
) -> None:
    catalog(api, vat=None)
    subscribe(api, clock, at(2024, 1, 1))
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
    clock.set(at(2024, 1, 2))
    wallet = _wallet(api, granted_credits="50")  # rate 1: 5000 cents
    usage(api, clock, at(2024, 1, 10), "api_calls", {"value": 100})
    clock.set(at(2024, 2, 1, 1))
    container.billing.bill_due()
    (draft,) = list_invoices(api, status="draft")
    # 10.00 + 100 × 0.05 = 15.00 EUR; a draft shows no credits yet.
    assert (draft["total_amount_cents"], draft["prepaid_credit_amount_cents"]) == (1500, 0)
    seen = _get(api, wallet["lago_id"])
    # February has no usage yet; the draft's 1500 is owed: 5000 − 1500 = 3500.
    assert (seen["ongoing_usage_balance_cents"], seen["ongoing_balance_cents"]) == (1500, 3500)
    assert seen["credits_ongoing_balance"] == "35.0" and seen["balance_cents"] == 5000

    url = f"/api/v1/invoices/{draft['lago_id']}"
    usage(api, clock, at(2024, 2, 2), "api_calls", {"value": 20})  # February usage: 1.00 EUR
    assert api.put(f"{url}/refresh").status_code == 200
    assert _get(api, wallet["lago_id"])["balance_cents"] == 5000  # refresh never debits
    # Owed: draft 1500 + February usage 20 × 0.05 = 100 → 5000 − 1600 = 3400.
    assert _get(api, wallet["lago_id"])["ongoing_balance_cents"] == 3400

    r = api.put(f"{url}/finalize")
    assert r.status_code == 200, r.text
    final = r.json()["invoice"]
    assert (final["prepaid_credit_amount_cents"], final["total_amount_cents"]) == (1500, 0)
    assert api.put(f"{url}/finalize").status_code == 405
    clock.set(at(2024, 2, 5))
    container.billing.bill_due()  # the grace run finds nothing left to finalize
    after = _get(api, wallet["lago_id"])
    assert after["balance_cents"] == 3500  # 5000 − 1500, once
    assert after["ongoing_balance_cents"] == 3400  # 3500 − February's 100
    assert len(_ledger(api, wallet["lago_id"], transaction_status="invoiced")) == 1


def test_ongoing_balance_moves_with_each_event_including_taxes(
    api: TestClient, clock: FakeClock
) -> None:
    catalog(api)  # VAT 20 %
    subscribe(api, clock, at(2024, 1, 1))
    clock.set(at(2024, 1, 2))
    wallet = _wallet(api, granted_credits="20")  # rate 1: 2000 cents
    assert _get(api, wallet["lago_id"])["ongoing_balance_cents"] == 2000

    usage(api, clock, at(2024, 1, 5), "api_calls", {"value": 10})
    now = _get(api, wallet["lago_id"])
    # 10 × 0.05 = 0.50 → 50 cents + 20 % VAT 10 = 60; 2000 − 60 = 1940.
    assert (now["ongoing_usage_balance_cents"], now["ongoing_balance_cents"]) == (60, 1940)
    assert (now["credits_ongoing_usage_balance"], now["credits_ongoing_balance"]) == (
        "0.6",
        "19.4",
    )
    assert now["balance_cents"] == 2000

    usage(api, clock, at(2024, 1, 6), "api_calls", {"value": 30})
    now = _get(api, wallet["lago_id"])
    # 40 × 0.05 = 2.00 → 200 + 40 VAT = 240; 2000 − 240 = 1760.
    assert (now["ongoing_usage_balance_cents"], now["ongoing_balance_cents"]) == (240, 1760)

    usage(api, clock, at(2024, 1, 7), "api_calls", {"value": 40_000})
    now = _get(api, wallet["lago_id"])
    # 40 040 × 0.05 = 2002.00 EUR → far beyond 20.00: the wallet covers 2000, never below 0.
    assert (now["ongoing_usage_balance_cents"], now["ongoing_balance_cents"]) == (2000, 0)
    assert now["credits_ongoing_balance"] == "0.0"


def test_two_wallets_are_consumed_in_priority_order(
    api: TestClient, clock: FakeClock, container: Container
) -> None:
    catalog(api, vat=None)
    subscribe(api, clock, at(2024, 1, 1))
    clock.set(at(2024, 1, 2))
    second = _wallet(api, name="old", priority=2, granted_credits="20")  # 2000
    clock.set(at(2024, 1, 3))
    first = _wallet(api, name="new", priority=1, granted_credits="5")  # 500
    usage(api, clock, at(2024, 1, 10), "api_calls", {"value": 100})  # 5.00 EUR usage
    # Ongoing: the 500 of usage is what `first` (priority 1) would pay; `second` pays none.
    assert _get(api, first["lago_id"])["ongoing_balance_cents"] == 0
    assert _get(api, second["lago_id"])["ongoing_balance_cents"] == 2000

    clock.set(at(2024, 2, 1, 1))
    container.billing.bill_due()
    (invoice,) = list_invoices(api, invoice_type="subscription")
    # 10.00 + 5.00 = 15.00 = 1500: priority 1 pays its 500, priority 2 the other 1000.
    assert (invoice["prepaid_credit_amount_cents"], invoice["total_amount_cents"]) == (1500, 0)
    assert _get(api, first["lago_id"])["balance_cents"] == 0
    assert _get(api, second["lago_id"])["balance_cents"] == 1000
    for wallet, amount in ((first, "5.00"), (second, "10.00")):
        (row,) = _ledger(api, wallet["lago_id"], transaction_status="invoiced")
        assert row["amount"] == amount


def test_expired_wallet_is_terminated_and_its_rest_voided_once(
    api: TestClient, clock: FakeClock, container: Container
) -> None:
    catalog(api, vat=None)
    subscribe(api, clock, at(2024, 1, 1))
    clock.set(at(2024, 1, 2))
    wallet = _wallet(api, granted_credits="10", expiration_at="2024-01-20T00:00:00Z")
    keeper = _wallet(api, granted_credits="3")
    clock.set(at(2024, 1, 21))
    run = container.billing.bill_due()
    assert (run.expired_wallets, run.errors) == (1, [])
    expired = _get(api, wallet["lago_id"])
    assert (expired["status"], expired["balance_cents"], expired["credits_balance"]) == (
        "terminated",
        0,
        "0.0",
    )
    assert expired["terminated_at"] == "2024-01-21T00:00:00Z"
    (void,) = _ledger(api, wallet["lago_id"], transaction_status="voided")
    assert (void["source"], void["amount"], void["credit_amount"]) == (
        "expiration",
        "10.00",
        "10.0",
    )
    assert container.billing.bill_due().expired_wallets == 0
    assert len(_ledger(api, wallet["lago_id"])) == 2  # the grant and one expiration void
    assert _get(api, keeper["lago_id"])["status"] == "active"

    clock.set(at(2024, 2, 1, 1))
    container.billing.bill_due()
    (invoice,) = list_invoices(api, invoice_type="subscription")
    assert invoice["prepaid_credit_amount_cents"] == 300  # only the live wallet pays
    assert invoice["total_amount_cents"] == 1000 - 300
