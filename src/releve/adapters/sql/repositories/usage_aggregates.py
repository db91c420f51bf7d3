"""Per-hour aggregate states and their per-local-day rollup: set-based loads and upserts per
group and table (driver-level, `aggregate_rows`); row versions and state texts for the usage
reader.

Concurrency: `lock` takes a transaction-scoped PostgreSQL advisory lock per subscription (in a
fixed order, so two writers never wait on each other crosswise; all in one statement) before
states are read and merged; a concurrent ingest of the same subscription waits and then reads
the committed state, so no increment is lost. SQLite write transactions are already
serialized (BEGIN IMMEDIATE).
"""

from __future__ import annotations

import functools
from collections.abc import Collection, Sequence
from datetime import datetime
from typing import Any
from uuid import UUID

import sqlalchemy as sa
from sqlalchemy.dialects import sqlite as sqlite_dialect

from releve.adapters.sql.repositories.aggregate_rows import AggregateRows
from releve.adapters.sql.tables import usage_aggregates as ua
from releve.adapters.sql.tables import usage_daily_aggregates as ud
from releve.adapters.sql.types import UtcDateTime
from releve.services.records import AggregateKey, StateRow, StateVersion, UsageAggregate


def _version_columns(table: sa.Table, start: sa.Column[datetime]) -> tuple[Any, ...]:
    """A row's identity and version as `StateVersion` takes them (after `daily`)."""
    c = table.c
    return (c.charge_id, c.bucket, start, c.updated_at, c.events_count)


_LOCK_MANY = sa.text(
    "SELECT pg_advisory_xact_lock(k) FROM unnest(CAST(:keys AS bigint[])) AS k ORDER BY k"
)


def _lock_id(subscription_id: UUID) -> int:
    """A signed 64-bit advisory lock id from the subscription id."""
    value = subscription_id.int >> 64
    return value - (1 << 64) if value >= (1 << 63) else value


