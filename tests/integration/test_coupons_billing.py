"""Coupons on period invoices: hand-computed amounts, consumption over periods, drafts.

Catalog (billing_support.catalog): plan `pro`, monthly in arrears, 10.00 EUR; api_calls
standard 0.05 EUR/call; VAT 20 % applied to the organization. Subscription from 2024-01-01 UTC;
January's invoice is issued at Feb 1 00:00 UTC.
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


def coupon(api: TestClient, code: str, **terms: Any) -> dict[str, Any]:
    body = {"name": code.title(), "code": code, **terms}
    created: dict[str, Any] = post(api, "coupons", {"coupon": body})["coupon"]
    return created


def apply(api: TestClient, code: str, customer: str = "cus_1", **overrides: Any) -> dict[str, Any]:
    body = {"external_customer_id": customer, "coupon_code": code, **overrides}
    applied: dict[str, Any] = post(api, "applied_coupons", {"applied_coupon": body})[
        "applied_coupon"
    ]
    return applied


def applied_coupons(api: TestClient, **query: Any) -> dict[str, dict[str, Any]]:
    r = api.get("/api/v1/applied_coupons", params=query)
    assert r.status_code == 200, r.text
    return {a["coupon_code"]: a for a in r.json()["applied_coupons"]}


def bill(container: Container, clock: FakeClock, moment: datetime) -> None:
    clock.set(moment)
    run = container.billing.bill_due(moment)
    assert run.errors == []


def test_fixed_then_percentage_coupon_on_a_period_invoice(
    api: TestClient, clock: FakeClock, container: Container
) -> None:
    catalog(api)
    subscribe(api, clock, at(2024, 1, 1))
    clock.set(at(2024, 1, 2))
    coupon(api, "welcome", coupon_type="fixed_amount", amount_cents=300, amount_currency="EUR")
    clock.set(at(2024, 1, 3))
    coupon(api, "tenpct", coupon_type="percentage", percentage_rate="10")
    apply(api, "welcome")
    clock.set(at(2024, 1, 3, 1))
    apply(api, "tenpct")
    usage(api, clock, at(2024, 1, 15), "api_calls", {"value": 100})
    bill(container, clock, at(2024, 2, 1, 1))

    (invoice,) = list_invoices(api)
    # fees: subscription 1000 + 100 calls × 5 = 500 → 1500
    # coupons, oldest first: fixed 300 → base 1200; 10 % of 1200 = 120 → 420
    # taxable 1500 − 420 = 1080; VAT 20 % = 216; total 1080 + 216 = 1296
    assert invoice["status"] == "finalized"
    assert invoice["fees_amount_cents"] == 1500
    assert invoice["coupons_amount_cents"] == 420
    assert invoice["sub_total_excluding_taxes_amount_cents"] == 1080
    assert invoice["taxes_amount_cents"] == 216
    assert invoice["total_amount_cents"] == 1296
    assert sum(int(f["precise_coupons_amount_cents"]) for f in invoice["fees"]) == 420
    credits = {c["item"]["code"]: c for c in invoice["credits"]}
    assert {k: c["amount_cents"] for k, c in credits.items()} == {"welcome": 300, "tenpct": 120}
    assert credits["welcome"]["before_taxes"] is True
    assert credits["welcome"]["item"]["type"] == "coupon"
    # Both `once` coupons are used up.
    state = applied_coupons(api)
    assert state["welcome"]["amount_cents_remaining"] == 0
    assert state["welcome"]["status"] == "terminated"
    assert state["tenpct"]["status"] == "terminated"
    assert [c["amount_cents"] for c in state["welcome"]["credits"]] == [300]


def test_recurring_coupon_discounts_two_periods_then_stops(
    api: TestClient, clock: FakeClock, container: Container
) -> None:
    catalog(api)
    subscribe(api, clock, at(2024, 1, 1))
    coupon(
        api,
        "twice",
        coupon_type="percentage",
        percentage_rate="10",
        frequency="recurring",
        frequency_duration=2,
    )
    apply(api, "twice")
    totals = []
    for month in (2, 3, 4):
        bill(container, clock, at(2024, month, 1, 1))
        invoices = list_invoices(api)
        latest = max(invoices, key=lambda i: i["sequential_id"])
        totals.append((latest["coupons_amount_cents"], latest["total_amount_cents"]))
        remaining = applied_coupons(api)["twice"]["frequency_duration_remaining"]
        assert remaining == max(0, 3 - month)
    # Jan, Feb: 10 % of 1000 = 100; (1000 − 100) × 1.2 = 1080. Mar: no coupon, 1000 × 1.2 = 1200.
    assert totals == [(100, 1080), (100, 1080), (0, 1200)]
    assert applied_coupons(api)["twice"]["status"] == "terminated"


def test_a_fixed_coupon_larger_than_an_invoice_carries_over(
    api: TestClient, clock: FakeClock, container: Container
) -> None:
    catalog(api)
    subscribe(api, clock, at(2024, 1, 1))
    coupon(api, "big", coupon_type="fixed_amount", amount_cents=1500, amount_currency="EUR")
    apply(api, "big")
    bill(container, clock, at(2024, 2, 1, 1))
    (january,) = list_invoices(api)
    # 1000 of fees, coupon min(1500, 1000) = 1000 → nothing taxable, total 0; 500 left.
    assert (january["coupons_amount_cents"], january["total_amount_cents"]) == (1000, 0)
    assert january["payment_status"] == "succeeded"
    assert applied_coupons(api)["big"]["amount_cents_remaining"] == 500
    bill(container, clock, at(2024, 3, 1, 1))
    february = max(list_invoices(api), key=lambda i: i["sequential_id"])
    # coupon 500 → 500 taxable, VAT 100, total 600; the coupon is used up.
    assert (february["coupons_amount_cents"], february["total_amount_cents"]) == (500, 600)
    big = applied_coupons(api)["big"]
    assert (big["amount_cents_remaining"], big["status"]) == (0, "terminated")
    assert sorted(c["amount_cents"] for c in big["credits"]) == [500, 1000]


def test_a_draft_refreshed_twice_then_finalized_consumes_the_coupon_once(
    api: TestClient, clock: FakeClock, container: Container
) -> None:
    catalog(api)
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
    coupon(api, "once", coupon_type="fixed_amount", amount_cents=300, amount_currency="EUR")
    apply(api, "once")
    bill(container, clock, at(2024, 2, 1, 1))
    (draft,) = list_invoices(api, status="draft")
    assert draft["coupons_amount_cents"] == 300 and draft["credits"] == []
    for _ in range(2):
        r = api.put(f"/api/v1/invoices/{draft['lago_id']}/refresh")
        assert r.status_code == 200, r.text
        assert r.json()["invoice"]["coupons_amount_cents"] == 300
    assert applied_coupons(api)["once"]["amount_cents_remaining"] == 300  # drafts never consume
    r = api.put(f"/api/v1/invoices/{draft['lago_id']}/finalize")
    assert r.status_code == 200, r.text
    final = r.json()["invoice"]
    # (1000 − 300) × 1.2 = 840
    assert (final["coupons_amount_cents"], final["total_amount_cents"]) == (300, 840)
    assert [c["amount_cents"] for c in final["credits"]] == [300]
    state = applied_coupons(api)["once"]
    assert (state["amount_cents_remaining"], state["status"]) == (0, "terminated")
    assert len(state["credits"]) == 1
    # The next period has no coupon left.
    bill(container, clock, at(2024, 3, 4, 1))
    march = [i for i in list_invoices(api) if i["lago_id"] != draft["lago_id"]]
    assert [i["coupons_amount_cents"] for i in march] == [0]


def test_a_plan_limited_coupon_discounts_only_that_plans_invoice(
    api: TestClient, clock: FakeClock, container: Container
) -> None:
    catalog(api)
    post(
        api,
        "plans",
        {
            "plan": {
                "name": "Basic",
                "code": "basic",
                "interval": "monthly",
                "amount_cents": 2000,
                "amount_currency": "EUR",
            }
        },
    )
    subscribe(api, clock, at(2024, 1, 1))
    post(
        api,
        "subscriptions",
        {
            "subscription": {
                "external_customer_id": "cus_1",
                "plan_code": "basic",
                "external_id": "sub_2",
            }
        },
    )
    limited = coupon(
        api,
        "basic50",
        coupon_type="percentage",
        percentage_rate="50",
        frequency="forever",
        applies_to={"plan_codes": ["basic"]},
    )
    assert limited["limited_plans"] is True and limited["plan_codes"] == ["basic"]
    apply(api, "basic50")
    bill(container, clock, at(2024, 2, 1, 1))
    by_plan = {i["subscriptions"][0]["plan_code"]: i for i in list_invoices(api)}
    # pro: 1000, no coupon, × 1.2 = 1200. basic: 2000 − 50 % = 1000, × 1.2 = 1200.
    assert (by_plan["pro"]["coupons_amount_cents"], by_plan["pro"]["total_amount_cents"]) == (
        0,
        1200,
    )
    assert (by_plan["basic"]["coupons_amount_cents"], by_plan["basic"]["total_amount_cents"]) == (
        1000,
        1200,
    )
    assert applied_coupons(api)["basic50"]["status"] == "active"  # forever
