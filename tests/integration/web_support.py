"""Helpers for the dashboard and portal tests: sign in through the real form, read CSRF tokens."""

from __future__ import annotations

import re
from decimal import Decimal
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


def seed_billing(container: Container, organization_id: UUID, prefix: str) -> None:
    """On top of `seed`: a graduated plan, 20 % VAT, and one subscription per customer.

    FakeClock: 2024-03-15 12:00 UTC; subscriptions start 2024-03-01 (calendar monthly), so the
    period is March. `{prefix}_1` sends 5 calls (2 free, then 3 × 0.50 EUR = 1.50 EUR + 0.30 EUR
    VAT); `{prefix}_2` sends 7 calls on its own subscription.
    """
    container.taxes.create(
        organization_id,
        {"code": "vat", "name": "VAT", "rate": Decimal("20"), "applied_to_organization": True},
    )
    container.plans.create(
        organization_id,
        {
            "name": f"{prefix} Growth",
            "code": "growth",
            "interval": "monthly",
            "amount_cents": 0,
            "amount_currency": "EUR",
            "charges": [
                {
                    "billable_metric_code": "calls",
                    "charge_model": "graduated",
                    "properties": {
                        "graduated_ranges": [
                            {
                                "from_value": 0,
                                "to_value": 2,
                                "per_unit_amount": "0",
                                "flat_amount": "0",
                            },
                            {
                                "from_value": 3,
                                "to_value": None,
                                "per_unit_amount": "0.50",
                                "flat_amount": "0",
                            },
                        ]
                    },
                }
            ],
        },
    )
    for n, calls in ((1, 5), (2, 7)):
        container.subscriptions.create(
            organization_id,
            {
                "external_customer_id": f"{prefix}_{n}",
                "plan_code": "growth",
                "external_id": f"{prefix}_sub{n}",
                "name": f"{prefix} subscription {n}",
                "subscription_at": "2024-03-01T00:00:00Z",
            },
        )
        container.events.ingest_batch(
            organization_id,
            [
                {
                    "transaction_id": f"{prefix}_s{n}_{k}",
                    "external_subscription_id": f"{prefix}_sub{n}",
                    "code": "calls",
                    "timestamp": f"2024-03-{k + 2:02d}T10:00:00Z",
                }
                for k in range(calls)
            ],
        )
