"""The per-local-day rollup: usage read through daily + edge-hour states equals usage computed
from the raw events, for every aggregation type, for periods starting and ending mid-day in a
zone offset by 5:30 (hypothesis); every daily row is the merge of its day's hourly rows, after
ingest in arbitrary batches, after a late event, a rematch, a zone change and a rebuild.
"""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any
from uuid import UUID

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from releve.adapters.sql import tables
from releve.adapters.sql.uow import SqlUnitOfWorkFactory
from releve.bootstrap import Container
from releve.domain.aggregations import aggregator_for, in_period, state_of
from releve.domain.periods import Period, parse_timezone
from releve.domain.usage import Event
from releve.services.subscriptions import domain_subscription
from releve.services.usage import _earlier_period_starts, usage_for_period
from releve.services.usage_recording import local_day
from tests.integration.test_aggregates import METRICS, NOW, setup_plan

pytestmark = pytest.mark.store

ZONE = "Asia/Kolkata"  # +05:30: local days start at 18:30 UTC
START = datetime(2024, 3, 1, tzinfo=parse_timezone(ZONE)).astimezone(UTC)
_ids = itertools.count()

raw_events = st.lists(
    st.tuples(
        st.sampled_from(sorted(METRICS)),
        st.integers(0, 100_000).map(lambda n: Decimal(n) / 100),
        st.integers(0, int((NOW - START).total_seconds()) - 1),
        st.sampled_from(["u1", "u2", "u3"]),
        st.sampled_from(["add", "add", "remove"]),
    ),
    min_size=1,
    max_size=30,
)
# Period bounds as hours after the subscription start (mid-day, whole days, or the same day).
bounds = st.tuples(st.integers(0, 14 * 24), st.integers(1, 14 * 24))


def _ingest(container: Container, org_id: UUID, external_id: str, events: list[Any]) -> list[Event]:
    payloads = [
        {
            "transaction_id": f"{external_id}_{i}",
            "external_subscription_id": external_id,
            "code": code,
            "timestamp": (START + timedelta(seconds=offset)).isoformat(),
            "properties": {"value": value, "user": user, "operation_type": op},
        }
        for i, (code, value, offset, user, op) in enumerate(events)
    ]
    for first in range(0, len(payloads), 7):
        container.events.ingest_batch(org_id, payloads[first : first + 7])
    return [
        Event(
            transaction_id=p["transaction_id"],
            code=p["code"],
            external_subscription_id=external_id,
            timestamp=datetime.fromisoformat(p["timestamp"]),
            properties=p["properties"],
        )
        for p in payloads
    ]


def _subscribe(container: Container, org_id: UUID, external_id: str) -> None:
    if container.plans.list(org_id, _page()).total_count == 0:
        setup_plan(container, org_id)
        container.customers.upsert(org_id, {"external_id": "cus_in", "timezone": ZONE})
    container.subscriptions.create(
        org_id,
        {
            "external_customer_id": "cus_in",
            "plan_code": "all",
            "external_id": external_id,
            "subscription_at": START.isoformat(),
        },
    )


def _page() -> Any:
    from releve.services.pagination import PageRequest

    return PageRequest()


def _expected(metric: Any, raw: list[Event], starts: list[datetime], period: Period) -> Any:
    aggregator = aggregator_for(metric)
    mine = [e for e in raw if e.code == metric.code]
    carried = None
    if aggregator.uses_carried:
        for lo, hi in itertools.pairwise([*starts, period.start]):
            carried = aggregator.carry_over(state_of(metric, in_period(mine, lo, hi)), carried)
    current = state_of(metric, in_period(mine, period.start, period.end))
    return aggregator.result(current, period.start, period.end, carried)


def _read(engine: sa.Engine, org_id: UUID, external_id: str, period: Period) -> Any:
    with SqlUnitOfWorkFactory(engine)(read_only=True) as uow:
        subscription = uow.subscriptions.current(org_id, external_id)
        assert subscription is not None
        stored = uow.plans.get_by_id(org_id, subscription.plan_id)
        assert stored is not None
        domain = domain_subscription(subscription, stored.plan, parse_timezone(ZONE))
        assert domain is not None
        usage = usage_for_period(
            uow, org_id, subscription.id, external_id, domain, stored.plan, period
        )
        return stored.plan, _earlier_period_starts(domain, period), usage


