"""Wallets over the API: purchase (credit invoice, pending until paid), grants, voids, the
ledger, updates, termination, validation and isolation between organizations.

Money: rate 1.5 EUR per credit. 10 paid credits = 10 × 1.5 = 15.00 EUR = 1500 cents;
5 granted credits = 5 × 1.5 = 7.50 EUR = 750 cents.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from uuid import UUID

import pytest
from fastapi.testclient import TestClient

from tests.integration.billing_support import list_invoices, post
from tests.integration.support import FakeClock

pytestmark = pytest.mark.store


def _customer(api: TestClient, external_id: str = "cus_1") -> None:
    post(api, "customers", {"customer": {"external_id": external_id, "currency": "EUR"}})


def _wallet(api: TestClient, **fields: Any) -> dict[str, Any]:
    body = {"external_customer_id": "cus_1", "currency": "EUR", "rate_amount": "1.5", **fields}
    wallet: dict[str, Any] = post(api, "wallets", {"wallet": body})["wallet"]
    return wallet


def _get(api: TestClient, lago_id: str) -> dict[str, Any]:
    r = api.get(f"/api/v1/wallets/{lago_id}")
    assert r.status_code == 200, r.text
    wallet: dict[str, Any] = r.json()["wallet"]
    return wallet


def _ledger(api: TestClient, lago_id: str, **query: Any) -> list[dict[str, Any]]:
    r = api.get(f"/api/v1/wallets/{lago_id}/wallet_transactions", params=query)
    assert r.status_code == 200, r.text
    rows: list[dict[str, Any]] = r.json()["wallet_transactions"]
    return rows


def test_purchase_is_a_numbered_credit_invoice_and_lands_when_paid(
    api: TestClient, org: tuple[UUID, str]
) -> None:
    _customer(api)
    wallet = _wallet(
        api,
        name="Prepaid",
        paid_credits="10",
        granted_credits="5",
        invoice_requires_successful_payment=True,
    )
    # Granted credits land at once (750); the purchase waits for its payment.
    assert (wallet["balance_cents"], wallet["credits_balance"]) == (750, "5.0")
    assert (wallet["status"], wallet["rate_amount"], wallet["priority"]) == ("active", "1.5", 50)
    assert wallet["ongoing_balance_cents"] == 750 and wallet["ongoing_usage_balance_cents"] == 0

    (invoice,) = list_invoices(api, invoice_type="credit")
    prefix = f"ACM-{org[0].hex[-4:].upper()}"
    assert (invoice["status"], invoice["payment_status"]) == ("finalized", "pending")
    assert (invoice["number"], invoice["total_amount_cents"]) == (f"{prefix}-000001", 1500)
    assert invoice["taxes_amount_cents"] == 0 and invoice["fees_amount_cents"] == 1500
    (fee,) = invoice["fees"]
    assert (fee["item"]["type"], fee["amount_cents"], fee["taxes_amount_cents"]) == (
        "credit",
        1500,
        0,
    )

    rows = _ledger(api, wallet["lago_id"])
    by_kind = {r["transaction_status"]: r for r in rows}
    assert by_kind["purchased"]["status"] == "pending"
    assert by_kind["purchased"]["lago_invoice_id"] == invoice["lago_id"]
    assert (by_kind["purchased"]["amount"], by_kind["purchased"]["credit_amount"]) == (
        "15.00",
        "10.0",
    )
    assert by_kind["granted"]["status"] == "settled" and by_kind["granted"]["amount"] == "7.50"
    assert [r["transaction_status"] for r in _ledger(api, wallet["lago_id"], status="pending")] == [
        "purchased"
    ]

    r = api.put(
        f"/api/v1/invoices/{invoice['lago_id']}", json={"invoice": {"payment_status": "succeeded"}}
    )
    assert r.status_code == 200, r.text
    paid = _get(api, wallet["lago_id"])
    # 1500 purchased + 750 granted = 2250 cents; 10 + 5 = 15 credits.
    assert (paid["balance_cents"], paid["credits_balance"]) == (2250, "15.0")
    assert {r["status"] for r in _ledger(api, wallet["lago_id"])} == {"settled"}
    # Paying again (or changing it back) never lands the credits twice.
    api.put(
        f"/api/v1/invoices/{invoice['lago_id']}", json={"invoice": {"payment_status": "pending"}}
    )
    api.put(
        f"/api/v1/invoices/{invoice['lago_id']}", json={"invoice": {"payment_status": "succeeded"}}
    )
    assert _get(api, wallet["lago_id"])["balance_cents"] == 2250


def test_purchase_without_required_payment_settles_at_once_and_failed_payment_fails(
    api: TestClient,
) -> None:
    _customer(api)
    wallet = _wallet(api, paid_credits="2")  # 2 × 1.5 = 3.00 EUR = 300 cents
    assert wallet["balance_cents"] == 300 and wallet["invoice_requires_successful_payment"] is False

    r = api.post(
        "/api/v1/wallet_transactions",
        json={
            "wallet_transaction": {
                "wallet_id": wallet["lago_id"],
                "paid_credits": "4",
                "invoice_requires_successful_payment": True,
            }
        },
    )
    assert r.status_code == 200, r.text
    (pending,) = r.json()["wallet_transactions"]
    assert (pending["status"], pending["amount"]) == ("pending", "6.00")  # 4 × 1.5
    api.put(
        f"/api/v1/invoices/{pending['lago_invoice_id']}",
        json={"invoice": {"payment_status": "failed"}},
    )
    failed = api.get(f"/api/v1/wallet_transactions/{pending['lago_id']}").json()
    assert failed["wallet_transaction"]["status"] == "failed"
    assert failed["wallet_transaction"]["failed_at"] is not None
    assert _get(api, wallet["lago_id"])["balance_cents"] == 300


def test_top_up_grant_and_void_return_a_list_and_voids_cannot_exceed_the_balance(
    api: TestClient,
) -> None:
    _customer(api)
    wallet = _wallet(api, granted_credits="10")  # 10 × 1.5 = 1500
    r = api.post(
        "/api/v1/wallet_transactions",
        json={
            "wallet_transaction": {
                "wallet_id": wallet["lago_id"],
                "granted_credits": "2.5",
                "voided_credits": "4",
            }
        },
    )
    assert r.status_code == 200, r.text
    rows = r.json()["wallet_transactions"]
    assert [(t["transaction_type"], t["transaction_status"], t["amount"]) for t in rows] == [
        ("inbound", "granted", "3.75"),  # 2.5 × 1.5
        ("outbound", "voided", "6.00"),  # 4 × 1.5
    ]
    after = _get(api, wallet["lago_id"])
    # 1500 + 375 − 600 = 1275 cents; 10 + 2.5 − 4 = 8.5 credits
    assert (after["balance_cents"], after["credits_balance"]) == (1275, "8.5")

    r = api.post(
        "/api/v1/wallet_transactions",
        json={"wallet_transaction": {"wallet_id": wallet["lago_id"], "voided_credits": "8.6"}},
    )
    assert r.status_code == 422
    assert r.json()["error_details"] == {"voided_credits": ["insufficient_credits"]}
    r = api.post(
        "/api/v1/wallet_transactions",
        json={"wallet_transaction": {"wallet_id": wallet["lago_id"], "voided_credits": "8.5"}},
    )
    emptied = _get(api, wallet["lago_id"])
    assert (emptied["balance_cents"], emptied["credits_balance"]) == (0, "0.0")
    assert len(_ledger(api, wallet["lago_id"], transaction_type="outbound")) == 2
    granted = _ledger(api, wallet["lago_id"], transaction_status="granted")
    assert sorted(t["amount"] for t in granted) == ["15.00", "3.75"]


def test_update_terminate_list_and_validation(api: TestClient, clock: FakeClock) -> None:
    _customer(api)
    _customer(api, "cus_2")
    wallet = _wallet(api, name="A", priority=3)
    r = api.put(
        f"/api/v1/wallets/{wallet['lago_id']}",
        json={"wallet": {"name": "B", "priority": 1, "expiration_at": "2030-01-01T00:00:00Z"}},
    )
    assert r.status_code == 200, r.text
    updated = r.json()["wallet"]
    assert (updated["name"], updated["priority"]) == ("B", 1)
    assert updated["expiration_at"] == "2030-01-01T00:00:00Z"

    r = api.put(f"/api/v1/wallets/{wallet['lago_id']}", json={"wallet": {"priority": 51}})
    assert r.status_code == 422 and r.json()["error_details"] == {"priority": ["value_is_invalid"]}

    for body, details in (
        ({"currency": "EUR", "rate_amount": "1"}, {"external_customer_id": ["value_is_mandatory"]}),
        (
            {"external_customer_id": "cus_1", "currency": "EUR", "rate_amount": "0"},
            {"rate_amount": ["value_is_invalid"]},
        ),
        (
            {"external_customer_id": "cus_1", "currency": "EUR", "rate_amount": True},
            {"rate_amount": ["value_is_invalid"]},
        ),
        (
            {"external_customer_id": "cus_1", "currency": "USD", "rate_amount": "1"},
            {"currency": ["currencies_does_not_match"]},
        ),
        (
            {
                "external_customer_id": "cus_1",
                "currency": "EUR",
                "rate_amount": "1",
                "paid_credits": "-1",
                "expiration_at": "2020-01-01T00:00:00Z",
            },
            {"paid_credits": ["value_is_invalid"], "expiration_at": ["invalid_date"]},
        ),
    ):
        r = api.post("/api/v1/wallets", json={"wallet": body})
        assert r.status_code == 422, body
        assert r.json()["error_details"] == details
    r = api.post(
        "/api/v1/wallets",
        json={"wallet": {"external_customer_id": "nobody", "currency": "EUR", "rate_amount": "1"}},
    )
    assert r.status_code == 404 and r.json()["code"] == "customer_not_found"

    _wallet(api, external_customer_id="cus_2")
    r = api.get("/api/v1/wallets", params={"external_customer_id": "cus_1"})
    assert [w["lago_id"] for w in r.json()["wallets"]] == [wallet["lago_id"]]
    assert r.json()["meta"]["total_count"] == 1
    assert api.get("/api/v1/wallets").json()["meta"]["total_count"] == 2
    assert api.get("/api/v1/customers/cus_2/wallets").json()["meta"]["total_count"] == 1

    r = api.delete(f"/api/v1/wallets/{wallet['lago_id']}")
    assert r.status_code == 200
    assert r.json()["wallet"]["status"] == "terminated"
    assert r.json()["wallet"]["terminated_at"] is not None
    assert api.delete(f"/api/v1/wallets/{wallet['lago_id']}").status_code == 200  # idempotent
    r = api.post(
        "/api/v1/wallet_transactions",
        json={"wallet_transaction": {"wallet_id": wallet["lago_id"], "granted_credits": "1"}},
    )
    assert r.status_code == 422 and r.json()["error_details"] == {
        "wallet_id": ["wallet_not_active"]
    }


def test_another_organizations_wallet_is_not_found(
    api: TestClient, client: TestClient, other_org: tuple[UUID, str]
) -> None:
    _customer(api)
    wallet = _wallet(api, granted_credits="1")
    (row,) = _ledger(api, wallet["lago_id"])
    other = {"Authorization": f"Bearer {other_org[1]}"}
    url = f"/api/v1/wallets/{wallet['lago_id']}"
    for method, path, body in (
        ("GET", url, None),
        ("PUT", url, {"wallet": {"name": "x"}}),
        ("DELETE", url, None),
        ("GET", f"{url}/wallet_transactions", None),
        ("GET", f"/api/v1/wallet_transactions/{row['lago_id']}", None),
        (
            "POST",
            "/api/v1/wallet_transactions",
            {"wallet_transaction": {"wallet_id": wallet["lago_id"], "granted_credits": "1"}},
        ),
    ):
        r = client.request(method, path, headers=other, json=body)
        assert r.status_code == 404, (method, path, r.text)
    assert client.get("/api/v1/wallets", headers=other).json()["meta"]["total_count"] == 0
    assert api.get("/api/v1/wallets/not-a-uuid").status_code == 404
    assert _get(api, wallet["lago_id"])["balance_cents"] == 150  # 1 × 1.5, unchanged


def test_created_at_comes_from_the_clock(api: TestClient, clock: FakeClock) -> None:
    clock.set(datetime(2024, 5, 1, 8, 30, tzinfo=UTC))
    _customer(api)
    wallet = _wallet(api)
    assert wallet["created_at"] == "2024-05-01T08:30:00Z"
