"""The operator's billing day in a real headless Chromium, on demo data: sign in, find a
customer, subscribe it, terminate it, open its final invoice and void it; overview charts;
plans. Screenshots go to artifacts/screenshots/ (dashboard-*.png). Render times of each page
(server median of 3, browser load) are printed and saved with the others, never asserted.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from tests.e2e.browser.conftest import DemoServer, measure, screenshot, sign_in

pytestmark = pytest.mark.e2e


def test_subscribe_terminate_and_void_the_final_invoice(demo_server: DemoServer, page: Any) -> None:
    page.on("dialog", lambda dialog: dialog.accept())  # the Void confirmation
    sign_in(demo_server, page, "/invoices")
    currency = demo_server.api("GET", "/customers/globex").json()["customer"]["currency"]
    plan = "smart_energy" if currency == "EUR" else f"smart_energy_{currency.lower()}"

    page.get_by_role("navigation", name="Main").get_by_role("link", name="Overview").click()
    page.wait_for_selector(".chart-box .main-svg")  # usage per metric, drawn by plotly
    assert page.get_by_role("heading", name="Revenue, MRR and invoices").is_visible()
    assert page.get_by_role("heading", name="MRR", exact=True).is_visible()
    assert page.locator("figure.chart").count() >= 2  # usage + revenue per currency
    screenshot(page, "dashboard-overview")
    measure(demo_server, page, "overview", "/", prefix="dashboard ")

    page.get_by_role("navigation", name="Main").get_by_role("link", name="Customers").click()
    page.get_by_label("Search by name, external ID or email").fill("glob")
    page.keyboard.press("Enter")
    page.get_by_role("link", name="Globex").click()
    page.wait_for_url("**/customers/globex")

    page.locator("#subscribe summary").click()
    page.locator("#f-plan_code").select_option(plan)
    page.locator("#f-external_id").fill("globex_browser")
    first_day = datetime.now(UTC).strftime("%Y-%m-01T00:00")
    page.locator("#f-subscription_at").fill(first_day)
    page.get_by_role("button", name="Create subscription").click()
    assert page.get_by_text("Subscription globex_browser is active.").is_visible()
    screenshot(page, "dashboard-customer")
    measure(demo_server, page, "customer", "/customers/globex", prefix="dashboard ")

    row = page.locator("tr", has=page.locator("code", has_text="globex_browser"))
    row.get_by_role("link", name="Terminate…").click()
    assert page.get_by_text("This cannot be undone.").is_visible()
    page.get_by_role("button", name="Terminate now").click()
    page.wait_for_url("**/customers/globex?notice=*")
    assert page.get_by_text("Subscription globex_browser is terminated.").is_visible()
    final = demo_server.api("GET", "/invoices?external_customer_id=globex&per_page=1").json()[
        "invoices"
    ][0]
    invoices = page.locator("section[aria-labelledby=cinv-h]")
    invoices.locator(f'a[href="/invoices/{final["lago_id"]}"]').click()
    page.wait_for_selector("h1:has-text('Invoice')")
    assert page.get_by_text("Subtotal excluding taxes").is_visible()
    screenshot(page, "dashboard-invoice")
    measure(demo_server, page, "invoice", f"/invoices/{final['lago_id']}", prefix="dashboard ")
    if page.get_by_role("button", name="Finalize").count():
        page.get_by_role("button", name="Finalize").click()
        assert page.get_by_text("Finalized:").is_visible()
    page.get_by_role("button", name="Void").click()
    assert page.get_by_text("Voided: the invoice no longer counts").is_visible()
    assert page.locator("h1 .badge").inner_text() == "voided"
    voided = demo_server.api("GET", f"/invoices/{final['lago_id']}").json()["invoice"]
    assert voided["status"] == "voided"
    measure(demo_server, page, "invoices", "/invoices", prefix="dashboard ")
    assert page.console_errors == []


def test_plans_list_detail_and_a_validation_message(demo_server: DemoServer, page: Any) -> None:
    sign_in(demo_server, page, "/invoices")
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Plans").click()
    assert page.get_by_role("link", name="Cloud Pro").first.is_visible()
    screenshot(page, "dashboard-plans")
    measure(demo_server, page, "plans", "/plans", prefix="dashboard ")
    page.get_by_role("link", name="Cloud Pro").first.click()
    assert page.get_by_role("heading", name="Charges").is_visible()
    assert page.locator("table.breakdown").count() >= 1  # tiers shown as tables
    screenshot(page, "dashboard-plan")
    measure(demo_server, page, "plan", page.url.removeprefix(demo_server.url), prefix="dashboard ")

    page.goto(demo_server.url + "/plans/new")
    page.locator("#f-name").fill("Broken tiers")
    page.locator("#f-code").fill("broken_tiers")
    page.locator("#f-body").fill(
        '{"charges": [{"billable_metric_code": "api_calls", "charge_model": "graduated",'
        ' "properties": {"graduated_ranges": ['
        '{"from_value": 0, "to_value": 10, "per_unit_amount": "0", "flat_amount": "0"},'
        '{"from_value": 20, "to_value": null, "per_unit_amount": "1", "flat_amount": "0"}]}}]}'
    )
    page.get_by_role("button", name="Create plan").click()
    summary = page.locator("#error-summary").inner_text()
    assert "charges[0].properties.graduated_ranges" in summary
    assert "range 1 must start at the previous to_value" in summary
    screenshot(page, "dashboard-plan-form-errors")
    # The browser logs the 422 of the refused form, as it should; nothing else.
    assert [e for e in page.console_errors if "422" not in e] == []
