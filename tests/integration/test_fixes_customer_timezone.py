"""Changing a customer's time zone rematches its subscriptions: the per-hour aggregates are
keyed by local hours, so they must follow the new zone (Kolkata is UTC+05:30)."""

from __future__ import annotations

from datetime import UTC, datetime
from uuid import UUID

import pytest
from fastapi.testclient import TestClient

from releve.bootstrap import Container
from tests.integration.test_usage import by_code, ev, metric, plan, send, subscribe, usage

pytestmark = pytest.mark.store


def hours(container: Container, org: tuple[UUID, str]) -> list[datetime]:
    with container.subscriptions._uow(read_only=True) as uow:
        subscription = uow.subscriptions.current(org[0], "sub_1")
        assert subscription is not None
        states = uow.usage_aggregates.for_subscription(
            org[0], subscription.id, datetime(2100, 1, 1, tzinfo=UTC)
        )
    return sorted(s.key.hour_start.astimezone(UTC) for s in states)


def test_timezone_change_moves_the_hour_buckets(
    api: TestClient, container: Container, org: tuple[UUID, str]
) -> None:
    metric(api, "calls", "count_agg")
    plan(
        api,
        [
            {
                "billable_metric_code": "calls",
                "charge_model": "standard",
                "properties": {"amount": "1"},
            }
        ],
    )
    r = api.post("/api/v1/customers", json={"customer": {"external_id": "cus_1"}})
    assert r.status_code == 200, r.text
    subscribe(api)
    event = ev("a", "calls", 5)
    send(api, [{**event, "timestamp": "2024-03-05T10:45:00Z"}])
    assert hours(container, org) == [datetime(2024, 3, 5, 10, tzinfo=UTC)]
    r = api.post(
        "/api/v1/customers", json={"customer": {"external_id": "cus_1", "timezone": "Asia/Kolkata"}}
    )
    assert r.status_code == 200, r.text
    assert hours(container, org) == [datetime(2024, 3, 5, 10, 30, tzinfo=UTC)]
    assert by_code(usage(api))["calls"]["events_count"] == 1
    r = api.post("/api/v1/customers", json={"customer": {"external_id": "cus_1", "timezone": None}})
    assert r.status_code == 200, r.text
    assert hours(container, org) == [datetime(2024, 3, 5, 10, tzinfo=UTC)]
