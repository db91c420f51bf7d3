"""Plans over HTTP: Lago payloads for every charge model, filters, 422s naming fields, tenancy."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

pytestmark = pytest.mark.store


def metric(
    api: TestClient, code: str, aggregation: str = "sum_agg", **extra: Any
) -> dict[str, Any]:
    body = {"name": code.title(), "code": code, "aggregation_type": aggregation, **extra}
    if aggregation != "count_agg":
        body.setdefault("field_name", "value")
    r = api.post("/api/v1/billable_metrics", json={"billable_metric": body})
    assert r.status_code == 200, r.text
    return r.json()["billable_metric"]


ALL_MODELS: list[tuple[str, dict[str, Any]]] = [
    ("standard", {"amount": "0.050"}),
    (
        "graduated",
        {
            "graduated_ranges": [
                {"from_value": 0, "to_value": 10, "per_unit_amount": "1", "flat_amount": "0"},
                {"from_value": 11, "to_value": None, "per_unit_amount": "0.5", "flat_amount": "2"},
            ]
        },
    ),
    (
        "graduated_percentage",
        {
            "graduated_percentage_ranges": [
                {"from_value": 0, "to_value": 100, "rate": "1", "flat_amount": "0"},
                {"from_value": 101, "to_value": None, "rate": "2", "flat_amount": "1"},
            ]
        },
    ),
    ("package", {"amount": "5", "package_size": 100, "free_units": 10}),
    ("percentage", {"rate": "1.5", "fixed_amount": "0.1", "free_units_per_events": 2}),
    (
        "volume",
        {
            "volume_ranges": [
                {"from_value": 0, "to_value": 100, "per_unit_amount": "2", "flat_amount": "1"},
                {"from_value": 101, "to_value": None, "per_unit_amount": "1", "flat_amount": "0"},
            ]
        },
    ),
    ("dynamic", {}),
]


def plan_body(code: str, charges: list[dict[str, Any]], **extra: Any) -> dict[str, Any]:
    return {
        "plan": {
            "name": code.title(),
            "code": code,
            "interval": "monthly",
            "amount_cents": 1000,
            "amount_currency": "EUR",
            "charges": charges,
            **extra,
        }
    }


def test_plan_crud_with_every_charge_model_and_a_filter(api: TestClient) -> None:
    storage = metric(api, "storage", filters=[{"key": "region", "values": ["eu", "us"]}])
    charges: list[dict[str, Any]] = [
        {"billable_metric_id": storage["lago_id"], "charge_model": model, "properties": props}
        for model, props in ALL_MODELS
    ]
    charges[0]["filters"] = [
        {
            "values": {"region": ["eu"]},
            "properties": {"amount": "0.04"},
            "invoice_display_name": "EU",
        }
    ]
    charges[0]["code"] = "storage_std"
    r = api.post("/api/v1/plans", json=plan_body("pro", charges, tax_codes=[]))
    assert r.status_code == 200, r.text
    plan = r.json()["plan"]
    assert [c["charge_model"] for c in plan["charges"]] == [m for m, _ in ALL_MODELS]
    first = plan["charges"][0]
    assert first["properties"] == {"amount": "0.050"}  # echoed exactly as sent
    assert first["lago_billable_metric_id"] == storage["lago_id"]
    assert first["billable_metric_code"] == "storage"
    assert first["filters"] == [
        {
            "invoice_display_name": "EU",
            "properties": {"amount": "0.04"},
            "values": {"region": ["eu"]},
        }
    ]
    assert plan["charges"][1]["properties"]["graduated_ranges"][1]["flat_amount"] == "2"
    assert plan["created_at"] and plan["lago_id"]

    got = api.get("/api/v1/plans/pro").json()["plan"]
    assert got["charges"] == plan["charges"]
    listing = api.get("/api/v1/plans").json()
    assert [p["code"] for p in listing["plans"]] == ["pro"] and listing["meta"]["total_count"] == 1

    # Update: the first charge keeps its id (sent back), the others are dropped.
    kept = {
        "id": first["lago_id"],
        "billable_metric_code": "storage",
        "charge_model": "standard",
        "properties": {"amount": "0.06"},
    }
    r = api.put("/api/v1/plans/pro", json={"plan": {"name": "Pro 2", "charges": [kept]}})
    assert r.status_code == 200, r.text
    updated = r.json()["plan"]
    assert updated["name"] == "Pro 2" and updated["amount_cents"] == 1000
    assert [c["lago_id"] for c in updated["charges"]] == [first["lago_id"]]
    assert updated["charges"][0]["properties"] == {"amount": "0.06"}
    assert updated["charges"][0]["filters"] == []

    assert api.delete("/api/v1/plans/pro").status_code == 200
    assert api.get("/api/v1/plans/pro").json()["code"] == "plan_not_found"
    # The code is free again.
    assert api.post("/api/v1/plans", json=plan_body("pro", [])).status_code == 200


def test_bad_plans_are_422_naming_the_field(api: TestClient) -> None:
    storage = metric(api, "storage")
    metric(api, "peak", "max_agg")
    cases: list[tuple[dict[str, Any], dict[str, list[str]]]] = [
        ({"plan": {"code": "x"}}, {"name": ["value_is_mandatory"]}),
        (
            plan_body("x", [], interval="daily"),
            {"interval": ["value_is_invalid"]},
        ),
        (
            plan_body("x", [], amount_currency="EURO"),
            {"amount_currency": ["value_is_invalid"]},
        ),
        (
            plan_body(
                "x",
                [
                    {
                        "billable_metric_id": storage["lago_id"],
                        "charge_model": "standard",
                        "properties": {"amount": "abc"},
                    }
                ],
            ),
            {"charges[0].properties.amount": ["invalid_amount"]},
        ),
        (
            plan_body(
                "x",
                [
                    {
                        "billable_metric_code": "nope",
                        "charge_model": "standard",
                        "properties": {"amount": "1"},
                    }
                ],
            ),
            {"charges[0].billable_metric_code": ["billable_metric_not_found"]},
        ),
        (
            plan_body(
                "x",
                [
                    {
                        "billable_metric_code": "peak",
                        "charge_model": "volume",
                        "pay_in_advance": True,
                        "properties": {"volume_ranges": []},
                    }
                ],
            ),
            None,  # any 422 naming charges[0]
        ),
        (plan_body("x", [], tax_codes=["vat"]), {"tax_codes": ["tax_not_found"]}),
    ]
    for body, details in cases:
        r = api.post("/api/v1/plans", json=body)
        assert r.status_code == 422, (body, r.text)
        got = r.json()["error_details"]
        if details is None:
            assert all(k.startswith("charges[0]") for k in got), got
        else:
            assert got == details, body
    assert api.post("/api/v1/plans", json={"name": "x"}).status_code == 400
    assert api.get("/api/v1/plans").json()["meta"]["total_count"] == 0
    assert api.post("/api/v1/plans", json=plan_body("dup", [])).status_code == 200
    r = api.post("/api/v1/plans", json=plan_body("dup", []))
    assert r.status_code == 422 and r.json()["error_details"] == {"code": ["value_already_exist"]}


def test_other_organizations_plans_are_not_found(
    api: TestClient, client: TestClient, other_org: tuple[Any, str]
) -> None:
    storage = metric(api, "storage")
    charge = {
        "billable_metric_id": storage["lago_id"],
        "charge_model": "standard",
        "properties": {"amount": "1"},
    }
    assert api.post("/api/v1/plans", json=plan_body("mine", [charge])).status_code == 200
    other = {"Authorization": f"Bearer {other_org[1]}"}
    assert client.get("/api/v1/plans/mine", headers=other).status_code == 404
    assert client.delete("/api/v1/plans/mine", headers=other).status_code == 404
    # Nor can another organization use my metric in its plan.
    r = client.post("/api/v1/plans", json=plan_body("theirs", [charge]), headers=other)
    assert r.status_code == 422
    assert r.json()["error_details"] == {
        "charges[0].billable_metric_id": ["billable_metric_not_found"]
    }
