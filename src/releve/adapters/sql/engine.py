"""The SQLAlchemy engine for either store, configured for exactness and concurrency.

SQLite: WAL (readers never block the writer), foreign keys on, a busy timeout, and write
transactions opened with `BEGIN IMMEDIATE` so two writers queue on the lock instead of failing
with "database is locked" when one upgrades a read lock. PostgreSQL: psycopg 3.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.engine import Engine

from releve.services import exact_json

SQLITE_BUSY_TIMEOUT_MS = 30_000
# WAL pages before a commit copies them back into the database (SQLite's default: 1,000, 4 MB).
# Why larger: a bill run rewrites the same index pages with every invoice, and each checkpoint
# copied them again — 40 MB between checkpoints took 13 % off a 10,000-invoice run.
SQLITE_WAL_AUTOCHECKPOINT_PAGES = 10_000


def normalize_url(url: str) -> str:
    """Select psycopg 3 for plain `postgresql://` URLs (SQLAlchemy would pick psycopg2)."""
    for prefix in ("postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


def create_engine(url: str, **kwargs: Any) -> Engine:
    """An engine for `url` whose JSON codec keeps numbers as Decimal."""
    url = normalize_url(url)
    options: dict[str, Any] = {
        "json_serializer": exact_json.dumps,
        "json_deserializer": exact_json.loads,
        **kwargs,
    }
    if url.startswith("sqlite"):
        database = sa.engine.make_url(url).database
        if database and database != ":memory:":
            Path(database).parent.mkdir(parents=True, exist_ok=True)
        options.setdefault("connect_args", {"check_same_thread": False, "timeout": 30})
        if database and database != ":memory:":
            _pool_options(options, size=16)
        engine = sa.create_engine(url, **options)
        _configure_sqlite(engine)
        return engine
    options.setdefault("pool_pre_ping", True)
    _pool_options(options, size=16)
    return sa.create_engine(url, **options)


def _pool_options(options: dict[str, Any], size: int) -> None:
    """Keep enough connections open for the server's concurrent requests. Why: with
    SQLAlchemy's default of 5, a burst of 8 batch requests (each authenticates on a connection,
    then joins a group commit) opened and closed overflow connections all the time — on SQLite
    a connect runs 4 PRAGMAs: 9 % of the server in the ingest profile."""
    if "poolclass" not in options:
        options.setdefault("pool_size", size)
        options.setdefault("max_overflow", 2 * size)


def _configure_sqlite(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Let SQLAlchemy's "begin" event below issue BEGIN itself.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute(f"PRAGMA wal_autocheckpoint={SQLITE_WAL_AUTOCHECKPOINT_PAGES}")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: sa.Connection) -> None:
        mode = "DEFERRED" if connection.get_execution_options().get("read_only") else "IMMEDIATE"
        connection.exec_driver_sql(f"BEGIN {mode}")
