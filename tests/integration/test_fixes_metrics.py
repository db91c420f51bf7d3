"""Metric changes keep matching and the per-hour aggregates right (design.md §2: unmatched
events count automatically once the metric or subscription exists).

Clock 2024-03-15 12:00 UTC; subscription from 2024-03-01 (calendar, UTC).
"""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.integration.test_usage import by_code, ev, metric, plan, send, subscribe, usage

pytestmark = pytest.mark.store


def charge(code: str, amount: str = "1") -> dict[str, Any]:
    return {
        "billable_metric_code": code,
        "charge_model": "standard",
        "properties": {"amount": amount},
    }


def put_metric(api: TestClient, current: str, **changes: Any) -> None:
    r = api.put(f"/api/v1/billable_metrics/{current}", json={"billable_metric": changes})
    assert r.status_code == 200, r.text


def test_event_sent_before_its_metric_counts_once_metric_and_charge_exist(
    api: TestClient,
) -> None:
    metric(api, "calls", "count_agg")
    plan(api, [charge("calls")])
    subscribe(api)
    early = send(api, [ev("early", "storage", 2, gb="3"), ev("stray", "storage", 2, sub="nope")])
    assert [e["unmatched_reason"] for e in early] == ["unknown_metric_code"] * 2
    metric(api, "storage", field_name="gb")
    event = api.get("/api/v1/events/early").json()["event"]
    assert event["status"] == "matched" and event["lago_subscription_id"] is not None
    stray = api.get("/api/v1/events/stray").json()["event"]
    assert (stray["status"], stray["unmatched_reason"]) == ("unmatched", "unknown_subscription")
    r = api.put(
        "/api/v1/plans/p", json={"plan": {"charges": [charge("calls"), charge("storage", "2")]}}
    )
    assert r.status_code == 200, r.text
    storage = by_code(usage(api))["storage"]
    assert (storage["units"], storage["amount_cents"]) == ("3", 600)


def test_renaming_a_metric_counts_the_events_of_its_new_code(api: TestClient) -> None:
    metric(api, "calls", "count_agg")
    plan(api, [charge("calls")])
    subscribe(api)
    send(api, [ev("a", "calls", 2), ev("b", "calls_v2", 3), ev("c", "calls_v2", 4)])
    assert by_code(usage(api))["calls"]["events_count"] == 1
    put_metric(api, "calls", code="calls_v2")
    assert api.get("/api/v1/events/a").json()["event"]["unmatched_reason"] == "unknown_metric_code"
    renamed = by_code(usage(api))["calls_v2"]
    assert (renamed["events_count"], renamed["amount_cents"]) == (2, 200)


def test_changing_how_a_metric_counts_rebuilds_the_aggregates(api: TestClient) -> None:
    metric(api, "storage", field_name="gb")
    plan(api, [charge("storage")])
    subscribe(api)
    send(api, [ev("a", "storage", 2, gb="3", size="10"), ev("b", "storage", 3, gb="4", size="1")])
    assert by_code(usage(api))["storage"]["amount_cents"] == 700
    put_metric(api, "storage", aggregation_type="max_agg")  # another state shape
    assert by_code(usage(api))["storage"]["amount_cents"] == 400
    put_metric(api, "storage", field_name="size")
    assert by_code(usage(api))["storage"]["amount_cents"] == 1000
    put_metric(api, "storage", aggregation_type="count_agg")
    assert by_code(usage(api))["storage"]["amount_cents"] == 200
    put_metric(api, "storage", name="Disk")  # a label only: nothing to rebuild
    assert by_code(usage(api))["storage"]["amount_cents"] == 200
