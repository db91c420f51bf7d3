"""POST/GET /api/v1/events: envelopes, exact numbers, bad input stores nothing."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

pytestmark = pytest.mark.store
JSON = {"content-type": "application/json"}


def ev(tx: str, **over: Any) -> dict[str, Any]:
    return {"transaction_id": tx, "external_subscription_id": "sub", "code": "calls", **over}


def stored(api: TestClient) -> int:
    meta = api.get("/api/v1/events").json()["meta"]
    return int(meta["total_count"])


def test_create_keeps_number_text_and_shows_unmatched(api: TestClient) -> None:
    body = b'{"event": {"transaction_id": "t1", "external_subscription_id": "s", "code": "c",'
    body += b' "timestamp": "1700000000.250", "properties": {"gb": 0.10000000000000000001}}}'
    r = api.post("/api/v1/events", content=body, headers=JSON)
    assert r.status_code == 200
    assert b'"gb":0.10000000000000000001' in r.content
    event = r.json()["event"]
    assert event["timestamp"] == "2023-11-14T22:13:20.250000Z"
    assert (event["status"], event["unmatched_reason"]) == ("unmatched", "unknown_metric_code")
    assert api.get("/api/v1/events/t1").json()["event"]["lago_id"] == event["lago_id"]


def test_replay_then_conflict(api: TestClient) -> None:
    assert api.post("/api/v1/events", json={"event": ev("t", timestamp=5)}).status_code == 200
    assert api.post("/api/v1/events", json={"event": ev("t", timestamp=5)}).status_code == 200
    r = api.post("/api/v1/events", json={"event": ev("t", timestamp=6)})
    assert r.status_code == 422
    assert r.json() == {
        "status": 422,
        "error": "Unprocessable Entity",
        "code": "validation_errors",
        "error_details": {"transaction_id": ["value_already_exist"]},
    }
    assert stored(api) == 1


@pytest.mark.parametrize(
    ("body", "status"),
    [
        (b"{not json", 400),
        (b'{"events": []}', 400),  # wrong root for POST /events
        (b"[1, 2]", 400),
        (b'{"event": "x"}', 400),
    ],
)
def test_malformed_bodies_are_400(api: TestClient, body: bytes, status: int) -> None:
    r = api.post("/api/v1/events", content=body, headers=JSON)
    assert r.status_code == status
    assert r.json()["status"] == 400 and r.json()["error"].startswith("BadRequest")
    assert stored(api) == 0


def test_invalid_fields_are_named(api: TestClient) -> None:
    r = api.post("/api/v1/events", json={"event": {"timestamp": "2024-01-01T00:00:00"}})
    assert r.status_code == 422
    assert r.json()["error_details"] == {
        "transaction_id": ["value_is_mandatory"],
        "external_subscription_id": ["value_is_mandatory"],
        "code": ["value_is_mandatory"],
        "timestamp": ["invalid_format"],
    }
    assert stored(api) == 0


def test_batch_errors_by_index_and_nothing_stored(api: TestClient) -> None:
    events = [ev("a", timestamp=1), ev("b", timestamp="nope"), ev("c", properties=[1])]
    r = api.post("/api/v1/events/batch", json={"events": events})
    assert r.status_code == 422
    assert r.json()["error_details"] == {
        "1": {"timestamp": ["invalid_format"]},
        "2": {"properties": ["value_is_invalid"]},
    }
    assert stored(api) == 0
    r = api.post("/api/v1/events/batch", json={"events": [ev(f"t{i}") for i in range(101)]})
    assert r.status_code == 422 and r.json()["error_details"] == {"events": ["too_many_events"]}
    r = api.post("/api/v1/events/batch", json={"events": []})
    assert r.status_code == 422 and r.json()["error_details"] == {"events": ["no_events"]}
    r = api.post("/api/v1/events/batch", json={"event": ev("x")})
    assert r.status_code == 400
    assert stored(api) == 0
    r = api.post("/api/v1/events/batch", json={"events": [ev("a"), ev("b")]})
    assert r.status_code == 200 and len(r.json()["events"]) == 2
    assert stored(api) == 2


def test_list_filters_and_status_extension(api: TestClient) -> None:
    api.post(
        "/api/v1/billable_metrics",
        json={"billable_metric": {"name": "C", "code": "calls", "aggregation_type": "count_agg"}},
    )
    events = [
        ev("a", timestamp="2024-01-01T00:00:00Z"),
        ev("b", timestamp="2024-02-01T00:00:00Z", code="unknown"),
        ev("c", timestamp="2024-03-01T00:00:00Z", external_subscription_id="other"),
    ]
    assert api.post("/api/v1/events/batch", json={"events": events}).status_code == 200

    def txs(query: str) -> list[str]:
        r = api.get(f"/api/v1/events?{query}")
        assert r.status_code == 200, r.text
        return [e["transaction_id"] for e in r.json()["events"]]

    assert txs("") == ["c", "b", "a"]
    # No subscription yet: "a" and "c" wait as unknown_subscription, "b" for its metric.
    assert txs("status=unmatched") == ["c", "b", "a"]
    assert txs("status=matched") == []
    assert txs("external_subscription_id=sub") == ["b", "a"]
    assert txs("code=calls&timestamp_from=2024-01-15T00:00:00Z") == ["c"]
    assert txs("timestamp_to=2024-01-01") == ["a"]
    r = api.get("/api/v1/events?timestamp_from=garbage")
    assert r.status_code == 422 and r.json()["error_details"] == {
        "timestamp_from": ["invalid_format"]
    }
    r = api.get("/api/v1/events?per_page=2&page=2").json()
    assert r["meta"] == {
        "current_page": 2,
        "next_page": None,
        "prev_page": 1,
        "total_pages": 2,
        "total_count": 3,
    }


def test_auth_and_tenancy(
    client: TestClient, org: tuple[Any, str], other_org: tuple[Any, str]
) -> None:
    for headers in ({}, {"Authorization": "Bearer rlv_wrong"}, {"Authorization": "Bearer"}):
        r = client.post("/api/v1/events", json={"event": ev("t")}, headers=headers)
        assert r.status_code == 401
        assert r.json() == {"status": 401, "error": "Unauthorized"}
    mine = {"Authorization": f"Bearer {org[1]}"}
    theirs = {"Authorization": f"Bearer {other_org[1]}"}
    assert client.post("/api/v1/events", json={"event": ev("t")}, headers=mine).status_code == 200
    r = client.get("/api/v1/events/t", headers=theirs)
    assert r.status_code == 404
    assert r.json() == {"status": 404, "error": "Not Found", "code": "event_not_found"}
    assert client.get("/api/v1/events", headers=theirs).json()["meta"]["total_count"] == 0
