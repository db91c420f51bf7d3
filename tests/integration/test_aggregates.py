"""The per-hour aggregates are a faithful cache of the raw event log.

- Current usage read from the aggregates equals the domain's `aggregate()` over the raw events,
  for every aggregation type, whatever the batches the events came in (hypothesis).
- `releve aggregates rebuild` (delete + recompute from the log) reproduces them exactly.
"""

from __future__ import annotations

import itertools
import json
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any
from uuid import UUID

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from releve.adapters.sql import tables
from releve.bootstrap import Container
from releve.domain.aggregations import aggregate
from releve.domain.usage import Event
from releve.entrypoints.cli import app
from releve.services.event_input import parse_timestamp
from releve.services.pagination import PageRequest

pytestmark = pytest.mark.store

MARCH = datetime(2024, 3, 1, tzinfo=UTC)
NOW = datetime(2024, 3, 15, 12, tzinfo=UTC)  # the FakeClock's time
METRICS: dict[str, dict[str, Any]] = {
    "count": {"aggregation_type": "count_agg"},
    "sum": {"aggregation_type": "sum_agg", "field_name": "value"},
    "max": {"aggregation_type": "max_agg", "field_name": "value"},
    "latest": {"aggregation_type": "latest_agg", "field_name": "value"},
    "unique": {"aggregation_type": "unique_count_agg", "field_name": "user"},
    "seats": {"aggregation_type": "unique_count_agg", "field_name": "user", "recurring": True},
    "weighted": {"aggregation_type": "weighted_sum_agg", "field_name": "value"},
    "p90": {"aggregation_type": "percentile_agg", "field_name": "value", "percentile": 90},
    "increase": {"aggregation_type": "increase_agg", "field_name": "value"},
}


def setup_plan(container: Container, org: UUID) -> None:
    for code, definition in METRICS.items():
        container.billable_metrics.create(org, {"code": code, "name": code, **definition})
    charges = [
        {"billable_metric_code": code, "charge_model": "standard", "properties": {"amount": "1"}}
        for code in METRICS
    ]
    container.plans.create(
        org,
        {
            "name": "All",
            "code": "all",
            "interval": "monthly",
            "amount_cents": 0,
            "amount_currency": "EUR",
            "charges": charges,
        },
    )


def subscribe(container: Container, org: UUID, external_id: str, start: datetime = MARCH) -> None:
    container.subscriptions.create(
        org,
        {
            "external_customer_id": "cus_1",
            "plan_code": "all",
            "external_id": external_id,
            "subscription_at": start.isoformat(),
        },
    )


raw_events = st.lists(
    st.tuples(
        st.sampled_from(sorted(METRICS)),
        st.integers(0, 100_000).map(lambda n: Decimal(n) / 100),
        st.integers(0, int((NOW - MARCH).total_seconds()) - 1),
        st.sampled_from(["u1", "u2", "u3"]),
        st.sampled_from(["add", "add", "remove"]),
    ),
    min_size=1,
    max_size=25,
)
_external_ids = itertools.count()


