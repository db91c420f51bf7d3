"""Coupons and applied coupons through the API: Lago shapes, validation, Lago's rules, and
isolation between organizations."""

from __future__ import annotations

from datetime import timedelta
from typing import Any
from uuid import UUID

import pytest
from fastapi.testclient import TestClient

from tests.integration.billing_support import post
from tests.integration.support import FakeClock

pytestmark = pytest.mark.store

FIXED = {
    "name": "Welcome",
    "code": "welcome",
    "coupon_type": "fixed_amount",
    "amount_cents": 1000,
    "amount_currency": "EUR",
    "reusable": False,
}


def _errors(r: Any) -> dict[str, list[str]]:
    assert r.status_code == 422, r.text
    details: dict[str, list[str]] = r.json()["error_details"]
    return details


def test_coupon_crud_in_lago_shape(api: TestClient, clock: FakeClock) -> None:
    created = post(api, "coupons", {"coupon": FIXED})["coupon"]
    assert created["code"] == "welcome" and created["frequency"] == "once"
    assert created["expiration"] == "no_expiration" and created["terminated_at"] is None
    assert created["limited_plans"] is False and created["plan_codes"] == []
    assert api.get("/api/v1/coupons/welcome").json()["coupon"] == created
    listed = api.get("/api/v1/coupons").json()
    assert [c["code"] for c in listed["coupons"]] == ["welcome"]
    assert listed["meta"]["total_count"] == 1
    r = api.put("/api/v1/coupons/welcome", json={"coupon": {"name": "Hello", "amount_cents": 500}})
    assert r.status_code == 200 and r.json()["coupon"]["amount_cents"] == 500
    r = api.delete("/api/v1/coupons/welcome")
    assert r.status_code == 200 and r.json()["coupon"]["terminated_at"] is not None
    assert api.get("/api/v1/coupons/welcome").status_code == 404
    post(api, "coupons", {"coupon": FIXED})  # a deleted code may be re-created


def test_coupon_validation_names_fields(api: TestClient) -> None:
    r = api.post("/api/v1/coupons", json={"coupon": {"code": "x", "coupon_type": "fixed_amount"}})
    assert _errors(r) == {
        "name": ["value_is_mandatory"],
        "amount_cents": ["value_is_mandatory"],
        "amount_currency": ["value_is_mandatory"],
    }
    bad = {"name": "P", "code": "p", "coupon_type": "percentage", "percentage_rate": "120"}
    assert _errors(api.post("/api/v1/coupons", json={"coupon": bad})) == {
        "percentage_rate": ["value_is_invalid"]
    }
    recurring = {**FIXED, "frequency": "recurring"}
    assert _errors(api.post("/api/v1/coupons", json={"coupon": recurring})) == {
        "frequency_duration": ["value_is_mandatory"]
    }
    past = {**FIXED, "expiration": "time_limit", "expiration_at": "2020-01-01T00:00:00Z"}
    assert _errors(api.post("/api/v1/coupons", json={"coupon": past})) == {
        "expiration_at": ["invalid_date"]
    }
    both = {**FIXED, "applies_to": {"plan_codes": ["a"], "billable_metric_codes": ["b"]}}
    assert "applies_to" in _errors(api.post("/api/v1/coupons", json={"coupon": both}))
    unknown = {**FIXED, "applies_to": {"plan_codes": ["nope"]}}
    r = api.post("/api/v1/coupons", json={"coupon": unknown})
    assert (r.status_code, r.json()["code"]) == (404, "plans_not_found")
    post(api, "coupons", {"coupon": FIXED})
    assert _errors(api.post("/api/v1/coupons", json={"coupon": FIXED})) == {
        "code": ["value_already_exist"]
    }
    assert api.get("/api/v1/coupons").json()["meta"]["total_count"] == 1


