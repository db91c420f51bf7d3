"""Customers, taxes and billable metrics over HTTP: Lago payloads, errors, tenancy."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

pytestmark = pytest.mark.store
JSON = {"content-type": "application/json"}


def test_customer_upsert_get_list_delete(api: TestClient) -> None:
    body = {
        "customer": {
            "external_id": "cus_1",
            "name": "Acme",
            "currency": "eur",
            "country": "fr",
            "timezone": "Europe/Paris",
            "billing_configuration": {"invoice_grace_period": 3, "payment_provider": "stripe"},
            "metadata": [{"key": "tier", "value": "gold", "display_in_invoice": True}],
            "shipping_address": {"city": "Paris"},  # a Lago field we ignore for now
        }
    }
    r = api.post("/api/v1/customers", json=body)
    assert r.status_code == 200, r.text
    c = r.json()["customer"]
    assert (c["currency"], c["country"], c["applicable_timezone"]) == ("EUR", "FR", "Europe/Paris")
    assert c["billing_configuration"]["invoice_grace_period"] == 3
    assert c["metadata"][0]["key"] == "tier" and c["sequential_id"] == 1
    r = api.post("/api/v1/customers", json={"customer": {"external_id": "cus_1", "email": "a@b.c"}})
    updated = r.json()["customer"]
    assert updated["lago_id"] == c["lago_id"]
    assert (updated["name"], updated["email"]) == ("Acme", "a@b.c")
    api.post("/api/v1/customers", json={"customer": {"external_id": "cus_2"}})
    listing = api.get("/api/v1/customers?per_page=1").json()
    assert [x["external_id"] for x in listing["customers"]] == ["cus_2"]
    assert listing["meta"]["total_count"] == 2
    assert api.delete("/api/v1/customers/cus_1").json()["customer"]["external_id"] == "cus_1"
    r = api.get("/api/v1/customers/cus_1")
    assert r.status_code == 404 and r.json()["code"] == "customer_not_found"
    assert api.delete("/api/v1/customers/cus_1").status_code == 404
    again = api.post("/api/v1/customers", json={"customer": {"external_id": "cus_1"}}).json()
    assert again["customer"]["lago_id"] != c["lago_id"]  # a new customer after deletion


def test_customer_bad_input_stores_nothing(api: TestClient) -> None:
    assert api.post("/api/v1/customers", content=b"{", headers=JSON).status_code == 400
    assert api.post("/api/v1/customers", json={"name": "x"}).status_code == 400
    r = api.post(
        "/api/v1/customers",
        json={"customer": {"name": "x", "net_payment_term": -1, "email": 5}},
    )
    assert r.status_code == 422
    assert r.json()["error_details"] == {
        "external_id": ["value_is_mandatory"],
        "email": ["value_is_invalid"],
        "net_payment_term": ["value_is_invalid"],
    }
    r = api.post(
        "/api/v1/customers",
        json={"customer": {"external_id": "c", "currency": "EURO", "timezone": "Nowhere"}},
    )
    assert r.status_code == 422
    assert r.json()["error_details"] == {
        "currency": ["value_is_invalid"],
        "timezone": ["invalid_timezone"],
    }
    assert api.get("/api/v1/customers").json()["meta"]["total_count"] == 0


def test_tax_crud_and_errors(api: TestClient) -> None:
    body = (
        b'{"tax": {"name": "VAT", "code": "vat", "rate": 19.60, "applied_to_organization": true}}'
    )
    r = api.post("/api/v1/taxes", content=body, headers=JSON)
    assert r.status_code == 200, r.text
    assert b'"rate":19.60' in r.content  # the exact text, as a JSON number like Lago
    dup = api.post("/api/v1/taxes", content=body, headers=JSON)
    assert dup.status_code == 422 and dup.json()["error_details"] == {
        "code": ["value_already_exist"]
    }
    r = api.put("/api/v1/taxes/vat", json={"tax": {"rate": "20", "code": "vat20"}})
    assert r.status_code == 200 and r.json()["tax"]["code"] == "vat20"
    assert api.get("/api/v1/taxes/vat").status_code == 404
    r = api.put("/api/v1/taxes/vat20", json={"tax": {"rate": "101"}})
    assert r.status_code == 422 and r.json()["error_details"] == {"rate": ["value_is_invalid"]}
    assert api.get("/api/v1/taxes/vat20").json()["tax"]["rate"] == 20
    r = api.post("/api/v1/taxes", json={"tax": {"rate": "x"}})
    assert r.status_code == 422 and r.json()["error_details"] == {"rate": ["value_is_invalid"]}
    r = api.post("/api/v1/taxes", json={"tax": {}})
    assert r.json()["error_details"] == {
        "code": ["value_is_mandatory"],
        "name": ["value_is_mandatory"],
        "rate": ["value_is_mandatory"],
    }
    assert api.get("/api/v1/taxes").json()["meta"]["total_count"] == 1
    assert api.delete("/api/v1/taxes/vat20").json()["tax"]["code"] == "vat20"
    assert api.get("/api/v1/taxes").json()["meta"]["total_count"] == 0


@pytest.mark.parametrize(
    ("metric", "details"),
    [
        (
            {"name": "S", "code": "s", "aggregation_type": "sum_agg"},
            {"field_name": ["value_is_mandatory"]},
        ),
        (
            {
                "name": "M",
                "code": "m",
                "aggregation_type": "max_agg",
                "field_name": "v",
                "recurring": True,
            },
            {"recurring": ["not_compatible_with_aggregation_type"]},
        ),
        (
            {"name": "X", "code": "x", "aggregation_type": "avg_agg"},
            {"aggregation_type": ["value_is_invalid"]},
        ),
        (
            {"name": "P", "code": "p", "aggregation_type": "percentile_agg", "field_name": "v"},
            {"percentile": ["value_is_mandatory"]},
        ),
        ({"code": "n", "aggregation_type": "count_agg"}, {"name": ["value_is_mandatory"]}),
    ],
)
def test_metric_validation(
    api: TestClient, metric: dict[str, Any], details: dict[str, Any]
) -> None:
    r = api.post("/api/v1/billable_metrics", json={"billable_metric": metric})
    assert r.status_code == 422
    assert r.json()["error_details"] == details
    assert api.get("/api/v1/billable_metrics").json()["meta"]["total_count"] == 0


def test_metric_crud(api: TestClient) -> None:
    metric = {
        "name": "Seats",
        "code": "seats",
        "aggregation_type": "unique_count_agg",
        "field_name": "user",
        "recurring": True,
        "filters": [{"key": "region", "values": ["eu", "us"]}],
        "percentile": None,
        "footprint_per_unit": "0.0021",
    }
    r = api.post("/api/v1/billable_metrics", json={"billable_metric": metric})
    assert r.status_code == 200, r.text
    m = r.json()["billable_metric"]
    assert m["filters"] == [{"key": "region", "values": ["eu", "us"]}]
    assert m["footprint_per_unit"] == "0.0021" and m["recurring"] is True
    dup = api.post("/api/v1/billable_metrics", json={"billable_metric": metric})
    assert dup.json()["error_details"] == {"code": ["value_already_exist"]}
    r = api.put(
        "/api/v1/billable_metrics/seats",
        json={"billable_metric": {"aggregation_type": "count_agg"}},
    )
    assert r.status_code == 422  # recurring is not allowed with count_agg
    r = api.put("/api/v1/billable_metrics/seats", json={"billable_metric": {"name": "Users"}})
    assert r.json()["billable_metric"]["name"] == "Users"
    assert api.delete("/api/v1/billable_metrics/seats").status_code == 200
    assert api.get("/api/v1/billable_metrics/seats").json()["code"] == "billable_metric_not_found"


def test_other_organizations_objects_are_404(
    client: TestClient, org: tuple[Any, str], other_org: tuple[Any, str]
) -> None:
    mine = {"Authorization": f"Bearer {org[1]}"}
    theirs = {"Authorization": f"Bearer {other_org[1]}"}
    client.post("/api/v1/customers", json={"customer": {"external_id": "c"}}, headers=mine)
    client.post("/api/v1/taxes", json={"tax": {"code": "t", "name": "T", "rate": 5}}, headers=mine)
    client.post(
        "/api/v1/billable_metrics",
        json={"billable_metric": {"code": "m", "name": "M", "aggregation_type": "count_agg"}},
        headers=mine,
    )
    for path, code in [
        ("/api/v1/customers/c", "customer_not_found"),
        ("/api/v1/taxes/t", "tax_not_found"),
        ("/api/v1/billable_metrics/m", "billable_metric_not_found"),
    ]:
        for method in ("GET", "DELETE"):
            r = client.request(method, path, headers=theirs)
            assert r.status_code == 404 and r.json()["code"] == code
        assert client.get(path, headers=mine).status_code == 200  # untouched
    r = client.put("/api/v1/taxes/t", json={"tax": {"rate": 1}}, headers=theirs)
    assert r.status_code == 404
    assert client.get("/api/v1/taxes/t", headers=mine).json()["tax"]["rate"] == 5
    assert client.get("/api/v1/customers", headers={"Authorization": "Bearer x"}).status_code == 401


def test_portal_link_and_openapi(api: TestClient) -> None:
    api.post("/api/v1/customers", json={"customer": {"external_id": "acme", "name": "Acme <b>"}})
    api.post(
        "/api/v1/events",
        json={
            "event": {"transaction_id": "1", "external_subscription_id": "acme", "code": "calls"}
        },
    )
    url = api.get("/api/v1/customers/acme/portal_url").json()["customer"]["portal_url"]
    page = api.get(url.replace("http://127.0.0.1:8000", ""))
    assert page.status_code == 200
    assert "Acme &lt;b&gt;" in page.text and "calls" in page.text
    assert api.get(url.replace("http://127.0.0.1:8000", "") + "x").status_code == 403  # tampered
    spec = api.get("/api/v1/openapi.json").json()
    assert "/api/v1/events/batch" in spec["paths"]
    assert api.get("/docs").status_code == 200