@settings(
    max_examples=12,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(events=raw_events, cuts=st.lists(st.integers(1, 25), min_size=1, max_size=4))
def test_current_usage_from_aggregates_equals_aggregate_over_raw_events(
    container: Container, org: tuple[UUID, str], events: list[Any], cuts: list[int]
) -> None:
    org_id = org[0]
    if container.plans.list(org_id, PageRequest()).total_count == 0:
        setup_plan(container, org_id)
    external_id = f"sub_{next(_external_ids)}"
    subscribe(container, org_id, external_id)
    payloads = [
        {
            "transaction_id": f"{external_id}_{i}",
            "external_subscription_id": external_id,
            "code": code,
            "timestamp": (MARCH + timedelta(seconds=offset)).isoformat(),
            "properties": {"value": value, "user": user, "operation_type": op},
        }
        for i, (code, value, offset, user, op) in enumerate(events)
    ]
    # Ingest in arbitrary batches: the aggregates must not depend on how events arrived.
    start = 0
    for size in itertools.cycle(cuts):
        if start >= len(payloads):
            break
        container.events.ingest_batch(org_id, payloads[start : start + size])
        start += size
    usage = container.usage.current_usage(org_id, "cus_1", external_id)
    assert (usage.period.start, usage.period.end) == (MARCH, datetime(2024, 4, 1, tzinfo=UTC))
    for charge_usage in usage.charges:
        metric = charge_usage.charge.metric
        raw = [
            Event(
                transaction_id=p["transaction_id"],
                code=p["code"],
                external_subscription_id=external_id,
                timestamp=parse_timestamp(p["timestamp"]) or NOW,
                properties=p["properties"],
            )
            for p in payloads
            if p["code"] == metric.code
        ]
        expected = aggregate(metric, raw, usage.period.start, usage.period.end)
        (fee,) = charge_usage.fees
        assert (fee.units, fee.events_count) == (max(expected.units, Decimal(0)), len(raw)), (
            metric.code
        )


def snapshot(engine: sa.Engine) -> tuple[list[Any], list[Any]]:
    with engine.connect() as c:
        aggregates = [
            (
                r.subscription_id,
                r.charge_id,
                r.bucket,
                r.hour_start,
                json.dumps(r.state, default=str),
                r.events_count,
            )
            for r in c.execute(
                tables.usage_aggregates.select().order_by(
                    tables.usage_aggregates.c.subscription_id,
                    tables.usage_aggregates.c.charge_id,
                    tables.usage_aggregates.c.bucket,
                    tables.usage_aggregates.c.hour_start,
                )
            )
        ]
        events = [
            (r.transaction_id, r.status, r.unmatched_reason, r.subscription_id)
            for r in c.execute(tables.events.select().order_by(tables.events.c.transaction_id))
        ]
    return aggregates, events


def test_rebuild_reproduces_the_aggregates_exactly(
    container: Container,
    org: tuple[UUID, str],
    engine: sa.Engine,
    database_url: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    org_id = org[0]
    setup_plan(container, org_id)
    subscribe(container, org_id, "a", start=datetime(2024, 1, 15, tzinfo=UTC))
    subscribe(container, org_id, "b")
    payloads = [
        {
            "transaction_id": f"t{i}",
            "external_subscription_id": ["a", "b", "ghost"][i % 3],
            "code": sorted(METRICS)[i % len(METRICS)] if i % 11 else "unknown",
            "timestamp": (datetime(2024, 1, 10, tzinfo=UTC) + timedelta(hours=7 * i)).isoformat(),
            "properties": {"value": Decimal(i % 17) / 4, "user": f"u{i % 5}"},
        }
        for i in range(220)
    ]
    for start in range(0, len(payloads), 100):
        container.events.ingest_batch(org_id, payloads[start : start + 100])
    before = snapshot(engine)
    assert len(before[0]) > 50
    statuses = {e[2] for e in before[1]}
    assert {None, "unknown_metric_code", "unknown_subscription", "outside_subscription"} <= statuses
    usage_before = container.usage.current_usage(org_id, "cus_1", "a")

    with engine.begin() as c:  # wipe the cache completely
        c.execute(tables.usage_aggregates.delete())
    monkeypatch.setenv("RELEVE_DATABASE_URL", database_url)
    result = CliRunner().invoke(app, ["aggregates", "rebuild", "--organization", str(org_id)])
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout.strip().splitlines()[-1])
    assert summary == {"organizations": 1, "subscriptions": 3, "events": 220}
    assert snapshot(engine) == before
    assert container.usage.current_usage(org_id, "cus_1", "a") == usage_before


def test_concurrent_ingests_into_the_same_hour_lose_no_increment(
    container: Container, org: tuple[UUID, str]
) -> None:
    import threading

    org_id = org[0]
    setup_plan(container, org_id)
    subscribe(container, org_id, "hot")
    errors: list[BaseException] = []
    barrier = threading.Barrier(6)

    def worker(k: int) -> None:
        barrier.wait()
        try:
            for b in range(5):
                container.events.ingest_batch(
                    org_id,
                    [
                        {
                            "transaction_id": f"w{k}_{b}_{i}",
                            "external_subscription_id": "hot",
                            "code": "sum",
                            "timestamp": "2024-03-10T10:30:00Z",
                            "properties": {"value": 1},
                        }
                        for i in range(10)
                    ],
                )
        except BaseException as exc:  # collected and asserted below
            errors.append(exc)

    threads = [threading.Thread(target=worker, args=(k,)) for k in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    usage = container.usage.current_usage(org_id, "cus_1", "hot")
    (fee,) = next(c for c in usage.charges if c.charge.metric.code == "sum").fees
    assert (fee.units, fee.events_count) == (Decimal(300), 300)
