"""The usage reader caches decoded and merged states per row version (`usage_states`): a
late event into a past day, a new day row, a change of today's row, a late event into an
earlier period (carried seats) and a rematch all show in the very next call. The clock stays
fixed, so rows rewritten in the same instant differ only by their event count.
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

from releve.bootstrap import Container
from releve.domain.aggregations import aggregate
from releve.domain.usage import Event
from releve.services import usage_states
from releve.services.event_input import parse_timestamp
from releve.services.pagination import PageRequest
from releve.settings import Settings
from tests.integration.support import FakeClock
from tests.integration.test_aggregates import (
    MARCH,
    METRICS,
    raw_events,
    setup_plan,
    subscribe,
)

pytestmark = pytest.mark.store

FEBRUARY = datetime(2024, 2, 1, tzinfo=UTC)
PLAIN = [code for code, d in METRICS.items() if not d.get("recurring") and code != "increase"]


class Log:
    """What was sent, to recompute the expected usage from the raw events."""

    def __init__(self, container: Container, org_id: UUID, external_id: str) -> None:
        self.container, self.org_id, self.external_id = container, org_id, external_id
        self.payloads: list[dict[str, Any]] = []
        self.metrics: dict[str, Any] = {}
        self.period: Any = None

    def send(
        self, code: str, at: datetime, value: str = "1", user: str = "u1", op: str = "add"
    ) -> None:
        payload = {
            "transaction_id": f"{self.external_id}_{len(self.payloads)}",
            "external_subscription_id": self.external_id,
            "code": code,
            "timestamp": at.isoformat(),
            "properties": {"value": value, "user": user, "operation_type": op},
        }
        self.container.events.ingest_batch(self.org_id, [payload])
        self.payloads.append(payload)

    def units(self) -> dict[str, Decimal]:
        usage = self.container.usage.current_usage(self.org_id, "cus_1", self.external_id)
        self.metrics = {c.charge.metric.code: c.charge.metric for c in usage.charges}
        self.period = usage.period
        return {c.charge.metric.code: c.units for c in usage.charges}

    def expected(self) -> dict[str, Decimal]:
        """Units of the last call's period computed from the raw events."""
        start, end = self.period.start, self.period.end
        found = {}
        for code in PLAIN:
            raw = [
                Event(
                    transaction_id=p["transaction_id"],
                    code=code,
                    external_subscription_id=self.external_id,
                    timestamp=parse_timestamp(p["timestamp"]) or start,
                    properties=p["properties"],
                )
                for p in self.payloads
                if p["code"] == code
            ]
            found[code] = max(aggregate(self.metrics[code], raw, start, end).units, Decimal(0))
        return found


