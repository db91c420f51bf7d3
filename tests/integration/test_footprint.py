"""Footprint: units × the metric's factor, this period and the previous one, per day.

Metric `requests` (sum of `n`) with 0.4 gCO2e per unit; subscription from 2024-02-01 (calendar
monthly), FakeClock 2024-03-15 12:00 UTC. February: 500 units → 200 gCO2e. March so far:
1,000 units on the 3rd and 250 on the 10th → 1,250 × 0.4 = 500 gCO2e (400 and 100 per day).
"""

from __future__ import annotations

import html
import re
from datetime import date
from decimal import Decimal
from uuid import UUID

import pytest
from fastapi.testclient import TestClient

from releve.bootstrap import Container

pytestmark = pytest.mark.store


def seed(container: Container, org: UUID, prefix: str) -> None:
    container.billable_metrics.create(
        org,
        {
            "name": "Requests",
            "code": "requests",
            "aggregation_type": "sum_agg",
            "field_name": "n",
            "footprint_per_unit": "0.4",
            "footprint_unit": "gCO2e",
        },
    )
    container.plans.create(
        org,
        {
            "name": "Usage",
            "code": "usage",
            "interval": "monthly",
            "amount_cents": 0,
            "amount_currency": "EUR",
            "charges": [
                {
                    "billable_metric_code": "requests",
                    "charge_model": "standard",
                    "properties": {"amount": "0.01"},
                }
            ],
        },
    )
    container.customers.upsert(org, {"external_id": f"{prefix}_1", "country": "US"})
    container.subscriptions.create(
        org,
        {
            "external_customer_id": f"{prefix}_1",
            "plan_code": "usage",
            "external_id": f"{prefix}_sub",
            "subscription_at": "2024-02-01T00:00:00Z",
        },
    )
    container.events.ingest_batch(
        org,
        [
            {
                "transaction_id": f"{prefix}_{n}",
                "external_subscription_id": f"{prefix}_sub",
                "code": "requests",
                "timestamp": ts,
                "properties": {"n": value},
            }
            for n, (ts, value) in enumerate(
                [
                    ("2024-02-20T08:00:00Z", 500),
                    ("2024-03-03T08:00:00Z", 1000),
                    ("2024-03-10T08:00:00Z", 250),
                ]
            )
        ],
    )


@pytest.fixture
def acme(container: Container, org: tuple[UUID, str], other_org: tuple[UUID, str]) -> UUID:
    seed(container, org[0], "acme")
    seed(container, other_org[0], "globex")
    return org[0]


def test_footprint_is_units_times_factor_with_its_trend(container: Container, acme: UUID) -> None:
    footprint = container.footprint.for_customer(acme, "acme_1")
    [line] = footprint.lines
    assert (line.units, line.factor, line.unit) == (Decimal(1250), Decimal("0.4"), "gCO2e")
    assert line.amount == Decimal(500)
    assert line.previous_amount == Decimal(200)
    assert footprint.totals() == {"gCO2e": (Decimal(500), Decimal(200))}
    assert footprint.days[0] == date(2024, 3, 1) and footprint.days[-1] == date(2024, 3, 15)
    [series] = footprint.daily.values()
    assert series[2] == Decimal(400) and series[9] == Decimal(100)
    assert sum(series) == Decimal(500)


def test_metrics_without_a_factor_have_no_footprint(container: Container, acme: UUID) -> None:
    container.billable_metrics.update(acme, "requests", {"footprint_per_unit": None})
    assert container.footprint.for_customer(acme, "acme_1").lines == ()


def test_portal_shows_the_footprint_beside_the_cost(
    client: TestClient, container: Container, acme: UUID
) -> None:
    path = "/portal/" + container.portal.issue_token(acme, "acme_1")
    body = client.get(path).text
    text = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", "", html.unescape(body)))
    assert "1,250 units · €12.50 · 500 gCO2e" in text  # the usage line
    assert "Environmental footprint" in text
    assert "500 gCO2e this period so far, against 200 gCO2e in the whole previous period" in text
    assert 'id="footprint-data"' in body


def test_daily_series_lines_up_subscriptions_whose_periods_start_on_different_days(
    container: Container, acme: UUID
) -> None:
    # A second subscription from 2024-03-12: its current period starts on the 12th, not the 1st.
    container.subscriptions.create(
        acme,
        {
            "external_customer_id": "acme_1",
            "plan_code": "usage",
            "external_id": "acme_sub_2",
            "subscription_at": "2024-03-12T00:00:00Z",
        },
    )
    container.events.ingest_batch(
        acme,
        [
            {
                "transaction_id": "acme_second_1",
                "external_subscription_id": "acme_sub_2",
                "code": "requests",
                "timestamp": "2024-03-13T08:00:00Z",
                "properties": {"n": 100},
            }
        ],
    )
    footprint = container.footprint.for_customer(acme, "acme_1")
    assert footprint.days[0] == date(2024, 3, 1) and footprint.days[-1] == date(2024, 3, 15)
    [series] = footprint.daily.values()
    assert len(series) == len(footprint.days)
    assert (series[2], series[9], series[12]) == (Decimal(400), Decimal(100), Decimal(40))
    assert sum(series) == Decimal(540)
