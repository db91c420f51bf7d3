"""The customer downloads an invoice PDF from the portal, in a real headless Chromium.

Acme (the demo portal link's customer) opens its portal, opens its newest finalized invoice from
the invoices list, and clicks "Download PDF". The download is a PDF whose text (pypdf) names the
invoice number and its total, as the API reports them. Screenshot: artifacts/screenshots/
portal-invoice-pdf.png.
"""

from __future__ import annotations

import io
import re
from decimal import Decimal
from typing import Any

import pytest
from pypdf import PdfReader

from tests.e2e.browser.conftest import DemoServer, screenshot

pytestmark = pytest.mark.e2e


def test_the_customer_downloads_an_invoice_pdf_from_the_portal(
    demo_server: DemoServer, page: Any
) -> None:
    page.goto(demo_server.portal_url)
    invoices = demo_server.api("GET", "/invoices?external_customer_id=acme&status=finalized")
    assert invoices.status_code == 200, invoices.text
    numbers = {i["number"]: i for i in invoices.json()["invoices"]}
    link = page.get_by_role("link", name=re.compile("|".join(map(re.escape, numbers)))).first
    number = link.inner_text().strip()
    invoice = numbers[number]
    link.click()
    page.wait_for_url(re.compile(f"/invoices/{invoice['lago_id']}$"))
    assert page.get_by_role("heading", name=f"Invoice {number}").is_visible()
    screenshot(page, "portal-invoice-pdf")

    with page.expect_download() as info:
        page.get_by_role("link", name="Download PDF").click()
    download = info.value
    assert download.failure() is None
    data = download.path().read_bytes()
    assert data.startswith(b"%PDF")
    text = "\n".join(p.extract_text() or "" for p in PdfReader(io.BytesIO(data)).pages)
    assert number in text
    # The total as the customer reads it: EUR, two decimals, e.g. 1234 cents → "12.34", with
    # a thousands separator from 1,000.00 on (the demo customer's locale is English).
    assert invoice["currency"] == "EUR"
    total = Decimal(invoice["total_amount_cents"]).scaleb(-2)
    assert f"{total:,.2f}" in text, (f"{total:,.2f}", text)
    assert page.console_errors == []
