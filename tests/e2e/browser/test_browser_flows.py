"""Click through the dashboard and the portal in a real headless Chromium, on demo data.

Each main page is screenshotted (artifacts/screenshots/) and its render time measured: the
server's HTML response (median of 3 requests) and the browser's navigation to `load`. Times are
printed and saved, not asserted (machines differ); the target is under 300 ms of server time.
"""

from __future__ import annotations

import time
from typing import Any

import httpx
import pytest

from tests.e2e.browser.conftest import DemoServer, measure, screenshot, sign_in

pytestmark = pytest.mark.e2e


def test_sign_in_overview_and_wrong_key(demo_server: DemoServer, page: Any) -> None:
    page.goto(demo_server.url + "/sign-in")
    page.get_by_label("API key").fill("rlv_" + "w" * 40)
    page.get_by_role("button", name="Sign in").click()
    assert page.get_by_role("alert").inner_text().startswith("This API key is not valid")
    screenshot(page, "signin-error")
    page.console_errors.clear()  # the 401 of the wrong key is logged by the browser, as it should

    sign_in(demo_server, page)
    page.wait_for_selector(".chart-box .main-svg")  # plotly, served locally, drew the chart
    assert page.get_by_role("heading", name="Overview").is_visible()
    assert page.get_by_role("heading", name="Revenue, MRR and invoices").is_visible()
    screenshot(page, "overview")
    measure(demo_server, page, "overview", "/")
    page.get_by_role("link", name="90 days").click()
    page.wait_for_selector(".chart-box .main-svg")
    assert page.console_errors == []


def test_search_customer_detail_and_portal_link(demo_server: DemoServer, page: Any) -> None:
    sign_in(demo_server, page)
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Customers").click()
    page.get_by_label("Search by name, external ID or email").fill("glob")
    page.keyboard.press("Enter")
    page.wait_for_url("**/customers?q=glob")
    rows = page.locator("table.data tbody tr")
    assert rows.count() == 1
    screenshot(page, "customers")
    measure(demo_server, page, "customers", "/customers?q=glob")

    page.get_by_role("link", name="Globex").click()
    page.wait_for_url("**/customers/globex")
    assert page.get_by_role("heading", name="Recent events").is_visible()
    page.get_by_role("button", name="Get a portal link").click()
    link = page.get_by_label("Portal link (shown once; valid 30 days)")
    url = link.input_value()
    assert url.startswith(demo_server.url + "/portal/")
    assert page.get_by_role("button", name="Copy").is_visible()  # JS enhancement present
    screenshot(page, "customer")
    measure(demo_server, page, "customer", "/customers/globex")

    page.goto(url)
    assert page.get_by_role("heading", name="Your usage").is_visible()
    assert "Globex" in page.locator("header").inner_text()
    assert page.get_by_text("Projected for the whole period").is_visible()
    # The graduated line opens (no JS needed: <details>) into its sentence and its tiers.
    line = page.locator("details", has=page.locator("summary", has_text="API calls"))
    line.locator("summary").click()
    tiers = line.locator("table.breakdown")
    assert tiers.first.is_visible() and "Unit price" in tiers.first.inner_text()
    assert " units" in line.locator(".explain p").first.inner_text()
    screenshot(page, "portal-explained")
    line.get_by_role("link", name="Show the events behind this line").click()
    page.wait_for_selector("details[open] table.data caption >> text=The events behind")
    screenshot(page, "portal")
    invoices = page.locator("section[aria-labelledby=inv-h] table a")
    if invoices.count():  # the demo bills past months: each invoice explains its lines
        invoices.first.click()
        page.wait_for_selector("h1:has-text('Invoice')")
        assert page.get_by_text("Subtotal excluding taxes").is_visible()
        explained = page.locator("details.fee-details")
        if explained.count():
            explained.first.locator("summary").click()
            assert explained.first.locator("table.breakdown").is_visible()
        screenshot(page, "portal-invoice")
    assert page.console_errors == []


def test_portal_on_a_phone_and_bad_links(demo_server: DemoServer, browser: Any) -> None:
    context = browser.new_context(viewport={"width": 375, "height": 740}, locale="fr-FR")
    phone = context.new_page()
    phone.goto(demo_server.portal_url)
    phone.wait_for_selector(".chart-box .main-svg")
    width = phone.evaluate("document.documentElement.scrollWidth")
    assert width <= 375, "the portal must not scroll sideways on a phone"
    # Keyboard: Tab reaches the first usage line, Enter expands it.
    phone.keyboard.press("Tab")
    for _ in range(5):
        if phone.evaluate("document.activeElement.tagName") == "SUMMARY":
            break
        phone.keyboard.press("Tab")
    phone.keyboard.press("Enter")
    assert phone.locator("details[open]").count() == 1
    screenshot(phone, "portal-phone")
    started = time.perf_counter()
    r = httpx.get(demo_server.portal_url, timeout=10)
    demo_server.timings["portal"] = {"server_ms": round((time.perf_counter() - started) * 1000, 1)}
    assert r.status_code == 200
    phone.goto(demo_server.portal_url + "tampered")
    assert phone.get_by_role("heading", name="This link is not valid").is_visible()
    screenshot(phone, "portal-invalid")
    context.close()


def test_events_filter_unmatched_and_live_tail(demo_server: DemoServer, page: Any) -> None:
    sign_in(demo_server, page)
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Events").click()
    page.get_by_label("Status").select_option("unmatched")
    page.get_by_role("button", name="Filter").click()
    page.wait_for_url("**status=unmatched**")
    body = page.locator("table.data").last.inner_text()
    assert "api_cals" in body and "No billable metric has this code" in body
    screenshot(page, "events-unmatched")
    measure(demo_server, page, "events", "/events?status=unmatched")

    page.get_by_role("button", name="Start live tail").click()
    demo_server.api(
        "POST",
        "/events",
        {
            "event": {
                "transaction_id": "live_1",
                "external_subscription_id": "acme",
                "code": "seats",
                "properties": {"user_id": "u1"},
            }
        },
    ).raise_for_status()
    page.wait_for_selector("[data-tail-rows] tr", timeout=10_000)
    assert "seats" in page.locator("[data-tail-rows]").inner_text()
    assert page.console_errors == []


def test_catalog_metric_validation(demo_server: DemoServer, page: Any) -> None:
    sign_in(demo_server, page)
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Catalog").click()
    assert page.get_by_role("link", name="Storage").is_visible()
    measure(demo_server, page, "catalog", "/metrics")
    page.get_by_role("link", name="New billable metric").click()
    page.locator("#f-name").fill("Typo metric")
    page.locator("#f-code").fill("api_cals")
    page.get_by_label("Aggregation").select_option("sum_agg")
    page.get_by_role("button", name="Create metric").click()
    summary = page.locator("#error-summary")
    assert "Property to aggregate is required." in summary.inner_text()
    assert page.evaluate("document.activeElement.id") == "error-summary"
    screenshot(page, "metric-form-errors")
    page.get_by_label("Aggregation").select_option("count_agg")
    page.get_by_role("button", name="Create metric").click()
    page.wait_for_url("**/metrics/api_cals")
    screenshot(page, "metric")