def test_applying_coupons_follows_lagos_rules(api: TestClient, clock: FakeClock) -> None:
    post(api, "customers", {"customer": {"external_id": "cus_1"}})
    post(api, "customers", {"customer": {"external_id": "cus_usd", "currency": "USD"}})
    post(api, "coupons", {"coupon": FIXED})
    applied = post(
        api,
        "applied_coupons",
        {
            "applied_coupon": {
                "external_customer_id": "cus_1",
                "coupon_code": "welcome",
                "amount_cents": 700,
            }
        },
    )["applied_coupon"]
    assert applied["amount_cents"] == 700 and applied["amount_cents_remaining"] == 700
    assert applied["status"] == "active" and applied["external_customer_id"] == "cus_1"
    # The customer had no currency: the fixed coupon set it (Lago).
    assert api.get("/api/v1/customers/cus_1").json()["customer"]["currency"] == "EUR"
    again = {"external_customer_id": "cus_1", "coupon_code": "welcome"}
    r = api.post("/api/v1/applied_coupons", json={"applied_coupon": again})
    assert _errors(r) == {"coupon": ["coupon_is_not_reusable"]}
    usd = {"external_customer_id": "cus_usd", "coupon_code": "welcome"}
    r = api.post("/api/v1/applied_coupons", json={"applied_coupon": usd})
    assert _errors(r) == {"currency": ["currencies_does_not_match"]}
    wrong = {"external_customer_id": "cus_usd", "coupon_code": "welcome", "percentage_rate": 5}
    assert _errors(api.post("/api/v1/applied_coupons", json={"applied_coupon": wrong})) == {
        "percentage_rate": ["value_is_invalid"]
    }
    # Expired and terminated coupons cannot be applied.
    soon = (clock.now() + timedelta(days=1)).isoformat()
    post(
        api,
        "coupons",
        {
            "coupon": {
                "name": "Soon",
                "code": "soon",
                "coupon_type": "percentage",
                "percentage_rate": "10",
                "expiration": "time_limit",
                "expiration_at": soon,
            }
        },
    )
    clock.advance(timedelta(days=2))
    r = api.post(
        "/api/v1/applied_coupons",
        json={"applied_coupon": {"external_customer_id": "cus_usd", "coupon_code": "soon"}},
    )
    assert (r.status_code, r.json()["code"]) == (404, "coupon_not_found")
    api.delete("/api/v1/coupons/welcome")
    listed = api.get("/api/v1/applied_coupons", params={"status": "active"}).json()
    assert [a["lago_id"] for a in listed["applied_coupons"]] == [applied["lago_id"]]  # runs on
    r = api.delete(f"/api/v1/customers/cus_1/applied_coupons/{applied['lago_id']}")
    assert r.status_code == 200 and r.json()["applied_coupon"]["status"] == "terminated"
    assert (
        api.get("/api/v1/applied_coupons", params={"status": "active"}).json()["applied_coupons"]
        == []
    )
    by_customer = api.get("/api/v1/customers/cus_1/applied_coupons").json()["applied_coupons"]
    assert [a["status"] for a in by_customer] == ["terminated"]
    assert _errors(api.get("/api/v1/applied_coupons", params={"status": "x"})) == {
        "status": ["value_is_invalid"]
    }


def test_another_organizations_coupons_are_not_found(
    api: TestClient, client: TestClient, org: tuple[UUID, str], other_org: tuple[UUID, str]
) -> None:
    post(api, "customers", {"customer": {"external_id": "cus_1"}})
    post(api, "coupons", {"coupon": FIXED})
    applied = post(
        api,
        "applied_coupons",
        {"applied_coupon": {"external_customer_id": "cus_1", "coupon_code": "welcome"}},
    )["applied_coupon"]
    other = {"Authorization": f"Bearer {other_org[1]}"}
    for method, path in (
        ("GET", "/api/v1/coupons/welcome"),
        ("PUT", "/api/v1/coupons/welcome"),
        ("DELETE", "/api/v1/coupons/welcome"),
        ("DELETE", f"/api/v1/customers/cus_1/applied_coupons/{applied['lago_id']}"),
    ):
        r = client.request(method, path, headers=other, json={"coupon": {"name": "x"}})
        assert r.status_code == 404, (method, path, r.text)
    r = client.post(
        "/api/v1/applied_coupons",
        headers=other,
        json={"applied_coupon": {"external_customer_id": "cus_1", "coupon_code": "welcome"}},
    )
    assert (r.status_code, r.json()["code"]) == (404, "customer_not_found")
    assert client.get("/api/v1/applied_coupons", headers=other).json()["applied_coupons"] == []
    assert client.get("/api/v1/coupons", headers=other).json()["coupons"] == []
    assert api.get("/api/v1/coupons/welcome").json()["coupon"]["terminated_at"] is None