class SqlUsageAggregateRepository:
    def __init__(self, connection: sa.Connection) -> None:
        self._c = connection

    def lock(self, subscription_ids: Collection[UUID]) -> None:
        if self._c.dialect.name != "postgresql":
            return
        keys = sorted({_lock_id(s) for s in subscription_ids})
        if keys:
            # One round trip for the whole group (was one per subscription: ~50 per group),
            # still in ascending order; PostgreSQL evaluates a volatile select list after
            # ORDER BY, so the locks are taken in that order.
            self._c.execute(_LOCK_MANY, {"keys": keys})

    def load(
        self, organization_id: UUID, keys: Collection[AggregateKey]
    ) -> dict[AggregateKey, UsageAggregate]:
        return AggregateRows(self._c, "usage_aggregates", "hour_start").load(
            organization_id, list(keys)
        )

    def load_daily(
        self, organization_id: UUID, keys: Collection[AggregateKey]
    ) -> dict[AggregateKey, UsageAggregate]:
        return AggregateRows(self._c, "usage_daily_aggregates", "day_start").load(
            organization_id, list(keys)
        )

    def upsert(
        self, organization_id: UUID, aggregates: Sequence[UsageAggregate], at: datetime
    ) -> None:
        AggregateRows(self._c, "usage_aggregates", "hour_start").upsert(
            organization_id, aggregates, at
        )

    def upsert_daily(
        self, organization_id: UUID, aggregates: Sequence[UsageAggregate], at: datetime
    ) -> None:
        AggregateRows(self._c, "usage_daily_aggregates", "day_start").upsert(
            organization_id, aggregates, at
        )

    def delete(self, organization_id: UUID, subscription_id: UUID, since: datetime | None) -> None:
        query = ua.delete().where(
            ua.c.organization_id == organization_id, ua.c.subscription_id == subscription_id
        )
        if since is not None:
            query = query.where(ua.c.hour_start >= since)
        self._c.execute(query)
        daily = ud.delete().where(
            ud.c.organization_id == organization_id, ud.c.subscription_id == subscription_id
        )
        if since is not None:
            daily = daily.where(ud.c.day_start >= since)
        self._c.execute(daily)

    def for_subscription(
        self,
        organization_id: UUID,
        subscription_id: UUID,
        until: datetime,
        *,
        since: datetime | None = None,
        charge_ids: Collection[UUID] | None = None,
    ) -> list[UsageAggregate]:
        # Only the columns that vary (the subscription is the argument): the read path of
        # current usage and billing decodes thousands of rows, a UUID each saved counts.
        query = sa.select(
            ua.c.charge_id, ua.c.bucket, ua.c.hour_start, ua.c.state, ua.c.events_count
        ).where(
            ua.c.organization_id == organization_id,
            ua.c.subscription_id == subscription_id,
            ua.c.hour_start < until,
        )
        if since is not None:
            query = query.where(ua.c.hour_start >= since)
        if charge_ids is not None:
            if not charge_ids:
                return []
            query = query.where(ua.c.charge_id.in_(sorted(charge_ids)))
        rows = self._c.execute(query.order_by(ua.c.hour_start, ua.c.charge_id, ua.c.bucket))
        return [
            UsageAggregate(
                AggregateKey(subscription_id, charge_id, bucket, hour_start),
                state,
                int(events_count),
            )
            for charge_id, bucket, hour_start, state, events_count in rows
        ]

    def state_versions(
        self,
        organization_id: UUID,
        subscription_id: UUID,
        *,
        hours: Sequence[tuple[datetime, datetime]],
        days: Sequence[tuple[datetime, datetime]],
        charge_ids: Collection[UUID] | None = None,
    ) -> list[StateVersion]:
        # No state column: the reader fetches (`state_texts`) only the rows it has not decoded.
        if charge_ids is not None and not charge_ids:
            return []
        found: list[StateVersion] = []
        for daily, table, column, ranges in (
            (True, ud, ud.c.day_start, days),
            (False, ua, ua.c.hour_start, hours),
        ):
            if not ranges:
                continue
            sqlite = self._c.dialect.name == "sqlite"
            columns = (table.c.charge_id, column, table.c.updated_at)
            # The same ~30 days and charges every call; the type processors were half of this
            # read's time.
            raw = _as_stored(columns, sqlite)
            query = sa.select(raw[0], table.c.bucket, raw[1], raw[2], table.c.events_count).where(
                table.c.organization_id == organization_id,
                table.c.subscription_id == subscription_id,
                sa.or_(*(sa.and_(column >= lo, column < hi) for lo, hi in ranges)),
            )
            if charge_ids is not None:
                query = query.where(table.c.charge_id.in_(sorted(charge_ids)))
            rows = self._c.execute(query)
            if sqlite:
                found.extend(
                    StateVersion(daily, _uuid(charge), bucket, _time(start), _time(at), count)
                    for charge, bucket, start, at, count in rows
                )
            else:
                found.extend(
                    StateVersion(daily, charge, bucket, start, at, int(count))
                    for charge, bucket, start, at, count in rows
                )
        return found

    def state_texts(
        self, organization_id: UUID, subscription_id: UUID, rows: Sequence[StateVersion]
    ) -> list[tuple[StateVersion, str]]:
        found: list[tuple[StateVersion, str]] = []
        for daily, table, column in ((True, ud, ud.c.day_start), (False, ua, ua.c.hour_start)):
            keys = sorted({(r.charge_id, r.bucket, r.start) for r in rows if r.daily is daily})
            text = self._state_text(table)
            for at in range(0, len(keys), 300):  # 3 bound values a key: well under the limits
                query = sa.select(*_version_columns(table, column), text).where(
                    table.c.organization_id == organization_id,
                    table.c.subscription_id == subscription_id,
                    sa.tuple_(table.c.charge_id, table.c.bucket, column).in_(keys[at : at + 300]),
                )
                found.extend(
                    (StateVersion(daily, charge_id, bucket, start, updated_at, int(count)), state)
                    for charge_id, bucket, start, updated_at, count, state in self._c.execute(query)
                )
        return found

    def _state_text(self, table: sa.Table) -> sa.ColumnElement[str]:
        """The state as its stored text (SQLite TEXT as is, PostgreSQL jsonb::text)."""
        if self._c.dialect.name == "postgresql":
            return sa.cast(table.c.state, sa.Text)
        return sa.type_coerce(table.c.state, sa.Text)

    def states_of(
        self,
        organization_id: UUID,
        subscription_ids: Collection[UUID],
        *,
        hours: Sequence[tuple[datetime, datetime]],
        days: Sequence[tuple[datetime, datetime]],
        charge_ids: Collection[UUID],
    ) -> list[tuple[UUID, StateRow, str]]:
        # The bill run's pre-read (`billing_usage_bulk`): many subscriptions sharing the same
        # ranges, one statement per table (and per 500 subscriptions); rows and texts at once,
        # no versions: each row is merged once and nothing of it is cached.
        if not subscription_ids or not charge_ids:
            return []
        ids, charges = sorted(subscription_ids), sorted(charge_ids)
        found: list[tuple[UUID, StateRow, str]] = []
        for daily, table, column, ranges in (
            (True, ud, ud.c.day_start, days),
            (False, ua, ua.c.hour_start, hours),
        ):
            if not ranges:
                continue
            text = self._state_text(table)
            sqlite = self._c.dialect.name == "sqlite"
            c = table.c
            # The UUID type processor was the largest part of a pre-read of 10⁶ rows.
            raw = _as_stored((c.subscription_id, c.charge_id, column), sqlite)
            for at in range(0, len(ids), 500):
                query = sa.select(*raw, c.bucket, text).where(
                    table.c.organization_id == organization_id,
                    table.c.subscription_id.in_(ids[at : at + 500]),
                    table.c.charge_id.in_(charges),
                    sa.or_(*(sa.and_(column >= lo, column < hi) for lo, hi in ranges)),
                )
                rows: Sequence[Any] = self._c.execute(query).all()
                if sqlite:
                    found.extend(
                        (_uuid(sub), StateRow(daily, _uuid(charge), bucket, _time(start)), state)
                        for sub, charge, start, bucket, state in rows
                    )
                else:
                    found.extend(
                        (sub, StateRow(daily, charge, bucket, start), state)
                        for sub, charge, start, bucket, state in rows
                    )
        return found


def _as_stored(columns: Sequence[Any], sqlite: bool) -> Sequence[Any]:
    """On SQLite, `columns` as their stored text, for `_uuid` / `_time` below to convert through
    small caches; elsewhere as they are (the driver builds UUIDs and datetimes in C)."""
    return [sa.type_coerce(c, sa.String) for c in columns] if sqlite else columns


@functools.lru_cache(maxsize=4096)
def _uuid(text: str) -> UUID:
    return UUID(text)


@functools.lru_cache(maxsize=1 << 16)
def _time(text: str) -> datetime:
    moment = _UTC_TIME.process_result_value(text, _SQLITE)
    assert moment is not None
    return moment


_UTC_TIME = UtcDateTime()
_SQLITE = sqlite_dialect.dialect()
