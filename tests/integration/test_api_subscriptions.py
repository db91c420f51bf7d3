"""Subscriptions over HTTP: create (auto-customer), upgrade, downgrade, pending, terminate."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from fastapi.testclient import TestClient

from releve.bootstrap import Container
from tests.integration.support import FakeClock

pytestmark = pytest.mark.store


def make_plan(api: TestClient, code: str, amount_cents: int, **extra: Any) -> dict[str, Any]:
    body = {
        "name": code.title(),
        "code": code,
        "interval": "monthly",
        "amount_cents": amount_cents,
        "amount_currency": "EUR",
        "charges": [],
        **extra,
    }
    r = api.post("/api/v1/plans", json={"plan": body})
    assert r.status_code == 200, r.text
    return r.json()["plan"]


def subscribe(api: TestClient, plan_code: str, external_id: str = "sub_1", **extra: Any) -> Any:
    body = {"external_customer_id": "cus_1", "plan_code": plan_code, "external_id": external_id}
    return api.post("/api/v1/subscriptions", json={"subscription": {**body, **extra}})


def statuses(api: TestClient, query: str) -> list[tuple[str, str]]:
    r = api.get(f"/api/v1/subscriptions?{query}")
    assert r.status_code == 200, r.text
    return [(s["plan_code"], s["status"]) for s in r.json()["subscriptions"]]


def test_create_auto_creates_the_customer_and_shows_the_current_period(api: TestClient) -> None:
    make_plan(api, "basic", 1000)
    r = subscribe(api, "basic", name="Main")
    assert r.status_code == 200, r.text
    s = r.json()["subscription"]
    assert (s["status"], s["plan_code"], s["name"], s["billing_time"]) == (
        "active",
        "basic",
        "Main",
        "calendar",
    )
    assert s["started_at"] == "2024-03-15T12:00:00Z"
    # Calendar billing: the first period runs from the start day to the next month.
    assert s["current_billing_period_started_at"] == "2024-03-15T00:00:00Z"
    assert s["current_billing_period_ending_at"] == "2024-04-01T00:00:00Z"
    assert s["plan"]["code"] == "basic" and s["plan_amount_cents"] == 1000
    customer = api.get("/api/v1/customers/cus_1")
    assert (
        customer.status_code == 200
        and customer.json()["customer"]["lago_id"] == s["lago_customer_id"]
    )
    # The same request again is idempotent.
    again = subscribe(api, "basic").json()["subscription"]
    assert again["lago_id"] == s["lago_id"]
    assert api.get("/api/v1/subscriptions/sub_1").json()["subscription"]["lago_id"] == s["lago_id"]
    assert statuses(api, "external_customer_id=cus_1") == [("basic", "active")]
    assert statuses(api, "external_customer_id=nobody") == []


def test_anniversary_in_the_customers_time_zone(api: TestClient) -> None:
    api.post(
        "/api/v1/customers",
        json={"customer": {"external_id": "cus_1", "timezone": "Asia/Kolkata"}},
    )
    make_plan(api, "basic", 1000)
    s = subscribe(
        api, "basic", billing_time="anniversary", subscription_at="2024-02-10T08:00:00Z"
    ).json()["subscription"]
    # Feb 10 13:30 in Kolkata: periods run from the 10th, local midnight = 18:30 UTC the day before.
    assert s["current_billing_period_started_at"] == "2024-03-09T18:30:00Z"
    assert s["current_billing_period_ending_at"] == "2024-04-09T18:30:00Z"
    assert s["started_at"] == "2024-02-10T08:00:00Z"


def test_upgrade_then_downgrades_then_activation(
    api: TestClient, clock: FakeClock, container: Container
) -> None:
    make_plan(api, "basic", 1000)
    make_plan(api, "premium", 2000)
    make_plan(api, "cheap", 500)
    old = subscribe(api, "basic").json()["subscription"]
    clock.set(datetime(2024, 3, 20, 9, 0, tzinfo=UTC))
    r = subscribe(api, "premium")
    assert r.status_code == 200, r.text
    new = r.json()["subscription"]
    assert new["lago_id"] != old["lago_id"]
    assert (new["status"], new["started_at"], new["previous_plan_code"]) == (
        "active",
        "2024-03-20T09:00:00Z",
        "basic",
    )
    assert new["subscription_at"] == old["subscription_at"]  # the billing anchor is kept
    assert statuses(api, "") == [("premium", "active")]
    assert statuses(api, "status[]=terminated") == [("basic", "terminated")]

    # A downgrade waits for the end of the period.
    down = subscribe(api, "basic").json()["subscription"]
    assert (down["plan_code"], down["status"], down["next_plan_code"]) == (
        "premium",
        "active",
        "basic",
    )
    assert down["downgrade_plan_date"] == "2024-04-01"
    assert statuses(api, "status[]=pending") == [("basic", "pending")]
    # A second downgrade cancels the first.
    assert subscribe(api, "cheap").json()["subscription"]["next_plan_code"] == "cheap"
    assert sorted(statuses(api, "status[]=pending&status[]=canceled")) == [
        ("basic", "canceled"),
        ("cheap", "pending"),
    ]
    # At the period end the scheduler activates it.
    assert container.subscriptions.activate_due(datetime(2024, 3, 31, tzinfo=UTC)) == []
    clock.set(datetime(2024, 4, 1, 0, 5, tzinfo=UTC))
    assert len(container.subscriptions.activate_due()) == 1
    current = api.get("/api/v1/subscriptions/sub_1").json()["subscription"]
    assert (current["plan_code"], current["status"], current["started_at"]) == (
        "cheap",
        "active",
        "2024-04-01T00:00:00Z",
    )
    assert current["previous_plan_code"] == "premium"
    assert statuses(api, "status[]=terminated") == [
        ("premium", "terminated"),
        ("basic", "terminated"),
    ]


def test_future_start_is_pending_and_can_be_canceled(api: TestClient) -> None:
    make_plan(api, "basic", 1000)
    s = subscribe(api, "basic", subscription_at="2024-05-01T00:00:00Z").json()["subscription"]
    assert (s["status"], s["started_at"], s["current_billing_period_started_at"]) == (
        "pending",
        None,
        None,
    )
    r = api.put(
        "/api/v1/subscriptions/sub_1",
        json={"subscription": {"subscription_at": "2024-06-01T00:00:00Z", "name": "Later"}},
    )
    assert r.status_code == 200, r.text
    assert r.json()["subscription"]["subscription_at"] == "2024-06-01T00:00:00Z"
    r = api.delete("/api/v1/subscriptions/sub_1?status=pending")
    assert r.status_code == 200 and r.json()["subscription"]["status"] == "canceled"
    assert api.delete("/api/v1/subscriptions/sub_1?status=pending").status_code == 404


def test_terminate_and_errors(
    api: TestClient, client: TestClient, other_org: tuple[Any, str]
) -> None:
    make_plan(api, "basic", 1000)
    r = subscribe(api, "nope")
    assert r.status_code == 404 and r.json()["code"] == "plan_not_found"
    r = api.post("/api/v1/subscriptions", json={"subscription": {"plan_code": "basic"}})
    assert r.status_code == 422
    assert r.json()["error_details"] == {
        "external_customer_id": ["value_is_mandatory"],
        "external_id": ["value_is_mandatory"],
    }
    r = subscribe(api, "basic", billing_time="weekly", subscription_at="yesterday")
    assert r.status_code == 422
    assert r.json()["error_details"] == {
        "billing_time": ["value_is_invalid"],
        "subscription_at": ["invalid_date"],
    }
    assert api.post("/api/v1/subscriptions", json={"plan_code": "x"}).status_code == 400
    subscribe(api, "basic")
    other = {"Authorization": f"Bearer {other_org[1]}"}
    assert client.get("/api/v1/subscriptions/sub_1", headers=other).status_code == 404
    assert client.delete("/api/v1/subscriptions/sub_1", headers=other).status_code == 404
    r = api.delete("/api/v1/subscriptions/sub_1?on_termination_invoice=skip")
    assert r.status_code == 200
    done = r.json()["subscription"]
    assert (done["status"], done["terminated_at"], done["on_termination_invoice"]) == (
        "terminated",
        "2024-03-15T12:00:00Z",
        "skip",
    )
    assert api.delete("/api/v1/subscriptions/sub_1").status_code == 404
    assert api.get("/api/v1/subscriptions/sub_1").json()["subscription"]["status"] == "terminated"


def test_plan_overrides_make_a_child_plan(api: TestClient) -> None:
    r = api.post(
        "/api/v1/billable_metrics",
        json={
            "billable_metric": {"name": "Calls", "code": "calls", "aggregation_type": "count_agg"}
        },
    )
    assert r.status_code == 200
    charge = {
        "billable_metric_code": "calls",
        "charge_model": "standard",
        "properties": {"amount": "1"},
    }
    plan = make_plan(api, "basic", 1000, charges=[charge])
    parent_charge = plan["charges"][0]["lago_id"]
    overrides = {
        "amount_cents": 700,
        "charges": [{"id": parent_charge, "properties": {"amount": "0.5"}}],
    }
    s = subscribe(api, "basic", plan_overrides=overrides).json()["subscription"]
    assert s["plan"]["code"] == "basic" and s["plan"]["amount_cents"] == 700
    assert s["plan"]["lago_parent_id"] == plan["lago_id"]
    child_charge = s["plan"]["charges"][0]
    assert child_charge["properties"] == {"amount": "0.5"}
    assert child_charge["lago_parent_id"] == parent_charge
    # Overriding again still names the parent plan's charge.
    r = api.put(
        "/api/v1/subscriptions/sub_1",
        json={
            "subscription": {
                "plan_overrides": {
                    "charges": [{"id": parent_charge, "properties": {"amount": "0.25"}}]
                }
            }
        },
    )
    assert r.status_code == 200, r.text
    again = r.json()["subscription"]["plan"]
    assert again["amount_cents"] == 700 and again["lago_parent_id"] == plan["lago_id"]
    assert again["charges"][0]["lago_parent_id"] == parent_charge
    assert again["charges"][0]["properties"] == {"amount": "0.25"}
    # The parent plan is unchanged and still the only one listed.
    assert api.get("/api/v1/plans/basic").json()["plan"]["amount_cents"] == 1000
    assert api.get("/api/v1/plans").json()["meta"]["total_count"] == 1
    r = api.put(
        "/api/v1/subscriptions/sub_1",
        json={"subscription": {"plan_overrides": {"charges": [{"id": "nope"}]}}},
    )
    assert r.status_code == 422
    assert r.json()["error_details"] == {"plan_overrides.charges[0].id": ["charge_not_found"]}
