"""Helpers for the dashboard and portal tests: sign in through the real form, read CSRF tokens."""

from __future__ import annotations

import re
from uuid import UUID

from fastapi.testclient import TestClient

from releve.bootstrap import Container

CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
PORTAL_URL = re.compile(r'id="portal-url" type="text" readonly value="([^"]+)"')


def csrf_of(html: str) -> str:
    match = CSRF.search(html)
    assert match, "no CSRF field on the page"
    return match.group(1)


def sign_in(client: TestClient, api_key: str) -> TestClient:
    form = client.get("/sign-in")
    response = client.post(
        "/sign-in",
        data={"csrf_token": csrf_of(form.text), "api_key": api_key, "next": "/"},
        follow_redirects=False,
    )
    assert response.status_code == 303, response.text
    return client


def seed(container: Container, organization_id: UUID, prefix: str) -> None:
    """One metric, two customers and a few events (one unmatched) for `organization_id`."""
    container.billable_metrics.create(
        organization_id,
        {"name": f"{prefix} calls", "code": "calls", "aggregation_type": "count_agg"},
    )
    for n, name in ((1, "First"), (2, "Second")):
        container.customers.upsert(
            organization_id,
            {
                "external_id": f"{prefix}_{n}",
                "name": f"{prefix} {name}",
                "email": f"{n}@{prefix}.example",
                "country": "FR",
                "currency": "EUR",
                "metadata": [{"key": "tier", "value": "gold"}],
            },
        )
    container.events.ingest_batch(
        organization_id,
        [
            {
                "transaction_id": f"{prefix}_t{n}",
                "external_subscription_id": f"{prefix}_1",
                "code": "calls" if n < 3 else "mystery",
            }
            for n in range(4)
        ],
    )
