"""/api/v1/webhook_endpoints (Lago shapes), validation, tenancy; signing and backoff tables."""

from __future__ import annotations

import base64
import hashlib
import hmac
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

import pytest
from fastapi.testclient import TestClient

from releve.services.webhook_delivery import RetryPolicy
from releve.services.webhook_signing import headers

pytestmark = pytest.mark.store
URL = "/api/v1/webhook_endpoints"


def create(api: TestClient, **fields: Any) -> dict[str, Any]:
    r = api.post(URL, json={"webhook_endpoint": fields})
    assert r.status_code == 200, r.text
    created: dict[str, Any] = r.json()["webhook_endpoint"]
    return created


def test_create_find_list_update_destroy(api: TestClient, org: tuple[UUID, str]) -> None:
    first = create(api, webhook_url="https://example.com/a")
    assert first == {
        "lago_id": first["lago_id"],
        "lago_organization_id": str(org[0]),
        "webhook_url": "https://example.com/a",
        "signature_algo": "hmac",  # the default (and the only algorithm, see services.webhooks)
        "name": None,
        "event_types": None,
        "created_at": "2024-03-15T12:00:00Z",
    }
    second = create(
        api, webhook_url="http://10.0.0.1:8080/b", name="ops", event_types=["invoice.created"]
    )
    assert api.get(f"{URL}/{first['lago_id']}").json()["webhook_endpoint"] == first
    listed = api.get(URL, params={"per_page": 1}).json()
    assert listed["meta"] == {
        "current_page": 1,
        "next_page": 2,
        "prev_page": None,
        "total_pages": 2,
        "total_count": 2,
    }
    assert len(listed["webhook_endpoints"]) == 1

    r = api.put(
        f"{URL}/{second['lago_id']}",
        json={"webhook_endpoint": {"webhook_url": "https://example.com/c", "event_types": None}},
    )
    assert r.status_code == 200, r.text
    updated = r.json()["webhook_endpoint"]
    assert (updated["webhook_url"], updated["name"], updated["event_types"]) == (
        "https://example.com/c",
        "ops",
        None,
    )
    r = api.delete(f"{URL}/{first['lago_id']}")
    assert r.status_code == 200 and r.json()["webhook_endpoint"]["lago_id"] == first["lago_id"]
    r = api.get(f"{URL}/{first['lago_id']}")
    assert r.status_code == 404 and r.json()["code"] == "webhook_endpoint_not_found"
    assert api.get(URL).json()["meta"]["total_count"] == 1


@pytest.mark.parametrize(
    ("fields", "details"),
    [
        ({}, {"webhook_url": ["value_is_mandatory"]}),
        ({"webhook_url": ""}, {"webhook_url": ["value_is_mandatory"]}),
        ({"webhook_url": "example.com/hook"}, {"webhook_url": ["url_is_invalid"]}),
        ({"webhook_url": "/relative"}, {"webhook_url": ["url_is_invalid"]}),
        ({"webhook_url": "ftp://example.com/x"}, {"webhook_url": ["url_is_invalid"]}),
        ({"webhook_url": "https://"}, {"webhook_url": ["url_is_invalid"]}),
        ({"webhook_url": "https://example.com:port/x"}, {"webhook_url": ["url_is_invalid"]}),
        ({"webhook_url": "https://x.io/" + "a" * 1012}, {"webhook_url": ["value_is_too_long"]}),
        (
            {"webhook_url": "https://x.io", "signature_algo": "jwt"},
            {"signature_algo": ["value_is_invalid"]},
        ),
        (
            {"webhook_url": "https://x.io", "event_types": "invoice.created"},
            {"event_types": ["value_is_invalid"]},
        ),
    ],
)
def test_bad_input_is_a_422_naming_the_field_and_creates_nothing(
    api: TestClient, fields: dict[str, Any], details: dict[str, list[str]]
) -> None:
    r = api.post(URL, json={"webhook_endpoint": fields})
    assert r.status_code == 422, r.text
    assert r.json()["error_details"] == details
    assert api.get(URL).json()["meta"]["total_count"] == 0


def test_a_url_is_unique_in_an_organization(
    api: TestClient, client: TestClient, other_org: tuple[UUID, str]
) -> None:
    first = create(api, webhook_url="https://example.com/a")
    r = api.post(URL, json={"webhook_endpoint": {"webhook_url": "https://example.com/a"}})
    assert r.status_code == 422 and r.json()["error_details"] == {
        "webhook_url": ["value_already_exist"]
    }
    other = create(api, webhook_url="https://example.com/b")
    r = api.put(f"{URL}/{other['lago_id']}", json={"webhook_endpoint": first | {"name": "x"}})
    assert r.status_code == 422
    r = api.put(f"{URL}/{other['lago_id']}", json={"webhook_endpoint": {"signature_algo": "jwt"}})
    assert r.status_code == 422 and r.json()["error_details"] == {
        "signature_algo": ["value_is_invalid"]
    }
    # Another organization may use the same URL.
    r = client.post(
        URL,
        json={"webhook_endpoint": {"webhook_url": "https://example.com/a"}},
        headers={"Authorization": f"Bearer {other_org[1]}"},
    )
    assert r.status_code == 200


def test_another_organization_sees_nothing(
    api: TestClient, client: TestClient, other_org: tuple[UUID, str]
) -> None:
    mine = create(api, webhook_url="https://example.com/a")
    other = {"Authorization": f"Bearer {other_org[1]}"}
    one = f"{URL}/{mine['lago_id']}"
    for method, path in (
        ("GET", one),
        ("PUT", one),
        ("DELETE", one),
        ("GET", f"{one}/deliveries"),
    ):
        body = {"webhook_endpoint": {"name": "x"}} if method == "PUT" else None
        r = client.request(method, path, json=body, headers=other)
        assert r.status_code == 404 and r.json()["code"] == "webhook_endpoint_not_found", path
    assert client.get(URL, headers=other).json()["webhook_endpoints"] == []
    assert api.get(f"{URL}/not-a-uuid").status_code == 404
    r = api.post(f"/api/v1/webhooks/{UUID(int=1)}/retry")
    assert r.status_code == 404 and r.json()["code"] == "webhook_not_found"
    assert api.get(f"{one}").json()["webhook_endpoint"]["name"] is None  # unchanged


@pytest.mark.parametrize(
    ("attempt", "wait"),
    [(1, timedelta(minutes=1)), (2, timedelta(minutes=2)), (7, timedelta(minutes=64)),
     (9, timedelta(minutes=256)), (10, timedelta(hours=6)), (30, timedelta(hours=6))],
)  # fmt: skip
def test_backoff_doubles_from_one_minute_and_is_capped_at_six_hours(
    attempt: int, wait: timedelta
) -> None:
    assert RetryPolicy().backoff(attempt) == wait


def test_signature_headers_on_a_known_vector() -> None:
    body = b'{"a":1}'
    at = datetime(2024, 1, 1, tzinfo=UTC)  # 1704067200
    h = headers("secret", body, "key-1", at)
    assert (
        h["X-Lago-Signature"]
        == base64.b64encode(hmac.new(b"secret", body, hashlib.sha256).digest()).decode()
    )
    digest = hmac.new(b"secret", b'1704067200.{"a":1}', hashlib.sha256).hexdigest()
    assert h["X-Releve-Signature"] == f"t=1704067200,v1={digest}"
    assert (h["X-Releve-Timestamp"], h["X-Lago-Unique-Key"]) == ("1704067200", "key-1")
