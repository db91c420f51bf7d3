"""The portal's "spend wisely" and footprint sections in a real Chromium, desktop and phone.

Demo data: the printed portal link is Acme's (cloud_pro, EUR, monthly). The operator marks
cloud_starter public through the API; the customer sets a budget just above their spend so far
(≈ 85 %), sees the bar and the 80 % banner, the comparison and the footprint, on a 390 px phone
too. Screenshots: artifacts/screenshots/portal-spend*.png.
"""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Any

import pytest

from tests.e2e.browser.conftest import DemoServer, screenshot

pytestmark = pytest.mark.e2e


def _spend_cents(server: DemoServer) -> int:
    """Acme's usage so far, taxes included, over its EUR subscriptions (the budget's rule)."""
    subs = server.api("GET", "/subscriptions?external_customer_id=acme").json()["subscriptions"]
    total = 0
    for s in subs:
        r = server.api(
            "GET", f"/customers/acme/current_usage?external_subscription_id={s['external_id']}"
        )
        if r.status_code == 200 and r.json()["customer_usage"]["currency"] == "EUR":
            total += int(r.json()["customer_usage"]["total_amount_cents"])
    return total


def test_budget_comparison_and_footprint(demo_server: DemoServer, page: Any, browser: Any) -> None:
    r = demo_server.api("PUT", "/plans/cloud_starter", {"plan": {"public": True}})
    assert r.status_code == 200 and r.json()["plan"]["public"] is True
    # API calls add up per day (storage, a time-weighted level, has no daily figure).
    factor = {"footprint_per_unit": "0.0002", "footprint_unit": "kgCO2e"}
    r = demo_server.api("PUT", "/billable_metrics/api_calls", {"billable_metric": factor})
    assert r.status_code == 200 and r.json()["billable_metric"]["footprint_unit"] == "kgCO2e"
    spend = _spend_cents(demo_server)
    assert spend > 0, "the demo customer has usage this period"
    budget_cents = spend * 100 // 85  # ≈ 85 % used: past the 80 % alert, under 100 %
    amount = str(Decimal(budget_cents).scaleb(-2))

    page.goto(demo_server.portal_url)
    field = page.get_by_label(re.compile("(Set a|Change your) budget"))
    field.fill("-5")
    page.get_by_role("button", name="Save budget").click()
    assert page.get_by_text("Budget must be an amount above zero").is_visible()
    assert (
        page.get_by_label(re.compile("(Set a|Change your) budget")).get_attribute("aria-invalid")
        == "true"
    )
    page.console_errors.clear()  # the browser logs the 422 of the refused amount, as it should

    page.get_by_label(re.compile("(Set a|Change your) budget")).fill(amount)
    page.get_by_role("button", name="Save budget").click()
    page.wait_for_url(re.compile(r"budget=saved"))
    assert page.get_by_role("status").inner_text() == "Your budget is saved."
    bar = page.get_by_role("progressbar", name="Budget used")
    assert bar.is_visible() and int(bar.get_attribute("aria-valuenow") or 0) >= 80
    alert = page.locator("#budget [role=alert]")
    assert "You have used 80 % of your budget" in alert.inner_text()

    compare = page.locator("#compare")
    assert "On plan Cloud Starter you would have paid" in compare.inner_text()
    assert "then taxes" in compare.inner_text()  # the rule is on the page
    footprint = page.locator("#footprint")
    assert footprint.get_by_role("heading", name="Environmental footprint").is_visible()
    assert "CO2e" in footprint.inner_text()
    page.wait_for_selector("#footprint .chart-box .main-svg")  # the daily series is drawn
    screenshot(page, "portal-spend")
    assert page.console_errors == []

    phone = browser.new_context(viewport={"width": 390, "height": 844}, locale="fr-FR")
    try:
        small = phone.new_page()
        small.goto(demo_server.portal_url)
        small.wait_for_selector(".chart-box .main-svg")
        assert small.evaluate("document.documentElement.scrollWidth") <= 390
        # Keyboard: the amount field is reachable and named by its label.
        for _ in range(6):
            small.keyboard.press("Tab")
            if small.evaluate("document.activeElement.id") == "f-amount":
                break
        assert small.evaluate("document.activeElement.id") == "f-amount"
        assert small.get_by_role("progressbar", name="Budget used").is_visible()
        screenshot(small, "portal-spend-phone")
    finally:
        phone.close()

    page.get_by_role("button", name="Remove the budget").click()
    page.wait_for_url(re.compile(r"budget=removed"))
    assert page.get_by_label(re.compile("(Set a|Change your) budget")).is_visible()
    demo_server.api("PUT", "/plans/cloud_starter", {"plan": {"public": False}})
    blank = {"footprint_per_unit": None, "footprint_unit": None}
    demo_server.api("PUT", "/billable_metrics/api_calls", {"billable_metric": blank})
