"""Shared set-up for the billing tests: a catalog over HTTP, events at given instants."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from fastapi.testclient import TestClient

from tests.integration.support import FakeClock

GRADUATED = {
    "graduated_ranges": [
        {"from_value": 0, "to_value": 10, "per_unit_amount": "1", "flat_amount": "0"},
        {"from_value": 11, "to_value": None, "per_unit_amount": "0.5", "flat_amount": "0"},
    ]
}


def post(api: TestClient, path: str, body: dict[str, Any]) -> dict[str, Any]:
    r = api.post(f"/api/v1/{path}", json=body)
    assert r.status_code == 200, r.text
    result: dict[str, Any] = r.json()
    return result


def catalog(
    api: TestClient,
    *,
    pay_in_advance: bool = False,
    amount_cents: int = 1000,
    vat: str | None = "20",
    code: str = "pro",
    **plan: Any,
) -> dict[str, Any]:
    """VAT applied to the organization, two metrics, a monthly EUR plan with two charges:
    api_calls standard 0.05 EUR/call and storage graduated (1 EUR for 0–10 GB, 0.5 after)."""
    if vat is not None:
        post(
            api,
            "taxes",
            {"tax": {"code": "vat", "name": "VAT", "rate": vat, "applied_to_organization": True}},
        )
    metrics = {}
    for metric, field in (("api_calls", "value"), ("storage", "gb")):
        created = post(
            api,
            "billable_metrics",
            {
                "billable_metric": {
                    "name": metric.replace("_", " ").title(),
                    "code": metric,
                    "aggregation_type": "sum_agg",
                    "field_name": field,
                }
            },
        )
        metrics[metric] = created["billable_metric"]["lago_id"]
    created: dict[str, Any] = post(
        api,
        "plans",
        {
            "plan": {
                "name": code.title(),
                "code": code,
                "interval": "monthly",
                "amount_cents": amount_cents,
                "amount_currency": "EUR",
                "pay_in_advance": pay_in_advance,
                "charges": [
                    {
                        "billable_metric_id": metrics["api_calls"],
                        "charge_model": "standard",
                        "properties": {"amount": "0.05"},
                    },
                    {
                        "billable_metric_id": metrics["storage"],
                        "charge_model": "graduated",
                        "properties": GRADUATED,
                    },
                ],
                **plan,
            }
        },
    )["plan"]
    return created


def subscribe(
    api: TestClient,
    clock: FakeClock,
    at: datetime,
    *,
    customer: str = "cus_1",
    external_id: str = "sub_1",
    plan_code: str = "pro",
    timezone: str | None = None,
) -> dict[str, Any]:
    clock.set(at)
    body: dict[str, Any] = {"external_id": customer, "name": "Acme", "currency": "EUR"}
    if timezone:
        body["timezone"] = timezone
    post(api, "customers", {"customer": body})
    subscription: dict[str, Any] = post(
        api,
        "subscriptions",
        {
            "subscription": {
                "external_customer_id": customer,
                "plan_code": plan_code,
                "external_id": external_id,
            }
        },
    )["subscription"]
    return subscription


def usage(
    api: TestClient,
    clock: FakeClock,
    at: datetime,
    code: str,
    properties: dict[str, Any],
    *,
    external_id: str = "sub_1",
) -> None:
    clock.set(at)
    post(
        api,
        "events",
        {
            "event": {
                "transaction_id": f"{code}-{at.isoformat()}",
                "external_subscription_id": external_id,
                "code": code,
                "timestamp": int(at.timestamp()),
                "properties": properties,
            }
        },
    )


def list_invoices(api: TestClient, **query: Any) -> list[dict[str, Any]]:
    r = api.get("/api/v1/invoices", params=query)
    assert r.status_code == 200, r.text
    found: list[dict[str, Any]] = r.json()["invoices"]
    return found


def fees_by_code(invoice: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {f["item"]["code"]: f for f in invoice["fees"]}
