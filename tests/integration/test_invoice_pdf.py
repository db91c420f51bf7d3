"""What a rendered invoice PDF says: its text, extracted with pypdf, against hand-computed
strings (money and dates per the customer's locale, each fee with its explanation and tiers).

Catalog (billing_support.catalog): VAT 20 % on the organization; plan `pro`, monthly 10.00 EUR
in arrears; api_calls standard 0.05 EUR/call; storage graduated 1 EUR for 0–10 GB, 0.5 after.
"""

from __future__ import annotations

import io
import re
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any
from uuid import UUID
from zoneinfo import ZoneInfo

import pytest
from fastapi.testclient import TestClient
from pypdf import PdfReader

from releve.bootstrap import Container
from releve.services.invoice_document_view import _Format
from tests.integration.billing_support import catalog, list_invoices, post, subscribe, usage
from tests.integration.support import FakeClock

pytestmark = pytest.mark.store


def at(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=UTC)  # type: ignore[arg-type, misc]


def pdf_text(content: bytes) -> str:
    """The PDF's text, every run of white space (no-break spaces too) as one space."""
    assert content.startswith(b"%PDF-")
    text = "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(content)).pages)
    return re.sub(r"[\s\u00a0\u202f]+", " ", text)


def january_invoice(
    api: TestClient, clock: FakeClock, container: Container, country: str = "US"
) -> dict[str, Any]:
    """January 2024, the whole month: plan 10.00; api_calls 30,000 × 0.05 = 1,500.00;
    storage 25 GB = 10 × 1 + 15 × 0.5 = 17.50; fees 1,527.50; VAT 20 % = 305.50;
    total 1,833.00 EUR."""
    catalog(api)
    subscribe(api, clock, at(2024, 1, 1))
    customer = {
        "external_id": "cus_1",
        "name": "Wayne Enterprises",
        "address_line1": "1007 Mountain Drive",
        "zipcode": "10001",
        "city": "Gotham",
        "country": country,
        "email": "billing@wayne.example",
    }
    post(api, "customers", {"customer": customer})
    usage(api, clock, at(2024, 1, 15, 9), "api_calls", {"value": 30000})
    usage(api, clock, at(2024, 1, 20, 9), "storage", {"gb": 25})
    clock.set(at(2024, 2, 1, 1))
    container.billing.bill_due()
    (invoice,) = list_invoices(api)
    assert invoice["total_amount_cents"] == 183300
    return invoice


def rendered(container: Container, org: tuple[UUID, str], invoice: dict[str, Any]) -> str:
    return pdf_text(container.invoice_documents.pdf_of(org[0], invoice["lago_id"]).content)


def test_eur_invoice_in_english_with_tiers_tax_and_totals(
    api: TestClient, clock: FakeClock, container: Container, org: tuple[UUID, str]
) -> None:
    invoice = january_invoice(api, clock, container)
    number = invoice["number"]
    text = rendered(container, org, invoice)
    expected = [
        f"Invoice {number} FROM Acme BILL TO Wayne Enterprises 1007 Mountain Drive "
        "10001 Gotham United States billing@wayne.example Customer ID: cus_1",
        f"Invoice number {number} Issuing date Feb 1, 2024 Payment due date Feb 1, 2024 "
        "Period Jan 1 – 31, 2024 Currency EUR",
        "Pro Jan 1 – 31, 2024 Plan Pro, Jan 2024: 10.00 EUR 1 €10.00 €10.00",
        "Api Calls Jan 1 – 31, 2024 Api Calls: 30000 units: 30000 × 0.05 EUR = 1500.00 EUR "
        "30,000 €0.05 €1,500.00",
        # The graduated fee: its explanation, then one row per tier (units, unit price, flat
        # fee, amount), then units and amount (no average unit price for tiers).
        "Storage Jan 1 – 31, 2024 Storage: 25 units: 10 × 1 EUR, 15 × 0.5 EUR = 17.50 EUR "
        "Tier Units Unit price Flat fee Amount "
        "First 10 units 10 €1.00 €0.00 €10.00 "
        "Over 10 units 15 €0.50 €0.00 €7.50 25 €17.50",
        "Fees €1,527.50 Subtotal excluding taxes €1,527.50 VAT 20% of €1,527.50 €305.50 "
        "Subtotal including taxes €1,833.00 Total due €1,833.00",
        f"Acme · Invoice {number} Page 1 of 1",
    ]
    for part in expected:
        assert part in text, part
    # A finalized, unpaid invoice carries no watermark; no coupon, credit note or prepaid line.
    for absent in ("DRAFT", "VOID", "Coupons", "Credit notes", "Prepaid credits"):
        assert absent not in text


