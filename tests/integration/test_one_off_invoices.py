"""One-off invoices (POST /invoices): add-on fees, taxes, numbering after earlier invoices.

Organization: VAT 20 % applied by default (billing_support.catalog). Add-ons: `setup` 50.00 EUR
taxed with its own `reduced` 5.5 % tax; `support` 12.50 EUR without taxes of its own (so VAT).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from uuid import UUID

import pytest
from fastapi.testclient import TestClient

from releve.bootstrap import Container
from tests.integration.billing_support import catalog, list_invoices, post, subscribe
from tests.integration.support import FakeClock

pytestmark = pytest.mark.store


def _add_ons(api: TestClient) -> None:
    post(api, "taxes", {"tax": {"code": "reduced", "name": "Reduced", "rate": "5.5"}})
    post(
        api,
        "add_ons",
        {
            "add_on": {
                "code": "setup",
                "name": "Setup",
                "amount_cents": 5000,
                "amount_currency": "EUR",
                "tax_codes": ["reduced"],
            }
        },
    )
    post(
        api,
        "add_ons",
        {
            "add_on": {
                "code": "support",
                "name": "Support",
                "amount_cents": 1250,
                "amount_currency": "EUR",
            }
        },
    )


def _one_off(api: TestClient, **body: Any) -> Any:
    return api.post("/api/v1/invoices", json={"invoice": body})


def test_one_off_invoice_with_two_add_on_fees_is_taxed_and_numbered_after_the_last(
    api: TestClient, clock: FakeClock, container: Container, org: tuple[UUID, str]
) -> None:
    catalog(api)
    subscribe(api, clock, datetime(2024, 1, 1, tzinfo=UTC))
    clock.set(datetime(2024, 2, 1, 1, tzinfo=UTC))
    container.billing.bill_due()
    (period,) = list_invoices(api)
    _add_ons(api)
    clock.set(datetime(2024, 2, 10, 9, tzinfo=UTC))
    r = _one_off(
        api,
        external_customer_id="cus_1",
        currency="EUR",
        fees=[
            {"add_on_code": "setup", "units": 2, "description": "Onboarding"},
            {"add_on_code": "support", "units": "1.5", "unit_amount_cents": 1333},
        ],
    )
    assert r.status_code == 200, r.text
    invoice = r.json()["invoice"]
    assert invoice["invoice_type"] == "one_off" and invoice["status"] == "finalized"
    assert invoice["sequential_id"] == period["sequential_id"] + 1
    assert invoice["number"].endswith(f"-{invoice['sequential_id']:06d}")
    setup, support = invoice["fees"]
    # setup: 2 × 5000 = 10000, reduced 5.5 % = 550
    assert (setup["amount_cents"], setup["taxes_amount_cents"]) == (10000, 550)
    assert setup["item"]["type"] == "add_on" and setup["description"] == "Onboarding"
    # support: 1.5 × 1333 = 1999.5 → 2000 (half-up, once); VAT 20 % = 400
    assert (support["amount_cents"], support["taxes_amount_cents"]) == (2000, 400)
    assert support["precise_amount"] == "19.995"
    # fees 12000, taxes 950, total 12950; no coupon on one-off invoices
    assert invoice["fees_amount_cents"] == 12000
    assert invoice["coupons_amount_cents"] == 0
    assert invoice["taxes_amount_cents"] == 950
    assert invoice["total_amount_cents"] == 12950
    assert {t["tax_code"]: t["amount_cents"] for t in invoice["applied_taxes"]} == {
        "reduced": 550,
        "vat": 400,
    }
    assert invoice["issuing_date"] == "2024-02-10"
    assert invoice["payment_due_date"] == "2024-02-10"  # net payment term 0
    assert api.get(f"/api/v1/invoices/{invoice['lago_id']}").json()["invoice"] == invoice


def test_one_off_invoice_fee_tax_codes_win_and_coupons_do_not_apply(
    api: TestClient, clock: FakeClock
) -> None:
    _add_ons(api)
    post(api, "customers", {"customer": {"external_id": "cus_1", "currency": "EUR"}})
    post(
        api,
        "coupons",
        {"coupon": {"code": "c", "name": "C", "coupon_type": "percentage", "percentage_rate": 50}},
    )
    post(
        api,
        "applied_coupons",
        {"applied_coupon": {"external_customer_id": "cus_1", "coupon_code": "c"}},
    )
    r = _one_off(
        api,
        external_customer_id="cus_1",
        fees=[{"add_on_code": "setup", "tax_codes": [], "unit_amount_cents": 999}],
    )
    assert r.status_code == 200, r.text
    invoice = r.json()["invoice"]
    # 1 × 999, explicitly untaxed, no coupon: total 999
    assert (invoice["total_amount_cents"], invoice["taxes_amount_cents"]) == (999, 0)
    assert invoice["currency"] == "EUR" and invoice["sequential_id"] == 1


def test_one_off_invoice_validation_and_not_found(
    api: TestClient, client: TestClient, other_org: tuple[UUID, str]
) -> None:
    _add_ons(api)
    post(api, "customers", {"customer": {"external_id": "cus_1", "currency": "USD"}})
    r = _one_off(api, external_customer_id="cus_1", fees=[])
    assert r.status_code == 422 and r.json()["error_details"] == {"fees": ["value_is_mandatory"]}
    r = _one_off(api, external_customer_id="cus_1", fees=[{"add_on_code": "setup", "units": "-1"}])
    assert r.json()["error_details"] == {"fees.0.units": ["value_is_invalid"]}
    r = _one_off(api, external_customer_id="cus_1", fees=[{"add_on_code": "nope"}])
    assert (r.status_code, r.json()["code"]) == (404, "add_on_not_found")
    r = _one_off(api, external_customer_id="cus_1", currency="EUR", fees=[{"add_on_code": "setup"}])
    assert r.json()["error_details"] == {"currency": ["currencies_does_not_match"]}
    r = _one_off(
        api, external_customer_id="cus_1", fees=[{"add_on_code": "setup", "tax_codes": ["x"]}]
    )
    assert (r.status_code, r.json()["code"]) == (404, "tax_not_found")
    assert list_invoices(api) == []
    client.headers["Authorization"] = f"Bearer {other_org[1]}"
    r = _one_off(client, external_customer_id="cus_1", fees=[{"add_on_code": "setup"}])
    assert (r.status_code, r.json()["code"]) == (404, "customer_not_found")
