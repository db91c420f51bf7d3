"""Wallets and credit notes in a real headless Chromium, on demo data.

The operator gives Acme (the demo portal link's customer, EUR) a wallet through the API, tops
it up on the dashboard (3 paid + 12 granted credits at 1.00 EUR → 15.00 EUR), then issues a
credit note of 1.00 EUR before taxes on one of Acme's finalized invoices, estimate first. The
customer then sees both on the portal: the wallet's balance and movements, and the credit
note. Screenshots: artifacts/screenshots/money-*.png.
"""

from __future__ import annotations

import re
from typing import Any

import pytest

from tests.e2e.browser.conftest import DemoServer, screenshot, sign_in

pytestmark = pytest.mark.e2e


def test_top_up_credit_note_and_the_portal(demo_server: DemoServer, page: Any) -> None:
    r = demo_server.api(
        "POST",
        "/wallets",
        {
            "wallet": {
                "external_customer_id": "acme",
                "currency": "EUR",
                "rate_amount": "1",
                "name": "Browser credits",
            }
        },
    )
    assert r.status_code == 200, r.text
    wallet_id = r.json()["wallet"]["lago_id"]
    invoices = demo_server.api("GET", "/invoices?external_customer_id=acme&status=finalized")
    invoice = next(i for i in invoices.json()["invoices"] if i["total_amount_cents"] > 100)

    # Dashboard: top up from the customer page.
    sign_in(demo_server, page, "/customers/acme")
    wallets = page.locator("#wallets")
    assert "Browser credits" in wallets.inner_text()
    row = wallets.get_by_role("row").filter(has_text="Browser credits")
    row.get_by_role("link", name="Top up").click()
    page.wait_for_url(re.compile(f"/wallets/{wallet_id}"))
    page.get_by_role("button", name="Add credits").click()  # nothing entered: refused
    assert page.get_by_text("Enter paid credits, granted credits, or both").first.is_visible()
    page.console_errors.clear()  # the browser logs the refused form's 422, as it should
    page.get_by_label("Paid credits").fill("3")
    page.get_by_label("Granted credits").fill("12")
    page.get_by_role("button", name="Add credits").click()
    page.wait_for_url(re.compile(r"done=topped-up"))
    assert page.get_by_role("status").inner_text() == "Credits added."
    balances = page.locator(".wallet-balances").inner_text()
    assert "€15.00" in balances  # 3 + 12 credits at 1.00 EUR
    screenshot(page, "money-wallet-top-up")

    # Dashboard: a credit note on a finalized invoice, estimate first.
    page.goto(f"{demo_server.url}/invoices/{invoice['lago_id']}")
    page.get_by_role("link", name="Create credit note").click()
    page.locator("input[name^=item_]").first.fill("1")
    page.get_by_label("Reason").select_option("order_change")
    page.get_by_role("button", name="Estimate").click()
    estimate = page.locator(".estimate").inner_text()
    assert "Credit note total" in estimate and "Subtotal excluding taxes\t€1.00" in estimate
    screenshot(page, "money-credit-note-estimate")
    page.get_by_role("button", name="Issue credit note").click()
    page.wait_for_url(re.compile(r"/credit-notes/.+done=created"))
    number = page.locator("h1").inner_text().split()[2]
    assert page.get_by_role("status").inner_text() == "Credit note issued."
    screenshot(page, "money-credit-note")

    # Portal: the customer sees the wallet's movements and the credit note (Acme is in France:
    # amounts read the French way).
    page.goto(demo_server.portal_url)
    wallet = page.locator("#wallets .wallet", has_text="Browser credits")
    text = wallet.inner_text()
    assert "15,00\xa0€" in text and "Credits granted" in text and "Credits purchased" in text
    assert "Ongoing balance" in text and "usage so far this period" in text
    notes = page.locator("#credit-notes").inner_text()
    assert number in notes and "order change" in notes
    page.locator("#credit-notes").scroll_into_view_if_needed()
    screenshot(page, "money-portal")
    wallet.get_by_role("link", name="All movements").click()
    page.wait_for_url(re.compile(f"/wallets/{wallet_id}"))
    assert page.get_by_role("heading", name="Movements").is_visible()
    screenshot(page, "money-portal-wallet")
    assert page.console_errors == []