def test_french_customer_gets_french_numbers_and_dates(
    api: TestClient, clock: FakeClock, container: Container, org: tuple[UUID, str]
) -> None:
    invoice = january_invoice(api, clock, container, country="FR")
    text = rendered(container, org, invoice)
    for part in (
        "Issuing date 1 févr. 2024",
        "Period 1–31 janv. 2024",
        "France",
        "30 000 0,05 € 1 500,00 €",
        "VAT 20 % of 1 527,50 € 305,50 €",
        "Total due 1 833,00 €",
    ):
        assert part in text, part


def test_jpy_invoice_has_no_minor_unit(
    api: TestClient, clock: FakeClock, container: Container, org: tuple[UUID, str]
) -> None:
    """¥5,000 a month + 1,234 calls × ¥3 = ¥3,702 → fees ¥8,702; tax 10 % = 870.2 → ¥870;
    total ¥9,572."""
    post(
        api,
        "taxes",
        {
            "tax": {
                "code": "ct",
                "name": "Consumption tax",
                "rate": "10",
                "applied_to_organization": True,
            }
        },
    )
    metric = post(
        api,
        "billable_metrics",
        {
            "billable_metric": {
                "name": "Calls",
                "code": "calls",
                "aggregation_type": "sum_agg",
                "field_name": "value",
            }
        },
    )["billable_metric"]
    post(
        api,
        "plans",
        {
            "plan": {
                "name": "Tokyo",
                "code": "tokyo",
                "interval": "monthly",
                "amount_cents": 5000,
                "amount_currency": "JPY",
                "pay_in_advance": False,
                "charges": [
                    {
                        "billable_metric_id": metric["lago_id"],
                        "charge_model": "standard",
                        "properties": {"amount": "3"},
                    }
                ],
            }
        },
    )
    clock.set(at(2024, 1, 1))
    post(
        api, "customers", {"customer": {"external_id": "jp_1", "name": "Kaisha", "currency": "JPY"}}
    )
    post(
        api,
        "subscriptions",
        {
            "subscription": {
                "external_customer_id": "jp_1",
                "plan_code": "tokyo",
                "external_id": "jp_sub",
            }
        },
    )
    usage(api, clock, at(2024, 1, 9), "calls", {"value": 1234}, external_id="jp_sub")
    clock.set(at(2024, 2, 1, 1))
    container.billing.bill_due()
    (invoice,) = list_invoices(api)
    assert invoice["currency"] == "JPY" and invoice["total_amount_cents"] == 9572
    text = rendered(container, org, invoice)
    for part in (
        "Tokyo Jan 1 – 31, 2024 Plan Tokyo, Jan 2024: 5000 JPY 1 ¥5,000 ¥5,000",
        "Calls: 1234 units: 1234 × 3 JPY = 3702 JPY 1,234 ¥3 ¥3,702",
        "Fees ¥8,702 Subtotal excluding taxes ¥8,702 Consumption tax 10% of ¥8,702 ¥870 "
        "Subtotal including taxes ¥9,572 Total due ¥9,572",
    ):
        assert part in text, part
    assert "¥9,572.00" not in text


def test_voided_invoice_is_stamped_void_and_rendered_again(
    api: TestClient, clock: FakeClock, container: Container, org: tuple[UUID, str]
) -> None:
    invoice = january_invoice(api, clock, container)
    before = container.invoice_documents.pdf_of(org[0], invoice["lago_id"]).content
    assert container.invoice_documents.pdf_of(org[0], invoice["lago_id"]).content == before
    assert api.post(f"/api/v1/invoices/{invoice['lago_id']}/void").status_code == 200
    after = rendered(container, org, invoice)
    assert "VOID" in after and "Total due €1,833.00" in after
    assert "VOID" not in pdf_text(before)


@pytest.mark.parametrize(
    ("amount", "currency", "shown"),
    [
        ("0.0005", "EUR", "€0.0005"),  # a configured price: exact
        ("12.5", "EUR", "€12.50"),
        ("0.03534136546184738955823293173", "USD", "≈ $0.0353414"),  # 8.80 $ / 249 units
        ("888.8888888888888888888888889", "JPY", "≈ ¥888.889"),
        ("0.07999999999999999999999999998", "EUR", "≈ €0.08"),
    ],
)
def test_an_average_unit_price_reads_at_six_digits(amount: str, currency: str, shown: str) -> None:
    assert _Format("en_US", ZoneInfo("UTC")).average_unit_price(Decimal(amount), currency) == shown
