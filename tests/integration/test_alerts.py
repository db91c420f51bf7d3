"""Subscription alerts: CRUD over the Lago v1 routes, and firing once per threshold per period.

Catalog (test_progressive_billing._catalog without thresholds): metric `units`, plan `metered`
monthly 10.00 EUR, 1.00 EUR/unit, so the current usage amount is units × 100 cents.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from uuid import UUID

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient

from releve.adapters.sql.tables_webhooks import webhooks
from releve.bootstrap import Container
from tests.integration.billing_support import subscribe
from tests.integration.support import FakeClock
from tests.integration.test_progressive_billing import _catalog, _units

pytestmark = pytest.mark.store
BASE = "/api/v1/subscriptions/sub_1/alerts"


def at(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=UTC)  # type: ignore[arg-type, misc]


def _setup(api: TestClient, clock: FakeClock) -> None:
    api.post("/api/v1/webhook_endpoints",
             json={"webhook_endpoint": {"webhook_url": "https://example.com/h"}})  # fmt: skip
    _catalog(api, thresholds=[])
    subscribe(api, clock, at(2024, 3, 1), plan_code="metered")


def _alert(api: TestClient, body: dict[str, Any]) -> dict[str, Any]:
    r = api.post(BASE, json={"alert": body})
    assert r.status_code == 200, r.text
    return dict(r.json()["alert"])


def _fired(container: Container) -> list[dict[str, Any]]:
    query = sa.select(webhooks.c.payload).where(webhooks.c.webhook_type == "alert.triggered")
    with container.engine.connect() as c:
        return [dict(row[0]["triggered_alert"] if "triggered_alert" in row[0] else row[0])
                for row in c.execute(query.order_by(webhooks.c.created_at))]  # fmt: skip


def test_amount_alert_fires_once_per_threshold_per_period(
    api: TestClient, clock: FakeClock, container: Container
) -> None:
    _setup(api, clock)
    created = _alert(api, {"alert_type": "current_usage_amount", "code": "spend", "name": "Spend",
                           "thresholds": [{"code": "warn", "value": 5000},
                                          {"code": "stop", "value": "10000"}]})  # fmt: skip
    assert created["thresholds"] == [
        {"code": "warn", "value": "5000", "recurring": False},
        {"code": "stop", "value": "10000", "recurring": False},
    ]
    _units(api, clock, at(2024, 3, 2), 49)
    container.usage_evaluator.drain()
    assert _fired(container) == []  # 49.00 < 50.00
    _units(api, clock, at(2024, 3, 3), 1)  # 50.00: reaches "warn" exactly
    container.usage_evaluator.drain()
    (warn,) = _fired(container)
    assert warn["alert_code"] == "spend" and warn["alert_type"] == "current_usage_amount"
    assert warn["current_value"] == "5000" and warn["previous_value"] == "0"
    assert warn["crossed_thresholds"] == [{"code": "warn", "value": "5000", "recurring": False}]
    assert warn["external_subscription_id"] == "sub_1"
    assert warn["external_customer_id"] == "cus_1"
    _units(api, clock, at(2024, 3, 4), 10)  # 60.00: nothing new
    container.usage_evaluator.drain()
    container.alerts.evaluate_all()
    assert len(_fired(container)) == 1
    _units(api, clock, at(2024, 3, 5), 45)  # 105.00: "stop"
    container.usage_evaluator.drain()
    stop = _fired(container)[1]
    assert stop["crossed_thresholds"] == [{"code": "stop", "value": "10000", "recurring": False}]
    assert stop["previous_value"] == "5000" and stop["current_value"] == "10500"

    listed = api.get(f"{BASE}/spend/triggered_alerts").json()
    assert [t["current_value"] for t in listed["triggered_alerts"]] == ["10500", "5000"]
    assert listed["meta"]["total_count"] == 2

    # April: a new period, the usage starts at 0; both thresholds fire again (at once).
    _units(api, clock, at(2024, 4, 2), 120)
    container.usage_evaluator.drain()
    april = _fired(container)[2]
    assert [t["code"] for t in april["crossed_thresholds"]] == ["warn", "stop"]
    assert april["current_value"] == "12000"
    assert len(_fired(container)) == 3


def test_units_alert_with_recurring_threshold(
    api: TestClient, clock: FakeClock, container: Container
) -> None:
    _setup(api, clock)
    _alert(api, {"alert_type": "billable_metric_current_usage_units", "code": "units",
                 "billable_metric_code": "units",
                 "thresholds": [{"value": "10"}, {"value": "25", "recurring": True}]})  # fmt: skip
    _units(api, clock, at(2024, 3, 2), 9)
    container.usage_evaluator.drain()
    assert _fired(container) == []
    _units(api, clock, at(2024, 3, 3), 30)  # 39 units: 10, then 10 + 25 = 35
    container.usage_evaluator.drain()
    (first,) = _fired(container)
    assert first["crossed_thresholds"] == [
        {"code": None, "value": "10", "recurring": False},
        {"code": None, "value": "35", "recurring": True},
    ]
    assert first["billable_metric_code"] == "units"
    _units(api, clock, at(2024, 3, 4), 20)  # 59: still below 60
    container.usage_evaluator.drain()
    assert len(_fired(container)) == 1
    _units(api, clock, at(2024, 3, 5), 1)  # 60 = 35 + 25
    container.usage_evaluator.drain()
    assert _fired(container)[1]["crossed_thresholds"] == [
        {"code": None, "value": "60", "recurring": True}
    ]


def test_evaluator_thread_fires_after_the_ingest_that_crosses(
    api: TestClient, clock: FakeClock, container: Container
) -> None:
    _setup(api, clock)
    _alert(api, {"alert_type": "current_usage_amount", "code": "spend",
                 "thresholds": [{"value": 5000}]})  # fmt: skip
    container.usage_evaluator.start()
    try:
        _units(api, clock, at(2024, 3, 2), 60)
        container.usage_evaluator.drain()  # waits for the thread to be idle (no sleep)
        assert len(_fired(container)) == 1
    finally:
        container.usage_evaluator.stop()


def test_crud_validation_and_isolation(
    api: TestClient, clock: FakeClock, other_org: tuple[UUID, str]
) -> None:
    _setup(api, clock)
    body = {"alert_type": "current_usage_amount", "code": "a1", "thresholds": [{"value": 100}]}
    _alert(api, body)
    again = api.post(BASE, json={"alert": body})
    assert again.status_code == 422
    assert again.json()["error_details"] == {"code": ["value_already_exist"]}
    thresholds = [{"value": "-1"}, {"value": "x", "recurring": True}]
    bad = api.post(BASE, json={"alert": {"alert_type": "billable_metric_current_usage_amount",
                                         "code": "a2", "thresholds": thresholds}})  # fmt: skip
    assert bad.status_code == 422
    assert bad.json()["error_details"] == {
        "billable_metric_code": ["value_is_mandatory"],
        "thresholds[0].value": ["value_is_invalid"],
        "thresholds[1].value": ["value_is_invalid"],
    }
    unknown = api.post(BASE, json={"alert": {**body, "code": "a3", "alert_type":
        "billable_metric_current_usage_units", "billable_metric_code": "nope"}})  # fmt: skip
    assert unknown.json()["error_details"] == {
        "billable_metric_code": ["billable_metric_not_found"]
    }
    assert api.get(BASE).json()["meta"]["total_count"] == 1

    put = api.put(f"{BASE}/a1", json={"alert": {"name": "Renamed", "thresholds": [{"value": 7}]}})
    assert put.status_code == 200, put.text
    assert put.json()["alert"]["name"] == "Renamed"
    assert put.json()["alert"]["thresholds"] == [{"code": None, "value": "7", "recurring": False}]
    batch = api.post(BASE, json={"alerts": [{**body, "code": "b1"}, {**body, "code": "b2"}]})
    assert [a["code"] for a in batch.json()["alerts"]] == ["b1", "b2"]

    other = {"Authorization": f"Bearer {other_org[1]}"}
    for response in (
        api.get(BASE, headers=other),
        api.get(f"{BASE}/a1", headers=other),
        api.put(f"{BASE}/a1", json={"alert": {"name": "x"}}, headers=other),
        api.delete(f"{BASE}/a1", headers=other),
        api.post(BASE, json={"alert": {**body, "code": "z"}}, headers=other),
        api.get(f"{BASE}/a1/triggered_alerts", headers=other),
    ):
        assert response.status_code == 404, response.text
    assert api.get(f"{BASE}/a1").status_code == 200  # untouched


def test_delete_one_and_all(api: TestClient, clock: FakeClock) -> None:
    _setup(api, clock)
    for code in ("a", "b", "c"):
        _alert(api, {"alert_type": "lifetime_usage_amount", "code": code,
                     "thresholds": [{"value": 100}]})  # fmt: skip
    assert api.delete(f"{BASE}/a").json()["alert"]["code"] == "a"
    assert api.get(f"{BASE}/a").status_code == 404
    assert [a["code"] for a in api.delete(BASE).json()["alerts"]] == ["b", "c"]
    assert api.get(BASE).json()["alerts"] == []
