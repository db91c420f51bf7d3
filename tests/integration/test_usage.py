"""Event matching and current usage from the aggregates, against hand-computed amounts.

The clock is 2024-03-15 12:00 UTC; subscriptions start on 2024-03-01 (calendar, UTC), so the
current period is [2024-03-01, 2024-04-01).
"""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

pytestmark = pytest.mark.store


def metric(api: TestClient, code: str, aggregation: str = "sum_agg", **extra: Any) -> None:
    body = {"name": code.title(), "code": code, "aggregation_type": aggregation, **extra}
    if aggregation != "count_agg":
        body.setdefault("field_name", "value")
    r = api.post("/api/v1/billable_metrics", json={"billable_metric": body})
    assert r.status_code == 200, r.text


def plan(api: TestClient, charges: list[dict[str, Any]], code: str = "p") -> None:
    body = {
        "name": "P",
        "code": code,
        "interval": "monthly",
        "amount_cents": 0,
        "amount_currency": "EUR",
        "charges": charges,
    }
    r = api.post("/api/v1/plans", json={"plan": body})
    assert r.status_code == 200, r.text


def subscribe(
    api: TestClient,
    external_id: str = "sub_1",
    at: str = "2024-03-01T00:00:00Z",
    plan_code: str = "p",
    **extra: Any,
) -> None:
    body = {
        "external_customer_id": "cus_1",
        "plan_code": plan_code,
        "external_id": external_id,
        "subscription_at": at,
        **extra,
    }
    r = api.post("/api/v1/subscriptions", json={"subscription": body})
    assert r.status_code == 200, r.text


def send(api: TestClient, events: list[dict[str, Any]]) -> list[dict[str, Any]]:
    r = api.post("/api/v1/events/batch", json={"events": events})
    assert r.status_code == 200, r.text
    return list(r.json()["events"])


def ev(
    tx: str, code: str, day: int, hour: int = 10, sub: str = "sub_1", **properties: Any
) -> dict[str, Any]:
    return {
        "transaction_id": tx,
        "external_subscription_id": sub,
        "code": code,
        "timestamp": f"2024-03-{day:02d}T{hour:02d}:00:00Z",
        "properties": properties,
    }


def usage(api: TestClient, sub: str = "sub_1", **query: str) -> dict[str, Any]:
    params = "&".join(f"{k}={v}" for k, v in {"external_subscription_id": sub, **query}.items())
    r = api.get(f"/api/v1/customers/cus_1/current_usage?{params}")
    assert r.status_code == 200, r.text
    return dict(r.json()["customer_usage"])


