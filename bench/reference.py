"""Reference (a): the raw durable insert rate of the same events into the same store.

Same `events` table (created by the migrations, so the same columns, indexes and unique key
on (organization_id, transaction_id)), one commit per 100 events, and nothing else: no HTTP,
no validation, no deduplication query, no aggregates. Every value is converted to what the
driver sends *before* the clock starts, so the figure is the store's physical limit on this
machine for this commit size, not Python's.

SQLite: one writer (SQLite has one write lock), one 100-row `INSERT … VALUES (…),(…)` per
`BEGIN IMMEDIATE … COMMIT`, on the project's engine settings (WAL, synchronous=NORMAL).
PostgreSQL: one `COPY … FROM STDIN` of 100 pre-formatted rows per transaction, from
`writers` concurrent connections (as many as the HTTP load uses), so commits can share a
WAL flush as concurrent HTTP requests can.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

import sqlalchemy as sa

from bench.data import Dataset
from releve.adapters.sql.engine import create_engine
from releve.adapters.sql.tables import events as events_table
from releve.services import exact_json
from releve.services.event_input import parse_event
from releve.services.ids import time_ordered_id

COLUMNS = [
    "id",
    "organization_id",
    "transaction_id",
    "external_subscription_id",
    "code",
    "timestamp",
    "properties",
    "precise_total_amount_cents",
    "payload_hash",
    "created_at",
    "status",
    "unmatched_reason",
]
COMMIT_EVERY = 100


def _python_rows(dataset: Dataset, organization_id: UUID) -> list[dict[str, Any]]:
    """The rows the service would write (parsed, hashed), built outside the timing."""
    now = datetime.now(UTC)
    rows = []
    for raw in dataset.events:
        draft = parse_event(exact_json.loads(exact_json.dumps(raw)), now)
        assert not isinstance(draft, dict), draft
        rows.append(
            {
                "id": time_ordered_id(),  # time-ordered, like the service's ids
                "organization_id": organization_id,
                "transaction_id": draft.transaction_id,
                "external_subscription_id": draft.external_subscription_id,
                "code": draft.code,
                "timestamp": draft.timestamp,
                "properties": draft.properties,
                "precise_total_amount_cents": draft.precise_total_amount_cents,
                "payload_hash": draft.payload_hash,
                "created_at": now,
                "status": "matched",
                "unmatched_reason": None,
            }
        )
    return rows


def raw_insert_rate(url: str, dataset: Dataset, organization_id: UUID, writers: int) -> float:
    """Events per second; the caller verifies the store afterwards."""
    engine = create_engine(url, poolclass=sa.pool.NullPool)
    try:
        rows = _python_rows(dataset, organization_id)
        if engine.dialect.name == "sqlite":
            return _sqlite(engine, rows)
        return _postgresql(engine, rows, max(1, writers))
    finally:
        engine.dispose()


def _bound(engine: sa.Engine, rows: Sequence[dict[str, Any]]) -> list[list[Any]]:
    """Each value through the column type's own bind processor (exactly what SQLAlchemy sends)."""
    dialect = engine.dialect
    processors = []
    for name in COLUMNS:
        column_type = events_table.c[name].type
        processors.append(column_type.dialect_impl(dialect).bind_processor(dialect))
    out = []
    for row in rows:
        out.append(
            [
                p(row[name]) if p is not None else row[name]
                for name, p in zip(COLUMNS, processors, strict=True)
            ]
        )
    return out


def _sqlite(engine: sa.Engine, rows: list[dict[str, Any]]) -> float:
    bound = _bound(engine, rows)
    blocks = [bound[i : i + COMMIT_EVERY] for i in range(0, len(bound), COMMIT_EVERY)]
    params = [[v for row in block for v in row] for block in blocks]
    one = "(" + ",".join("?" * len(COLUMNS)) + ")"
    head = f"INSERT INTO events ({','.join(COLUMNS)}) VALUES "
    statements = {len(b): head + ",".join([one] * len(b)) for b in blocks}
    raw = engine.raw_connection()
    try:
        connection: Any = raw.driver_connection
        started = time.perf_counter()
        for block, values in zip(blocks, params, strict=True):
            connection.execute("BEGIN IMMEDIATE")
            connection.execute(statements[len(block)], values)
            connection.execute("COMMIT")
        elapsed = time.perf_counter() - started
    finally:
        raw.close()
    return len(rows) / elapsed


def _copy_text(value: Any) -> str:
    if value is None:
        return "\\N"
    if isinstance(value, datetime):
        text = value.isoformat()
    elif isinstance(value, dict):
        text = exact_json.dumps(value)
    else:
        text = str(value)
    return text.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n").replace("\r", "\\r")


def _postgresql(engine: sa.Engine, rows: list[dict[str, Any]], writers: int) -> float:
    lines = ["\t".join(_copy_text(row[c]) for c in COLUMNS) + "\n" for row in rows]
    blocks = [
        "".join(lines[i : i + COMMIT_EVERY]).encode() for i in range(0, len(lines), COMMIT_EVERY)
    ]
    copy_sql = f"COPY events ({','.join(COLUMNS)}) FROM STDIN"
    shares = [blocks[w::writers] for w in range(writers)]
    raws = [engine.raw_connection() for _ in range(writers)]
    barrier = threading.Barrier(writers + 1)
    failures: list[BaseException] = []

    def write(connection: Any, mine: list[bytes]) -> None:
        try:
            barrier.wait()
            with connection.cursor() as cursor:
                for block in mine:
                    with cursor.copy(copy_sql) as copy:
                        copy.write(block)
                    connection.commit()
        except BaseException as exc:  # reported by the caller
            failures.append(exc)

    threads = [
        threading.Thread(target=write, args=(raw.driver_connection, share))
        for raw, share in zip(raws, shares, strict=True)
    ]
    try:
        for t in threads:
            t.start()
        barrier.wait()
        started = time.perf_counter()
        for t in threads:
            t.join()
        elapsed = time.perf_counter() - started
    finally:
        for raw in raws:
            raw.close()
    if failures:
        raise failures[0]
    return len(rows) / elapsed
