"""The driver-level aggregate load/upsert (`aggregate_rows`): exact round trip on both stores,
and on SQLite a seek per key, never a scan of the organization's rows."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from uuid import UUID

import pytest
import sqlalchemy as sa

from releve.adapters.sql import tables
from releve.adapters.sql.repositories.aggregate_rows import SQLITE_CHUNK, _sqlite_load
from releve.adapters.sql.repositories.usage_aggregates import SqlUsageAggregateRepository
from releve.bootstrap import Container
from releve.services.records import AggregateKey, UsageAggregate
from tests.integration.test_aggregates import setup_plan, subscribe

pytestmark = pytest.mark.store

HOUR = datetime(2024, 3, 1, 5, tzinfo=UTC)


@pytest.fixture
def ids(container: Container, engine: sa.Engine, org: tuple[UUID, str]) -> tuple[UUID, UUID]:
    """A subscription and one of its plan's charges (the aggregates' foreign keys)."""
    setup_plan(container, org[0])
    subscribe(container, org[0], "sub_1")
    with engine.connect() as c:
        sub = c.execute(sa.select(tables.subscriptions.c.id)).scalar_one()
        charge = c.execute(sa.select(tables.charges.c.id).limit(1)).scalar_one()
    return sub, charge


def test_upsert_then_load_round_trips_exact_states_and_only_existing_keys(
    engine: sa.Engine, org: tuple[UUID, str], ids: tuple[UUID, UUID]
) -> None:
    org_id, (sub, charge) = org[0], ids
    keys = [
        AggregateKey(sub, charge, f'[null,["r{i}"]]', HOUR + timedelta(hours=i)) for i in range(3)
    ]
    state = {"v": 1, "total": "0.1000000000000000000000000001", "values": ["é", None]}
    first = [UsageAggregate(keys[0], state, 7), UsageAggregate(keys[1], {"v": 1}, 1)]
    at = datetime(2024, 3, 2, tzinfo=UTC)
    with engine.begin() as c:
        repo = SqlUsageAggregateRepository(c)
        repo.upsert(org_id, first, at)
        repo.upsert_daily(org_id, first[:1], at)
    with engine.begin() as c:  # an upsert of an existing key replaces its state and count
        SqlUsageAggregateRepository(c).upsert(org_id, [UsageAggregate(keys[1], {"v": 2}, 3)], at)
    with engine.connect() as c:
        repo = SqlUsageAggregateRepository(c)
        hourly = repo.load(org_id, keys)
        daily = repo.load_daily(org_id, keys)
        other_org = repo.load(UUID(int=1), keys)
    assert hourly == {
        keys[0]: UsageAggregate(keys[0], state, 7),
        keys[1]: UsageAggregate(keys[1], {"v": 2}, 3),
    }
    assert daily == {keys[0]: UsageAggregate(keys[0], state, 7)}
    assert other_org == {}
    assert hourly[keys[0]].state["total"] == "0.1000000000000000000000000001"


def test_load_of_more_keys_than_one_sqlite_statement_finds_each(
    engine: sa.Engine, org: tuple[UUID, str], ids: tuple[UUID, UUID]
) -> None:
    org_id, (sub, charge) = org[0], ids
    n = SQLITE_CHUNK + 5
    keys = [AggregateKey(sub, charge, "[null,[]]", HOUR + timedelta(hours=i)) for i in range(n)]
    at = datetime(2024, 3, 2, tzinfo=UTC)
    with engine.begin() as c:
        rows = [UsageAggregate(k, {"n": Decimal(i)}, i + 1) for i, k in enumerate(keys) if i % 2]
        SqlUsageAggregateRepository(c).upsert(org_id, rows, at)
    with engine.connect() as c:
        found = SqlUsageAggregateRepository(c).load(org_id, keys)
    assert sorted(a.events_count for a in found.values()) == list(range(2, n + 1, 2))
    assert all(found[k].events_count == i + 1 for i, k in enumerate(keys) if i % 2)


def test_sqlite_load_seeks_each_key_in_the_primary_key(engine: sa.Engine) -> None:
    if engine.dialect.name != "sqlite":
        pytest.skip("SQLite's planner only")
    with engine.connect() as c:
        plan = c.exec_driver_sql(
            "EXPLAIN QUERY PLAN " + _sqlite_load("usage_aggregates", "hour_start", 2),
            tuple([0, "a", "b", "c", "d", 1, "a", "b", "c", "d", "o"]),
        ).fetchall()
    details = [row[-1] for row in plan]
    assert any(d.startswith("SEARCH a USING INDEX") and "hour_start=?" in d for d in details)
    assert not any(d.startswith("SCAN a") for d in details)