def test_past_day_changes_show_in_the_next_call(
    container: Container, org: tuple[UUID, str], clock: FakeClock
) -> None:
    org_id = org[0]
    setup_plan(container, org_id)
    subscribe(container, org_id, "cached")
    log = Log(container, org_id, "cached")
    for day, value, user in ((2, "3", "u1"), (5, "7", "u2"), (15, "2", "u3")):
        for code in PLAIN:
            log.send(code, MARCH + timedelta(days=day - 1, hours=3), value, user)
    first = log.units()
    assert {c: first[c] for c in PLAIN} == log.expected()
    assert log.units() == first  # served from the caches, unchanged

    # A late event into an existing past day (same clock instant: only its count changes).
    for code in PLAIN:
        log.send(code, MARCH + timedelta(days=4, hours=9), "40", "u9")
    second = log.units()
    assert {c: second[c] for c in PLAIN} == log.expected()
    assert second["unique"] == first["unique"] + 1 and second["max"] == Decimal(40)

    # A late event into a past day that had no row, between cached ones.
    log.send("unique", MARCH + timedelta(days=2, hours=1), user="u8")
    log.send("latest", MARCH + timedelta(days=14, hours=5), "0.5")  # the newest value now
    third = log.units()
    assert third["unique"] == second["unique"] + 1 and third["latest"] == Decimal("0.5")

    # Today's row changes, then a new day starts (a new newest row).
    log.send("unique", MARCH + timedelta(days=14, hours=11), user="u7")
    assert log.units()["unique"] == third["unique"] + 1
    clock.advance(timedelta(days=1))
    log.send("unique", MARCH + timedelta(days=15, hours=1), user="u6")
    log.send("sum", MARCH + timedelta(days=15, hours=1), "5")
    fourth = log.units()
    assert {c: fourth[c] for c in PLAIN} == log.expected()
    assert fourth["unique"] == third["unique"] + 2

    # Late events into yesterday (outside the cached head), then today again.
    log.send("unique", MARCH + timedelta(days=14, hours=20), user="u5")
    log.send("max", MARCH + timedelta(days=14, hours=20), "41")
    assert log.units()["unique"] == fourth["unique"] + 1
    log.send("unique", MARCH + timedelta(days=15, hours=2), user="u4")
    fifth = log.units()
    assert {c: fifth[c] for c in PLAIN} == log.expected()
    assert (fifth["unique"], fifth["max"]) == (fourth["unique"] + 2, Decimal(41))

    # A zone change rematches every row into other local days and hours.
    container.customers.upsert(org_id, {"external_id": "cus_1", "timezone": "Asia/Kolkata"})
    after = log.units()
    assert {c: after[c] for c in PLAIN} == log.expected()


def test_a_late_removal_in_an_earlier_period_changes_the_carried_seats(
    container: Container, org: tuple[UUID, str]
) -> None:
    org_id = org[0]
    setup_plan(container, org_id)
    subscribe(container, org_id, "seats", start=FEBRUARY)
    log = Log(container, org_id, "seats")
    log.send("seats", FEBRUARY + timedelta(days=3), user="u1")
    log.send("seats", FEBRUARY + timedelta(days=4), user="u2")
    log.send("seats", MARCH + timedelta(days=2), user="u1")
    assert log.units()["seats"] == 2
    assert log.units()["seats"] == 2
    # u2 left in February (a late event into the cached earlier period): not carried.
    log.send("seats", FEBRUARY + timedelta(days=4, hours=2), user="u2", op="remove")
    assert log.units()["seats"] == 1
    # And came back late in February, into a day that had no row.
    log.send("seats", FEBRUARY + timedelta(days=20), user="u2")
    assert log.units()["seats"] == 2


_runs = itertools.count()


