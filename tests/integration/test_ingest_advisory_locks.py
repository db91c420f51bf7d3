"""`SqlUsageAggregateRepository.lock` takes every subscription's advisory lock in one statement.

What matters is the effect, observed from a second connection: while the first transaction
is open, each of its subscriptions' locks is held (another transaction cannot take it), and a
subscription not in the group stays free; at commit, all are released.
"""

from __future__ import annotations

import uuid

import pytest
import sqlalchemy as sa

from releve.adapters.sql.repositories.usage_aggregates import SqlUsageAggregateRepository, _lock_id

pytestmark = pytest.mark.store


def _free(engine: sa.Engine, subscription_id: uuid.UUID) -> bool:
    with engine.connect() as other:
        taken = other.execute(
            sa.select(sa.func.pg_try_advisory_xact_lock(_lock_id(subscription_id)))
        ).scalar()
        other.rollback()
    return bool(taken)


def test_group_lock_holds_each_subscription_until_commit(engine: sa.Engine) -> None:
    if engine.dialect.name != "postgresql":
        pytest.skip("SQLite serializes writers with BEGIN IMMEDIATE; no advisory locks")
    group = [uuid.uuid4() for _ in range(50)]
    outsider = uuid.uuid4()
    with engine.connect() as c:
        SqlUsageAggregateRepository(c).lock(group + group[:3])  # duplicates are harmless
        assert not any(_free(engine, s) for s in group)
        assert _free(engine, outsider)
        c.commit()
    assert all(_free(engine, s) for s in group)


def test_empty_group_takes_no_lock(engine: sa.Engine) -> None:
    with engine.connect() as c:
        SqlUsageAggregateRepository(c).lock([])
        c.commit()
