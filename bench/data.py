"""Seeded, realistic usage data: customers, metrics with dimensions, and their events.

Same seed → same customers, metrics and events (transaction ids included), so two runs of the
benchmark send byte-identical traffic. Customer activity is skewed (a Pareto law: a few
customers send most events), properties carry dimensions (region, method, instance type) that
the metrics filter on, and values are exact decimals or integers as a Lago client sends them.
"""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

REGIONS = ["eu-west-1", "us-east-1", "ap-southeast-1"]
METHODS = ["GET", "POST", "PUT", "DELETE"]
INSTANCE_TYPES = ["small", "medium", "large", "xlarge"]
DAY = 86_400

# (metric definition as the API takes it, share of the events)
METRICS: list[tuple[dict[str, Any], float]] = [
    (
        {
            "name": "API calls",
            "code": "api_calls",
            "aggregation_type": "count_agg",
            "filters": [
                {"key": "region", "values": REGIONS},
                {"key": "method", "values": METHODS},
            ],
        },
        0.50,
    ),
    (
        {
            "name": "Bandwidth",
            "code": "bandwidth_bytes",
            "aggregation_type": "sum_agg",
            "field_name": "bytes",
            "filters": [{"key": "region", "values": REGIONS}],
        },
        0.20,
    ),
    (
        {
            "name": "Compute",
            "code": "compute_seconds",
            "aggregation_type": "sum_agg",
            "field_name": "seconds",
            "filters": [
                {"key": "region", "values": REGIONS},
                {"key": "instance_type", "values": INSTANCE_TYPES},
            ],
        },
        0.15,
    ),
    (
        {
            "name": "Storage",
            "code": "storage_gb",
            "aggregation_type": "max_agg",
            "field_name": "gb",
        },
        0.10,
    ),
    (
        {
            "name": "Active users",
            "code": "active_users",
            "aggregation_type": "unique_count_agg",
            "field_name": "user_id",
        },
        0.05,
    ),
]


@dataclass(frozen=True)
class Dataset:
    """Everything one benchmark run sends, plus what the store must hold afterwards."""

    seed: int
    customers: list[str]  # external ids; customer i has the subscription `sub_<i>`
    events: list[dict[str, Any]]
    start: int  # Unix seconds: events fall in [start, start + days × DAY)
    days: int
    expected_by_code: Counter[str] = field(default_factory=Counter)
    expected_bytes: int = 0  # sum of `bytes` over bandwidth events (checked in SQL)

    @property
    def metrics(self) -> list[dict[str, Any]]:
        return [m for m, _ in METRICS]

    def batches(self, size: int = 100) -> Iterator[list[dict[str, Any]]]:
        for i in range(0, len(self.events), size):
            yield self.events[i : i + size]


def subscription_id(customer: str) -> str:
    return "sub_" + customer.removeprefix("cus_")


def generate(events: int, customers: int, seed: int = 42, start: int = 1_767_225_600) -> Dataset:
    """`events` events over 30 days from `start` (default 2026-01-01 UTC) for `customers`."""
    rng = random.Random(seed)
    days = 30
    ids = [f"cus_{i:06d}" for i in range(customers)]
    # Pareto weights: a long tail of small customers and a few heavy ones.
    weights = [rng.paretovariate(1.2) for _ in ids]
    chosen = rng.choices(ids, weights=weights, k=events)
    codes = rng.choices([m["code"] for m, _ in METRICS], weights=[w for _, w in METRICS], k=events)
    timestamps = sorted(start + rng.randrange(days * DAY) for _ in range(events))
    out: list[dict[str, Any]] = []
    by_code: Counter[str] = Counter()
    total_bytes = 0
    for n in range(events):
        code = codes[n]
        properties = _properties(rng, code)
        if code == "bandwidth_bytes":
            total_bytes += properties["bytes"]
        by_code[code] += 1
        out.append(
            {
                "transaction_id": f"evt_{seed}_{n:09d}",
                "external_subscription_id": subscription_id(chosen[n]),
                "code": code,
                "timestamp": timestamps[n],
                "properties": properties,
            }
        )
    return Dataset(seed, ids, out, start, days, by_code, total_bytes)


def _properties(rng: random.Random, code: str) -> dict[str, Any]:
    region = rng.choice(REGIONS)
    if code == "api_calls":
        return {
            "region": region,
            "method": rng.choice(METHODS),
            "path": f"/v1/r{rng.randrange(50)}",
        }
    if code == "bandwidth_bytes":
        return {"region": region, "bytes": rng.randrange(1, 50_000_000)}
    if code == "compute_seconds":
        seconds = Decimal(rng.randrange(1, 3_600_000)) / 1000  # exact millisecond precision
        return {"region": region, "instance_type": rng.choice(INSTANCE_TYPES), "seconds": seconds}
    if code == "storage_gb":
        return {"gb": Decimal(rng.randrange(1, 10_000_000)) / 1000}
    return {"user_id": f"u_{rng.randrange(5000)}"}