@settings(
    max_examples=10,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(events=raw_events, cuts=st.lists(st.integers(1, 6), min_size=1, max_size=4))
def test_usage_read_after_every_batch_equals_the_raw_events(
    container: Container, org: tuple[UUID, str], events: list[Any], cuts: list[int]
) -> None:
    """Batches land in any days, old or new, between reads: every read is the raw truth."""
    org_id = org[0]
    external_id = f"batches_{next(_runs)}"
    if container.plans.list(org_id, PageRequest()).total_count == 0:
        setup_plan(container, org_id)
    subscribe(container, org_id, external_id)
    log = Log(container, org_id, external_id)
    at = 0
    for size in itertools.cycle(cuts):
        if at >= len(events):
            break
        for code, value, offset, user, op in events[at : at + size]:
            log.send(code, MARCH + timedelta(seconds=offset), str(value), user, op)
        at += size
        units = log.units()
        assert {c: units[c] for c in PLAIN} == log.expected()


def test_tiny_caches_evict_and_still_read_exactly(
    container: Container, org: tuple[UUID, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Caches of a few units evict rows between listing and merging: they are fetched again."""
    monkeypatch.setattr(usage_states, "_decoded", usage_states._Bounded(2))
    monkeypatch.setattr(usage_states, "_merged", usage_states._Bounded(3))
    org_id = org[0]
    setup_plan(container, org_id)
    subscribe(container, org_id, "tiny")
    log = Log(container, org_id, "tiny")
    for day in (1, 4, 9, 14, 2, 15, 9):
        for code in PLAIN:
            log.send(code, MARCH + timedelta(days=day - 1, hours=day), str(day), f"u{day}")
        units = log.units()
        assert {c: units[c] for c in PLAIN} == log.expected()
    assert len(usage_states._merged._items) <= 3


def test_the_cache_bound_evicts_the_oldest_entries_by_weight() -> None:
    cache: usage_states._Bounded[str] = usage_states._Bounded(10)
    cache.put("a", "A", 4)
    cache.put("b", "B", 4)
    cache.put("a", "A2", 5)  # replaced: a moves to the newest, 9 units
    assert (cache.get("a"), cache.get("b")) == ("A2", "B")
    cache.put("c", "C", 2)  # 11 > 10: b, the oldest, goes
    assert ("b" in cache, cache.get("a"), cache.get("c")) == (False, "A2", "C")
    cache.put("d", "D", 50)  # alone over the budget: kept, everything older goes
    assert [k for k in "acd" if k in cache] == ["d"]


def test_a_smaller_budget_evicts_the_oldest_at_once() -> None:
    cache: usage_states._Bounded[str] = usage_states._Bounded(10)
    for key in "abc":
        cache.put(key, key.upper(), 3)
    cache.resize(6)
    assert [k for k in "abc" if k in cache] == ["b", "c"]


def test_the_cache_budget_comes_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """`RELEVE_USAGE_CACHE_MB` bounds both caches (a third for decoded rows); a value that is not
    a whole number of megabytes stops the start-up with a message naming the variable."""
    assert Settings.from_env({}).usage_cache_mb == 375
    assert Settings.from_env({"RELEVE_USAGE_CACHE_MB": " 30 "}).usage_cache_mb == 30
    for bad in ("-5", "1.5", "lots"):
        with pytest.raises(ValueError, match="RELEVE_USAGE_CACHE_MB must be a whole number"):
            Settings.from_env({"RELEVE_USAGE_CACHE_MB": bad})
    monkeypatch.setattr(usage_states, "_decoded", usage_states._Bounded(1))
    monkeypatch.setattr(usage_states, "_merged", usage_states._Bounded(1))
    usage_states.set_cache_budget(30)  # 30 MB at ~250 bytes a unit
    assert (usage_states._decoded._budget, usage_states._merged._budget) == (40_000, 80_000)


def test_the_versions_query_never_reads_the_daily_states(
    container: Container, org: tuple[UUID, str], engine: sa.Engine
) -> None:
    """SQLite: the per-call versions query is answered by the covering index (migration 0013),
    never by the table rows, whose updated_at lies after the large state's overflow pages."""
    if engine.dialect.name != "sqlite":
        pytest.skip("PostgreSQL keeps large states out of line (TOAST)")
    org_id = org[0]
    setup_plan(container, org_id)
    subscribe(container, org_id, "plan")
    log = Log(container, org_id, "plan")
    log.send("unique", MARCH + timedelta(days=1))
    seen: list[tuple[str, Any]] = []

    def grab(conn: Any, cursor: Any, statement: str, parameters: Any, *_: Any) -> None:
        if "usage_daily_aggregates" in statement and "state" not in statement:
            seen.append((statement, parameters))

    sa.event.listen(engine, "before_cursor_execute", grab)
    try:
        log.units()
    finally:
        sa.event.remove(engine, "before_cursor_execute", grab)
    assert seen
    with engine.connect() as c:
        for statement, parameters in seen:
            plan = " ".join(
                str(row[-1])
                for row in c.exec_driver_sql(f"EXPLAIN QUERY PLAN {statement}", parameters)
            )
            assert "COVERING INDEX ix_usage_daily_aggregates_versions" in plan, plan
