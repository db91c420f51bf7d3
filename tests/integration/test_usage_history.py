"""Projected usage and past usage (Lago's `/projected_usage` and `/past_usage`), by hand.

Projection (`services.projection`): on 2024-03-15 12:00 UTC, 14.5 of March's 31 days have
elapsed, a share of 29/62; growing metrics' units are divided by it and re-priced.
Past usage: read back from finalized invoices' charge fees, newest first.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from fastapi.testclient import TestClient

from releve.bootstrap import Container
from tests.integration.billing_support import catalog, post, subscribe, usage
from tests.integration.support import FakeClock

pytestmark = pytest.mark.store

MID_MARCH = datetime(2024, 3, 15, 12, tzinfo=UTC)


def at(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=UTC)  # type: ignore[arg-type, misc]


def get(api: TestClient, path: str, status: int = 200) -> dict[str, Any]:
    r = api.get(f"/api/v1/customers/{path}")
    assert r.status_code == status, r.text
    result: dict[str, Any] = r.json()
    return result


def by_code(usage: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {c["billable_metric"]["code"]: c for c in usage["charges_usage"]}


def test_projected_usage_reprices_the_projected_units(api: TestClient, clock: FakeClock) -> None:
    catalog(api)
    subscribe(api, clock, at(2024, 3, 1))
    usage(api, clock, at(2024, 3, 5, 9), "api_calls", {"value": 290})
    usage(api, clock, at(2024, 3, 6, 9), "storage", {"gb": 20})
    usage(api, clock, at(2024, 3, 7, 9), "storage", {"gb": 9})
    clock.set(MID_MARCH)

    body = get(api, "cus_1/projected_usage?external_subscription_id=sub_1")
    projected = body["customer_projected_usage"]
    # so far: api_calls 290 × 0.05 = 14.50; storage 10 × 1 + 19 × 0.5 = 19.50; VAT 20 %
    assert projected["amount_cents"] == 1450 + 1950
    assert projected["taxes_amount_cents"] == 680
    assert projected["total_amount_cents"] == 4080
    assert projected["from_datetime"] == "2024-03-01T00:00:00Z"
    charges = by_code(projected)
    # projected units = units × 62/29: 290 → 620 (31.00), 29 GB → 62 GB
    assert charges["api_calls"]["projected_units"] == "620"
    assert charges["api_calls"]["projected_amount_cents"] == 3100
    # re-priced on the tiers: 10 × 1 + 52 × 0.5 = 36.00 (scaling 19.50 would give 41.69)
    assert charges["storage"]["units"] == "29"
    assert charges["storage"]["projected_units"] == "62"
    assert charges["storage"]["projected_amount_cents"] == 3600
    assert projected["projected_amount_cents"] == 3100 + 3600

    current = get(api, "cus_1/current_usage?external_subscription_id=sub_1")["customer_usage"]
    assert current["amount_cents"] == projected["amount_cents"]


def test_projected_usage_keeps_levels_as_they_are(api: TestClient, clock: FakeClock) -> None:
    seats = post(
        api,
        "billable_metrics",
        {
            "billable_metric": {
                "name": "Seats",
                "code": "seats",
                "aggregation_type": "max_agg",
                "field_name": "n",
            }
        },
    )["billable_metric"]
    post(
        api,
        "plans",
        {
            "plan": {
                "name": "Seats",
                "code": "pro",
                "interval": "monthly",
                "amount_cents": 0,
                "amount_currency": "EUR",
                "charges": [
                    {
                        "billable_metric_id": seats["lago_id"],
                        "charge_model": "standard",
                        "properties": {"amount": "2"},
                    }
                ],
            }
        },
    )
    subscribe(api, clock, at(2024, 3, 1))
    usage(api, clock, at(2024, 3, 2, 9), "seats", {"n": 3})
    clock.set(MID_MARCH)
    projected = get(api, "cus_1/projected_usage?external_subscription_id=sub_1")[
        "customer_projected_usage"
    ]
    (charge,) = projected["charges_usage"]
    assert (charge["units"], charge["projected_units"]) == ("3", "3")
    assert charge["amount_cents"] == charge["projected_amount_cents"] == 600
    assert projected["projected_amount_cents"] == 600


def test_projected_usage_errors(api: TestClient, clock: FakeClock) -> None:
    catalog(api)
    subscribe(api, clock, at(2024, 3, 1))
    subscribe(api, clock, at(2024, 3, 1), customer="cus_2", external_id="sub_2")
    clock.set(MID_MARCH)
    get(api, "cus_1/projected_usage?external_subscription_id=sub_2", 404)
    get(api, "cus_1/projected_usage", 422)


def _two_months(api: TestClient, clock: FakeClock, container: Container) -> None:
    catalog(api)
    subscribe(api, clock, at(2024, 1, 10, 12))
    usage(api, clock, at(2024, 1, 15, 9), "api_calls", {"value": 1000})
    usage(api, clock, at(2024, 1, 20, 9), "storage", {"gb": 25})
    usage(api, clock, at(2024, 2, 10, 9), "api_calls", {"value": 2000})
    usage(api, clock, at(2024, 2, 10, 9, 30), "storage", {"gb": 5})
    clock.set(at(2024, 2, 1, 1))
    assert len(container.billing.bill_due().issued) == 1
    clock.set(at(2024, 3, 1, 1))
    assert len(container.billing.bill_due().issued) == 1


def test_past_usage_reads_the_invoiced_periods_newest_first(
    api: TestClient, clock: FakeClock, container: Container
) -> None:
    _two_months(api, clock, container)
    body = get(api, "cus_1/past_usage?external_subscription_id=sub_1")
    assert body["meta"] == {
        "current_page": 1,
        "next_page": None,
        "prev_page": None,
        "total_pages": 1,
        "total_count": 2,
    }
    feb, jan = body["usage_periods"]
    # February: api_calls 2,000 × 0.05 = 100.00; storage 5 × 1 = 5.00; VAT 20 % = 21.00
    assert (feb["amount_cents"], feb["taxes_amount_cents"], feb["total_amount_cents"]) == (
        10500,
        2100,
        12600,
    )
    assert feb["issuing_date"] == "2024-03-01" and feb["currency"] == "EUR"
    assert (feb["from_datetime"], feb["to_datetime"]) == (
        "2024-02-01T00:00:00Z",
        "2024-03-01T00:00:00Z",
    )
    assert {
        code: (c["units"], c["amount_cents"], c["events_count"]) for code, c in by_code(feb).items()
    } == {"api_calls": ("2000", 10000, 1), "storage": ("5", 500, 1)}
    # January: api_calls 1,000 × 0.05 = 50.00; storage 10 × 1 + 15 × 0.5 = 17.50; VAT 13.50
    assert (jan["amount_cents"], jan["taxes_amount_cents"], jan["total_amount_cents"]) == (
        6750,
        1350,
        8100,
    )
    assert jan["issuing_date"] == "2024-02-01"
    assert jan["from_datetime"] == "2024-01-10T00:00:00Z"  # the invoiced period, as stored
    storage = by_code(jan)["storage"]
    assert storage["charge"]["charge_model"] == "graduated"
    assert storage["billable_metric"]["aggregation_type"] == "sum_agg"

    # Never recomputed: a late event for January changes nothing already invoiced.
    usage(api, clock, at(2024, 1, 20, 10), "storage", {"gb": 100})
    again = get(api, "cus_1/past_usage?external_subscription_id=sub_1")
    assert again["usage_periods"][1]["amount_cents"] == 6750


def test_past_usage_filters_and_pages(
    api: TestClient, clock: FakeClock, container: Container
) -> None:
    _two_months(api, clock, container)
    q = "cus_1/past_usage?external_subscription_id=sub_1"
    one = get(api, f"{q}&periods_count=1")
    assert [p["issuing_date"] for p in one["usage_periods"]] == ["2024-03-01"]
    assert one["meta"]["total_count"] == 1
    storage = get(api, f"{q}&billable_metric_code=storage")
    assert [p["amount_cents"] for p in storage["usage_periods"]] == [500, 1750]
    assert [len(p["charges_usage"]) for p in storage["usage_periods"]] == [1, 1]
    second = get(api, f"{q}&per_page=1&page=2")
    assert [p["issuing_date"] for p in second["usage_periods"]] == ["2024-02-01"]
    assert second["meta"]["prev_page"] == 1 and second["meta"]["total_pages"] == 2


def test_past_usage_errors(api: TestClient, clock: FakeClock, container: Container) -> None:
    _two_months(api, clock, container)
    subscribe(api, clock, at(2024, 3, 1, 2), customer="cus_2", external_id="sub_2")
    get(api, "cus_2/past_usage?external_subscription_id=sub_1", 404)
    get(api, "cus_1/past_usage?external_subscription_id=nope", 404)
    get(api, "cus_1/past_usage", 422)
    get(api, "cus_1/past_usage?external_subscription_id=sub_1&periods_count=0", 422)
    empty = get(api, "cus_2/past_usage?external_subscription_id=sub_2")
    assert empty["usage_periods"] == [] and empty["meta"]["total_count"] == 0


def test_projected_usage_per_filter_and_pricing_group(api: TestClient, clock: FakeClock) -> None:
    from tests.integration.test_usage import ev, metric, plan, send
    from tests.integration.test_usage import subscribe as subscribe_at

    metric(api, "api", "count_agg", filters=[{"key": "region", "values": ["eu", "us"]}])
    metric(api, "req", "count_agg")
    plan(
        api,
        [
            {
                "billable_metric_code": "api",
                "charge_model": "standard",
                "properties": {"amount": "1"},
                "filters": [{"values": {"region": ["eu"]}, "properties": {"amount": "0.5"}}],
            },
            {
                "billable_metric_code": "req",
                "charge_model": "standard",
                "properties": {"amount": "2", "pricing_group_keys": ["tier"]},
            },
        ],
    )
    subscribe_at(api)
    send(
        api,
        [
            *(ev(f"eu{i}", "api", 2, region="eu") for i in range(3)),
            *(ev(f"us{i}", "api", 3, region="us") for i in range(3)),
            ev("ra1", "req", 2, tier="a"),
            ev("ra2", "req", 5, tier="a"),
            ev("rb", "req", 6, tier="b"),
        ],
    )
    clock.set(at(2024, 3, 16, 12))  # 15.5 of 31 days: a share of 1/2, units double
    projected = get(api, "cus_1/projected_usage?external_subscription_id=sub_1")[
        "customer_projected_usage"
    ]
    charges = by_code(projected)
    assert [
        (f["values"], f["units"], f["projected_units"], f["projected_amount_cents"])
        for f in charges["api"]["filters"]
    ] == [({"region": ["eu"]}, "3", "6", 300), (None, "3", "6", 600)]
    assert charges["api"]["projected_amount_cents"] == 900
    grouped = {
        tuple(g["grouped_by"].values()): (g["projected_units"], g["projected_amount_cents"])
        for g in charges["req"]["grouped_usage"]
    }
    assert grouped == {("a",): ("4", 800), ("b",): ("2", 400)}
    assert projected["amount_cents"] == 150 + 300 + 600
    assert projected["projected_amount_cents"] == 900 + 1200
