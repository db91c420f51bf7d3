"""Driver-level load and upsert of aggregate states: the ingest hot path's two statements.

Why not SQLAlchemy Core here (it is used everywhere else): per group the ingest loads and
writes one row per (subscription, charge, bucket, hour) touched — about one per event on
spread-out data — and SQLAlchemy's per-row bind processing and the compilation of a varying
`IN` list were a third of the writer's time in the profile. And SQLite plans the row-value
``(a, b, c, d) IN (VALUES …)`` that Core emits as a scan of the organization's whole index
range (its cost grew with the table); a CTE of the keys joined to the primary key is a seek per
key instead (EXPLAIN QUERY PLAN: ``SEARCH … USING INDEX (organization_id=? AND …)``).

Values are bound exactly as the column types bind them (`events.sqlite_row` does the same for
events): on SQLite UUIDs as 32 hex digits, times as the fixed-width UTC text of
`types.UtcDateTime`, the state as the engine's exact JSON text; on PostgreSQL the keys
and states travel as ONE exact JSON document per statement, expanded by
``jsonb_to_recordset`` (psycopg dumps Python lists into arrays element by element in Python:
a quarter of the PostgreSQL import in the profile; one `exact_json.dumps` is C). One statement
per chunk of keys on SQLite (its bound-parameter limit), one per group on PostgreSQL.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from datetime import datetime
from typing import Any
from uuid import UUID

import sqlalchemy as sa

from releve.adapters.sql.types import sqlite_time
from releve.services import exact_json
from releve.services.records import AggregateKey, UsageAggregate

# Keys per SQLite statement: 5 bound values each, far below its 32,766-parameter limit. A
# chunk is padded to the next of these sizes with keys that match nothing, so the driver's
# statement cache holds a handful of prepared statements (preparing a new 1,000-row VALUES
# per call showed in the profile).
SQLITE_SIZES = (16, 128, 1_000)
SQLITE_CHUNK = SQLITE_SIZES[-1]
_NO_KEY = (-1, None, None, None, None)  # NULLs never equal a key column
_KEY_COLUMNS = "subscription_id, charge_id, bucket, {start}"
_SET = (
    "state = excluded.state, events_count = excluded.events_count, updated_at = excluded.updated_at"
)


@functools.cache
def _sqlite_load(table: str, start: str, n: int) -> str:
    values = ", ".join(["(?, ?, ?, ?, ?)"] * n)
    return (
        f"WITH k(i, s, c, b, t) AS (VALUES {values}) "
        f"SELECT k.i, a.state, a.events_count FROM k CROSS JOIN {table} AS a "
        f"ON a.organization_id = ? AND a.subscription_id = k.s AND a.charge_id = k.c "
        f"AND a.bucket = k.b AND a.{start} = k.t"
    )


@functools.cache
def _sqlite_upsert(table: str, start: str) -> str:
    key = _KEY_COLUMNS.format(start=start)
    return (
        f"INSERT INTO {table} (organization_id, {key}, state, events_count, updated_at) "
        f"VALUES (?, ?, ?, ?, ?, ?, ?, ?) "
        f"ON CONFLICT (organization_id, {key}) DO UPDATE SET {_SET}"
    )


@functools.cache
def _pg_load(table: str, start: str) -> str:
    return (
        f"SELECT k.i, a.state::text, a.events_count "
        f"FROM jsonb_to_recordset(%s::jsonb) "
        f"AS k(i integer, s uuid, c uuid, b text, t timestamptz) "
        f"JOIN {table} AS a ON a.organization_id = %s AND a.subscription_id = k.s "
        f"AND a.charge_id = k.c AND a.bucket = k.b AND a.{start} = k.t"
    )


@functools.cache
def _pg_upsert(table: str, start: str) -> str:
    key = _KEY_COLUMNS.format(start=start)
    return (
        f"INSERT INTO {table} (organization_id, {key}, state, events_count, updated_at) "
        f"SELECT %s, k.s, k.c, k.b, k.t, k.st, k.n, %s "
        f"FROM jsonb_to_recordset(%s::jsonb) "
        f"AS k(s uuid, c uuid, b text, t timestamptz, st jsonb, n integer) "
        f"ON CONFLICT (organization_id, {key}) DO UPDATE SET {_SET}"
    )


@functools.lru_cache(maxsize=65_536)
def _start_text(start: datetime) -> str:
    """`sqlite_time` of an hour or day start: a group loads and writes the same few hundred."""
    return sqlite_time(start)


class AggregateRows:
    """Load/upsert of one aggregate table (`usage_aggregates` by hour, or the daily rollup)."""

    def __init__(self, connection: sa.Connection, table: str, start: str) -> None:
        self._c = connection
        self._table = table
        self._start = start
        self._pg = connection.dialect.name == "postgresql"

    def load(
        self, organization_id: UUID, keys: Sequence[AggregateKey]
    ) -> dict[AggregateKey, UsageAggregate]:
        """The stored state of each key that has one (states parsed exactly: Decimals)."""
        if not keys:
            return {}
        driver: Any = self._c.connection.driver_connection
        found: dict[AggregateKey, UsageAggregate] = {}
        if self._pg:
            records = [
                {
                    "i": index,
                    "s": k.subscription_id.hex,
                    "c": k.charge_id.hex,
                    "b": k.bucket,
                    "t": k.hour_start.isoformat(),
                }
                for index, k in enumerate(keys)
            ]
            rows = driver.execute(
                _pg_load(self._table, self._start), (exact_json.dumps(records), organization_id)
            ).fetchall()
            for index, state, count in rows:
                key = keys[index]
                found[key] = UsageAggregate(key, exact_json.loads(state), int(count))
            return found
        org = organization_id.hex
        for first in range(0, len(keys), SQLITE_CHUNK):
            chunk = keys[first : first + SQLITE_CHUNK]
            params: list[Any] = []
            for index, k in enumerate(chunk, first):
                params += (
                    index,
                    k.subscription_id.hex,
                    k.charge_id.hex,
                    k.bucket,
                    _start_text(k.hour_start),
                )
            size = next(n for n in SQLITE_SIZES if n >= len(chunk))
            params += _NO_KEY * (size - len(chunk))
            params.append(org)
            sql = _sqlite_load(self._table, self._start, size)
            for index, state, count in driver.execute(sql, params).fetchall():
                key = keys[index]
                found[key] = UsageAggregate(key, exact_json.loads(state), int(count))
        return found

    def upsert(
        self, organization_id: UUID, aggregates: Sequence[UsageAggregate], at: datetime
    ) -> None:
        if not aggregates:
            return
        driver: Any = self._c.connection.driver_connection
        if self._pg:
            records = [
                {
                    "s": a.key.subscription_id.hex,
                    "c": a.key.charge_id.hex,
                    "b": a.key.bucket,
                    "t": a.key.hour_start.isoformat(),
                    "st": a.state,
                    "n": a.events_count,
                }
                for a in aggregates
            ]
            driver.execute(
                _pg_upsert(self._table, self._start),
                (organization_id, at, exact_json.dumps(records)),
            )
            return
        org, updated = organization_id.hex, sqlite_time(at)
        driver.executemany(
            _sqlite_upsert(self._table, self._start),
            [
                (
                    org,
                    a.key.subscription_id.hex,
                    a.key.charge_id.hex,
                    a.key.bucket,
                    _start_text(a.key.hour_start),
                    exact_json.dumps(a.state),
                    a.events_count,
                    updated,
                )
                for a in aggregates
            ],
        )
