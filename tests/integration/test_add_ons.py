"""Add-ons through the API: Lago shapes (taxes inline), validation, isolation."""

from __future__ import annotations

from uuid import UUID

import pytest
from fastapi.testclient import TestClient

from tests.integration.billing_support import post

pytestmark = pytest.mark.store

SETUP = {
    "name": "Setup",
    "code": "setup",
    "invoice_display_name": "Setup fee",
    "amount_cents": 50000,
    "amount_currency": "EUR",
    "description": "Implementation",
    "tax_codes": ["vat"],
}


def test_add_on_crud_with_taxes(api: TestClient) -> None:
    post(api, "taxes", {"tax": {"code": "vat", "name": "VAT", "rate": "20"}})
    created = post(api, "add_ons", {"add_on": SETUP})["add_on"]
    assert created["amount_cents"] == 50000 and created["invoice_display_name"] == "Setup fee"
    assert [t["code"] for t in created["taxes"]] == ["vat"]
    assert api.get("/api/v1/add_ons/setup").json()["add_on"] == created
    assert api.get("/api/v1/add_ons").json()["meta"]["total_count"] == 1
    r = api.put("/api/v1/add_ons/setup", json={"add_on": {"amount_cents": 100, "tax_codes": []}})
    assert r.status_code == 200
    assert (r.json()["add_on"]["amount_cents"], r.json()["add_on"]["taxes"]) == (100, [])
    assert api.delete("/api/v1/add_ons/setup").status_code == 200
    assert api.get("/api/v1/add_ons/setup").status_code == 404
    assert api.get("/api/v1/add_ons").json()["add_ons"] == []


def test_add_on_validation(api: TestClient) -> None:
    r = api.post("/api/v1/add_ons", json={"add_on": {"code": "x", "amount_cents": -1}})
    assert r.status_code == 422
    assert r.json()["error_details"] == {
        "name": ["value_is_mandatory"],
        "amount_cents": ["value_is_invalid"],
        "amount_currency": ["value_is_mandatory"],
    }
    r = api.post("/api/v1/add_ons", json={"add_on": {**SETUP, "tax_codes": ["nope"]}})
    assert (r.status_code, r.json()["code"]) == (404, "tax_not_found")
    assert api.post("/api/v1/add_ons", json={}).status_code == 400
    assert api.get("/api/v1/add_ons").json()["add_ons"] == []


def test_another_organizations_add_on_is_not_found(
    api: TestClient, client: TestClient, other_org: tuple[UUID, str]
) -> None:
    post(api, "add_ons", {"add_on": {**SETUP, "tax_codes": []}})
    other = {"Authorization": f"Bearer {other_org[1]}"}
    for method in ("GET", "PUT", "DELETE"):
        r = client.request(method, "/api/v1/add_ons/setup", headers=other, json={"add_on": {}})
        assert (r.status_code, r.json()["code"]) == (404, "add_on_not_found")
    assert api.get("/api/v1/add_ons/setup").status_code == 200