@settings(
    max_examples=15,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(events=raw_events, cut=bounds)
def test_daily_and_edge_hours_equal_raw_events_for_any_period(
    container: Container, org: tuple[UUID, str], engine: sa.Engine, events: list[Any], cut: Any
) -> None:
    org_id = org[0]
    external_id = f"day_{next(_ids)}"
    _subscribe(container, org_id, external_id)
    raw = _ingest(container, org_id, external_id, events)
    lo, length = cut
    period = Period(START + timedelta(hours=lo), START + timedelta(hours=lo + length))
    plan, starts, usage = _read(engine, org_id, external_id, period)
    for charge in plan.charges:
        facts = usage[charge.id]
        expected = _expected(charge.metric, raw, starts, period)
        got = list(facts.values())
        count = sum(f.events_count for f in got)
        assert count == expected.events_count, charge.metric.code
        if got:
            (only,) = got
            assert only.units == expected.units, charge.metric.code
        else:
            assert expected.units == 0, charge.metric.code
    assert_rollup_exact(engine)


def daily_from_hours(engine: sa.Engine) -> tuple[list[Any], list[Any]]:
    """(daily rows, daily rows recomputed from the hourly rows), comparable."""
    ua, ud = tables.usage_aggregates, tables.usage_daily_aggregates
    with SqlUnitOfWorkFactory(engine)(read_only=True) as uow:
        conn = uow.usage_aggregates._c
        owners = {
            s.id: (s.organization_id, s.plan_id, s.customer_id)
            for s in conn.execute(tables.subscriptions.select())
        }
        merged: dict[tuple[Any, ...], Any] = {}
        for row in conn.execute(ua.select()):
            org_id, plan_id, customer_id = owners[row.subscription_id]
            customer = conn.execute(
                tables.customers.select().where(tables.customers.c.id == customer_id)
            ).one()
            tz = parse_timezone(customer.timezone or "UTC")
            stored = uow.plans.get_by_id(org_id, plan_id)
            assert stored is not None
            charge = next(c for c in stored.plan.charges if UUID(c.id) == row.charge_id)
            aggregator = aggregator_for(charge.metric)
            key = (row.subscription_id, row.charge_id, row.bucket, local_day(row.hour_start, tz))
            state = aggregator.load_state(row.state)
            known = merged.get(key)
            merged[key] = (
                aggregator,
                state if known is None else aggregator.merge(known[1], state),
            )
        expected = sorted((k, a.dump_state(s)) for k, (a, s) in merged.items())
        stored_rows = sorted(
            ((r.subscription_id, r.charge_id, r.bucket, r.day_start), r.state)
            for r in conn.execute(ud.select())
        )
    return stored_rows, expected


def assert_rollup_exact(engine: sa.Engine) -> None:
    stored, expected = daily_from_hours(engine)
    assert [k for k, _ in stored] == [k for k, _ in expected]
    for (key, got), (_, want) in zip(stored, expected, strict=True):
        assert got == want, key


def test_rollup_follows_late_events_rematches_zone_changes_and_rebuilds(
    container: Container, org: tuple[UUID, str], engine: sa.Engine
) -> None:
    org_id = org[0]
    _subscribe(container, org_id, "live")
    events = [
        (code, Decimal(i % 9) / 4, 3_600 * 7 * i + 60 * i, f"u{i % 4}", "add")
        for i, code in enumerate(sorted(METRICS) * 6)
    ]
    _ingest(container, org_id, "live", events)
    assert_rollup_exact(engine)
    # A late event into an already rolled-up day.
    container.events.ingest_batch(
        org_id,
        [
            {
                "transaction_id": "late",
                "external_subscription_id": "live",
                "code": "sum",
                "timestamp": (START + timedelta(hours=30)).isoformat(),
                "properties": {"value": "2.5"},
            }
        ],
    )
    assert_rollup_exact(engine)
    # A zone change rematches every hour and day into the new zone.
    container.customers.upsert(org_id, {"external_id": "cus_in", "timezone": "America/New_York"})
    assert_rollup_exact(engine)
    with engine.connect() as c:
        days = {r.day_start for r in c.execute(tables.usage_daily_aggregates.select())}
    assert days and all(d.hour in (4, 5) for d in days)  # New York midnights in UTC
    container.customers.upsert(org_id, {"external_id": "cus_in", "timezone": ZONE})
    before = daily_from_hours(engine)
    # A rebuild from the raw log reproduces them.
    with engine.begin() as c:
        c.execute(tables.usage_daily_aggregates.delete())
        c.execute(tables.usage_aggregates.delete())
    rebuilt = container.aggregates_rebuild if hasattr(container, "aggregates_rebuild") else None
    if rebuilt is None:
        from releve.services.usage_recording import AggregateRebuilder, UsageRecorder

        rebuilt = AggregateRebuilder(
            SqlUnitOfWorkFactory(engine), UsageRecorder(container.clock.now)
        )
    for external_id in rebuilt.external_ids(org_id):
        rebuilt.rebuild(org_id, external_id)
    assert daily_from_hours(engine) == before
    assert_rollup_exact(engine)