def by_code(u: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {c["billable_metric"]["code"]: c for c in u["charges_usage"]}


def test_matching_reasons_and_late_subscriptions(api: TestClient) -> None:
    metric(api, "calls", "count_agg")
    metric(api, "storage", field_name="gb")
    plan(
        api,
        [
            {
                "billable_metric_code": "calls",
                "charge_model": "standard",
                "properties": {"amount": "0.5"},
            },
            {
                "billable_metric_code": "storage",
                "charge_model": "standard",
                "properties": {"amount": "1"},
            },
        ],
    )
    # Stored before the subscription exists: waits as unknown_subscription.
    early = send(api, [ev("early", "calls", 2)])[0]
    assert (early["status"], early["unmatched_reason"]) == ("unmatched", "unknown_subscription")
    subscribe(api)  # started on March 1: the early event now counts
    assert api.get("/api/v1/events/early").json()["event"]["status"] == "matched"
    stored = send(
        api,
        [
            ev("ok", "calls", 3),
            ev("code", "nope", 3),
            ev("sub", "calls", 3, sub="sub_x"),
            {**ev("before", "calls", 1), "timestamp": "2024-02-10T00:00:00Z"},
            ev("noprop", "storage", 4),
            ev("gb", "storage", 4, gb="2.5"),
        ],
    )
    assert stored[0]["lago_subscription_id"] is not None
    r = api.get("/api/v1/events?status=unmatched").json()["events"]
    assert {e["transaction_id"]: e["unmatched_reason"] for e in r} == {
        "code": "unknown_metric_code",
        "sub": "unknown_subscription",
        "before": "outside_subscription",
        "noprop": "missing_aggregation_property",
    }
    u = usage(api)
    charges = by_code(u)
    assert (charges["calls"]["units"], charges["calls"]["amount_cents"]) == ("2", 100)
    assert (charges["storage"]["units"], charges["storage"]["amount_cents"]) == ("2.5", 250)
    assert (u["amount_cents"], u["taxes_amount_cents"], u["total_amount_cents"]) == (350, 0, 350)
    assert (u["from_datetime"], u["to_datetime"], u["issuing_date"]) == (
        "2024-03-01T00:00:00Z",
        "2024-04-01T00:00:00Z",
        "2024-04-01",
    )


def test_charge_models_hand_computed_with_taxes(api: TestClient) -> None:
    r = api.post(
        "/api/v1/taxes",
        json={"tax": {"name": "VAT", "code": "vat", "rate": "20", "applied_to_organization": True}},
    )
    assert r.status_code == 200
    metric(api, "usage")
    charges: list[dict[str, Any]] = [
        {"charge_model": "standard", "properties": {"amount": "0.05"}},
        {
            "charge_model": "graduated",
            "properties": {
                "graduated_ranges": [
                    {"from_value": 0, "to_value": 100, "per_unit_amount": "1", "flat_amount": "0"},
                    {
                        "from_value": 101,
                        "to_value": 200,
                        "per_unit_amount": "0.5",
                        "flat_amount": "0",
                    },
                    {
                        "from_value": 201,
                        "to_value": None,
                        "per_unit_amount": "0.1",
                        "flat_amount": "0",
                    },
                ]
            },
        },
        {
            "charge_model": "package",
            "properties": {"amount": "5", "package_size": 100, "free_units": 100},
        },
        {
            "charge_model": "volume",
            "properties": {
                "volume_ranges": [
                    {"from_value": 0, "to_value": 100, "per_unit_amount": "2", "flat_amount": "0"},
                    {
                        "from_value": 101,
                        "to_value": 300,
                        "per_unit_amount": "1.5",
                        "flat_amount": "10",
                    },
                    {
                        "from_value": 301,
                        "to_value": None,
                        "per_unit_amount": "1",
                        "flat_amount": "0",
                    },
                ]
            },
        },
        {
            "charge_model": "percentage",
            "properties": {"rate": "2", "fixed_amount": "0.1", "free_units_per_events": 1},
        },
    ]
    for i, charge in enumerate(charges):
        charge.update({"billable_metric_code": "usage", "code": f"c{i}"})
    plan(api, charges)
    subscribe(api)
    send(
        api,
        [
            ev("a", "usage", 2, value=30),
            ev("b", "usage", 3, value="50"),
            ev("c", "usage", 4, value=100),
            ev("d", "usage", 5, value="70"),
        ],
    )
    u = usage(api)
    got = {c["charge"]["charge_model"]: c for c in u["charges_usage"]}
    assert {m: (c["units"], c["events_count"]) for m, c in got.items()} == {
        m: ("250", 4) for m in ("standard", "graduated", "package", "volume", "percentage")
    }
    # standard: 250 × 0.05 = 12.50
    assert got["standard"]["amount_cents"] == 1250
    # graduated, tiers crossed: 100 × 1 + 100 × 0.5 + 50 × 0.1 = 155
    assert got["graduated"]["amount_cents"] == 15500
    assert len(got["graduated"]["amount_details"]["graduated_ranges"]) == 3
    # package: 250 − 100 free = 150 → 2 packages of 100 × 5 = 10
    assert got["package"]["amount_cents"] == 1000
    # volume: 250 is in 101–300 → 250 × 1.5 + 10 = 385
    assert got["volume"]["amount_cents"] == 38500
    # percentage: the first event (30) is free; 220 × 2 % + 3 paid events × 0.10 = 4.70
    assert got["percentage"]["amount_cents"] == 470
    assert got["percentage"]["amount_details"]["free_events"] == 1
    assert "4.70 EUR" in got["percentage"]["explanation"]
    assert u["amount_cents"] == 1250 + 15500 + 1000 + 38500 + 470
    assert u["taxes_amount_cents"] == 11344  # 20 % of 567.20
    assert u["total_amount_cents"] == 56720 + 11344
    assert usage(api, apply_taxes="false")["taxes_amount_cents"] == 0


def test_filters_default_bucket_and_pricing_groups(api: TestClient) -> None:
    metric(api, "api", "count_agg", filters=[{"key": "region", "values": ["eu", "us"]}])
    metric(api, "req", "count_agg")
    plan(
        api,
        [
            {
                "billable_metric_code": "api",
                "charge_model": "standard",
                "properties": {"amount": "1"},
                "filters": [
                    {
                        "values": {"region": ["eu"]},
                        "properties": {"amount": "0.5"},
                        "invoice_display_name": "EU",
                    }
                ],
            },
            {
                "billable_metric_code": "req",
                "charge_model": "standard",
                "properties": {"amount": "2", "pricing_group_keys": ["tier"]},
            },
        ],
    )
    subscribe(api)
    send(
        api,
        [
            *(ev(f"eu{i}", "api", 2, region="eu") for i in range(3)),
            *(ev(f"us{i}", "api", 3, region="us") for i in range(2)),
            ev("none", "api", 4),
            ev("ra1", "req", 2, tier="a"),
            ev("ra2", "req", 5, hour=23, tier="a"),
            ev("rb", "req", 6, tier="b"),
        ],
    )
    charges = by_code(usage(api))
    api_usage = charges["api"]
    # EU: 3 × 0.5 = 1.50; default (us and no region): 3 × 1 = 3.00
    assert api_usage["amount_cents"] == 450 and api_usage["units"] == "6"
    assert [
        (f["invoice_display_name"], f["values"], f["units"], f["amount_cents"])
        for f in api_usage["filters"]
    ] == [
        ("EU", {"region": ["eu"]}, "3", 150),
        (None, None, "3", 300),
    ]
    grouped = {
        tuple(g["grouped_by"].values()): (g["units"], g["amount_cents"])
        for g in charges["req"]["grouped_usage"]
    }
    assert grouped == {("a",): ("2", 400), ("b",): ("1", 200)}
    assert charges["req"]["amount_cents"] == 600


def test_recurring_seats_carry_over_from_earlier_periods(api: TestClient) -> None:
    metric(api, "seats", "unique_count_agg", field_name="user_id", recurring=True)
    plan(
        api,
        [
            {
                "billable_metric_code": "seats",
                "charge_model": "standard",
                "properties": {"amount": "10"},
            }
        ],
    )
    subscribe(api, at="2024-01-01T00:00:00Z")

    def seat(tx: str, month: int, day: int, user: str, op: str = "add") -> dict[str, Any]:
        return {
            "transaction_id": tx,
            "external_subscription_id": "sub_1",
            "code": "seats",
            "timestamp": f"2024-{month:02d}-{day:02d}T09:00:00Z",
            "properties": {"user_id": user, "operation_type": op},
        }

    send(
        api,
        [
            seat("1", 1, 5, "u1"),
            seat("2", 1, 10, "u2"),
            seat("3", 2, 3, "u1", "remove"),
            seat("4", 2, 20, "u3"),
            seat("5", 3, 2, "u4"),
            seat("6", 3, 10, "u2", "remove"),
        ],
    )
    # March: u2 and u3 carried in (present at the start), u4 added; u2 removed on the 10th
    # was still used this period → 3 seats × 10 EUR.
    seats = by_code(usage(api))["seats"]
    assert (seats["units"], seats["amount_cents"], seats["events_count"]) == ("3", 3000, 2)


def test_current_usage_is_404_unless_the_customers_active_subscription(api: TestClient) -> None:
    metric(api, "calls", "count_agg")
    plan(api, [])
    subscribe(api)
    assert (
        api.get("/api/v1/customers/cus_1/current_usage?external_subscription_id=nope").status_code
        == 404
    )
    api.post("/api/v1/customers", json={"customer": {"external_id": "cus_2"}})
    r = api.get("/api/v1/customers/cus_2/current_usage?external_subscription_id=sub_1")
    assert r.status_code == 404 and r.json()["code"] == "subscription_not_found"
    r = api.get("/api/v1/customers/nobody/current_usage?external_subscription_id=sub_1")
    assert r.json()["code"] == "customer_not_found"
    r = api.get("/api/v1/customers/cus_1/current_usage")
    assert r.status_code == 422
    assert r.json()["error_details"] == {"external_subscription_id": ["value_is_mandatory"]}


def test_upgrade_and_termination_move_events_between_subscriptions(
    api: TestClient, clock: Any
) -> None:
    from datetime import UTC, datetime

    metric(api, "calls", "count_agg")
    charge = {"billable_metric_code": "calls", "charge_model": "standard"}
    plan(api, [{**charge, "properties": {"amount": "1"}}])
    plan(api, [{**charge, "properties": {"amount": "2"}}], code="big")
    api.put("/api/v1/plans/big", json={"plan": {"amount_cents": 5000}})
    subscribe(api)
    send(api, [ev("before", "calls", 10)])
    clock.set(datetime(2024, 3, 12, tzinfo=UTC))
    subscribe(api, plan_code="big")  # upgrade on the 12th
    clock.set(datetime(2024, 3, 15, 12, tzinfo=UTC))
    # A late event of the 11th belongs to the old subscription; the 13th to the new one.
    send(api, [ev("late", "calls", 11), ev("after", "calls", 13)])
    events = {e["transaction_id"]: e for e in api.get("/api/v1/events").json()["events"]}
    assert events["before"]["lago_subscription_id"] == events["late"]["lago_subscription_id"]
    assert events["after"]["lago_subscription_id"] != events["late"]["lago_subscription_id"]
    calls = by_code(usage(api))["calls"]
    assert (calls["units"], calls["amount_cents"]) == ("1", 200)  # the new plan's price
    # Terminating at 12:00 on the 15th: a later event is outside any subscription.
    assert api.delete("/api/v1/subscriptions/sub_1").status_code == 200
    late = send(api, [ev("tooLate", "calls", 15, hour=13)])[0]
    assert (late["status"], late["unmatched_reason"]) == ("unmatched", "outside_subscription")


def test_changing_a_plan_recomputes_its_subscriptions_usage(api: TestClient) -> None:
    metric(api, "api", "count_agg", filters=[{"key": "region", "values": ["eu", "us"]}])
    plan(
        api,
        [
            {
                "billable_metric_code": "api",
                "charge_model": "standard",
                "properties": {"amount": "1"},
            }
        ],
    )
    subscribe(api)
    send(api, [ev("eu", "api", 2, region="eu"), ev("us", "api", 2, region="us")])
    assert by_code(usage(api))["api"]["amount_cents"] == 200
    current = api.get("/api/v1/plans/p").json()["plan"]["charges"][0]
    r = api.put(
        "/api/v1/plans/p",
        json={
            "plan": {
                "charges": [
                    {
                        "id": current["lago_id"],
                        "billable_metric_code": "api",
                        "charge_model": "standard",
                        "properties": {"amount": "1"},
                        "filters": [{"values": {"region": ["us"]}, "properties": {"amount": "3"}}],
                    }
                ]
            }
        },
    )
    assert r.status_code == 200, r.text
    # The existing events are re-bucketed: us 1 × 3 + default (eu) 1 × 1 = 4.00
    api_usage = by_code(usage(api))["api"]
    assert api_usage["amount_cents"] == 400
    assert [f["units"] for f in api_usage["filters"]] == ["1", "1"]
