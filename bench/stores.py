"""Benchmark databases: one migrated template (organization, API key, metrics, customers),
then a fresh copy per measured run, all removed at the end.

SQLite: files under `var/bench/` (the real disk, not tmpfs, so commits pay a real write);
a run copies the checkpointed template file. PostgreSQL: `releve_bench_tpl` and
`releve_bench_run` on the server of `--pg-url`, the copy is `CREATE DATABASE … TEMPLATE`.
"""

from __future__ import annotations

import shutil
import sqlite3
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any
from uuid import UUID

import sqlalchemy as sa

from bench.data import DAY, Dataset, subscription_id
from releve.adapters.sql import tables
from releve.adapters.sql.engine import create_engine, normalize_url
from releve.adapters.sql.migrate import upgrade
from releve.bootstrap import bootstrap
from releve.settings import Settings

TEMPLATE_DB = "releve_bench_tpl"
PLAN_CODE = "bench"


def bench_plan(dataset: Dataset) -> dict[str, Any]:
    """Standard charges (one per metric); api_calls is split by region (a charge filter)."""
    charges: list[dict[str, Any]] = []
    for metric in dataset.metrics:
        charge: dict[str, Any] = {
            "billable_metric_code": metric["code"],
            "charge_model": "standard",
            "properties": {"amount": "0.0001"},
        }
        if metric["code"] == "api_calls":
            charge["filters"] = [
                {"values": {"region": [region]}, "properties": {"amount": "0.0002"}}
                for region in ("eu-west-1", "us-east-1")
            ]
        charges.append(charge)
    return {
        "name": "Bench",
        "code": PLAN_CODE,
        "interval": "monthly",
        "amount_cents": 0,
        "amount_currency": "USD",
        "charges": charges,
    }


RUN_DB = "releve_bench_run"


@dataclass(frozen=True)
class Tenant:
    organization_id: UUID
    api_key: str


class BenchStore:
    """`kind` is "sqlite" or "postgresql"; `pg_url` points at any database of the PG server."""

    def __init__(self, kind: str, pg_url: str, workdir: Path) -> None:
        self.kind = kind
        self._pg_url = normalize_url(pg_url)
        self._workdir = workdir
        self._template: str | None = None
        self._runs = 0
        self._extra: set[str] = set()  # databases of `blank` / `copy_blank`

    # -- databases ------------------------------------------------------------------------

    def _pg(self, name: str) -> str:
        return sa.engine.make_url(self._pg_url).set(database=name).render_as_string(False)

    def _admin(self, statements: list[str]) -> None:
        admin = create_engine(
            self._pg_url, isolation_level="AUTOCOMMIT", poolclass=sa.pool.NullPool
        )
        try:
            with admin.connect() as c:
                for statement in statements:
                    c.exec_driver_sql(statement)
        finally:
            admin.dispose()

    def prepare(self, dataset: Dataset) -> Tenant:
        """Migrate the template and seed it through the services (as an operator would)."""
        shutil.rmtree(self._workdir, ignore_errors=True)
        self._workdir.mkdir(parents=True)
        if self.kind == "postgresql":
            self._admin(
                [
                    f'DROP DATABASE IF EXISTS "{RUN_DB}" WITH (FORCE)',
                    f'DROP DATABASE IF EXISTS "{TEMPLATE_DB}" WITH (FORCE)',
                    f'CREATE DATABASE "{TEMPLATE_DB}"',
                ]
            )
            url = self._pg(TEMPLATE_DB)
        else:
            url = f"sqlite:///{self._workdir / 'template.db'}"
        engine = create_engine(url, poolclass=sa.pool.NullPool)
        try:
            upgrade(engine)
            container = bootstrap(Settings(database_url=url), engine=engine)
            created = container.organizations.create("Bench", default_currency="USD")
            org = created.organization_id
            for metric in dataset.metrics:
                container.billable_metrics.create(org, metric)
            for customer in dataset.customers:
                container.customers.upsert(org, {"external_id": customer, "name": customer})
            # One plan charging every metric, one subscription per customer started before the
            # first event: every event is matched and updates the per-hour aggregates.
            container.plans.create(org, bench_plan(dataset))
            since = datetime.fromtimestamp(dataset.start - DAY, UTC).isoformat()
            for customer in dataset.customers:
                container.subscriptions.create(
                    org,
                    {
                        "external_customer_id": customer,
                        "plan_code": PLAN_CODE,
                        "external_id": subscription_id(customer),
                        "subscription_at": since,
                    },
                )
        finally:
            engine.dispose()
        if self.kind == "sqlite":
            raw = sqlite3.connect(self._workdir / "template.db")
            raw.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            raw.close()
        self._template = url
        return Tenant(org, created.api_key)

    def fresh(self) -> str:
        """The URL of a new copy of the template (the previous run's copy is replaced)."""
        assert self._template is not None, "prepare() first"
        self._runs += 1
        if self.kind == "postgresql":
            self._admin(
                [
                    f'DROP DATABASE IF EXISTS "{RUN_DB}" WITH (FORCE)',
                    f'CREATE DATABASE "{RUN_DB}" TEMPLATE "{TEMPLATE_DB}"',
                ]
            )
            return self._pg(RUN_DB)
        for old in self._workdir.glob("run.db*"):
            old.unlink()
        shutil.copyfile(self._workdir / "template.db", self._workdir / "run.db")
        return f"sqlite:///{self._workdir / 'run.db'}"

    def blank(self, name: str) -> str:
        """A new empty database `name` (the caller migrates it); replaces an older one."""
        self._workdir.mkdir(parents=True, exist_ok=True)
        if self.kind == "postgresql":
            database = f"releve_bench_{name}"
            self._admin(
                [
                    f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)',
                    f'CREATE DATABASE "{database}"',
                ]
            )
            self._extra.update({database, f"{database}_run"})
            return self._pg(database)
        for old in self._workdir.glob(f"{name}.db*"):
            old.unlink()
        return f"sqlite:///{self._workdir / f'{name}.db'}"

    def copy_blank(self, name: str) -> str:
        """A fresh copy of the database `blank(name)` made (measured runs change it)."""
        if self.kind == "postgresql":
            database = f"releve_bench_{name}"
            self._admin(
                [
                    f'DROP DATABASE IF EXISTS "{database}_run" WITH (FORCE)',
                    f'CREATE DATABASE "{database}_run" TEMPLATE "{database}"',
                ]
            )
            return self._pg(f"{database}_run")
        raw = sqlite3.connect(self._workdir / f"{name}.db")
        raw.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        raw.close()
        for old in self._workdir.glob(f"{name}-run.db*"):
            old.unlink()
        shutil.copyfile(self._workdir / f"{name}.db", self._workdir / f"{name}-run.db")
        return f"sqlite:///{self._workdir / f'{name}-run.db'}"

    def drop_all(self) -> None:
        """Remove the databases and generated data; server logs stay for inspection."""
        for path in self._workdir.glob("*"):
            if path.suffix != ".log":
                path.unlink()
        if self.kind == "postgresql":
            self._admin(
                [
                    f'DROP DATABASE IF EXISTS "{RUN_DB}" WITH (FORCE)',
                    f'DROP DATABASE IF EXISTS "{TEMPLATE_DB}" WITH (FORCE)',
                    *(f'DROP DATABASE IF EXISTS "{d}" WITH (FORCE)' for d in sorted(self._extra)),
                ]
            )

    def describe(self) -> str:
        if self.kind == "postgresql":
            engine = create_engine(self._pg_url, poolclass=sa.pool.NullPool)
            try:
                with engine.connect() as c:
                    version = c.exec_driver_sql("SHOW server_version").scalar()
                    sync = c.exec_driver_sql("SHOW synchronous_commit").scalar()
                    fsync = c.exec_driver_sql("SHOW fsync").scalar()
            finally:
                engine.dispose()
            return f"PostgreSQL {version} (synchronous_commit={sync}, fsync={fsync})"
        return f"SQLite {sqlite3.sqlite_version} (WAL, synchronous=NORMAL)"


class VerificationError(AssertionError):
    """The store does not hold exactly what was sent: the benchmark must not report a figure."""


def verify(
    url: str, dataset: Dataset, organization_id: UUID, *, label: str, aggregates: bool = True
) -> None:
    """Count, per-code counts, matched status and the exact sum of `bytes` must all match, and
    (unless `aggregates` is False: reference (a) writes no aggregate) the aggregates too."""
    engine = create_engine(url, poolclass=sa.pool.NullPool)
    try:
        with engine.connect() as c:
            org = organization_id.hex if engine.dialect.name == "sqlite" else organization_id
            rows = c.execute(
                sa.text(
                    "SELECT code, unmatched_reason, count(*) FROM events "
                    "WHERE organization_id = :org GROUP BY code, unmatched_reason"
                ),
                {"org": org},
            ).all()
            if engine.dialect.name == "sqlite":
                bytes_sql = "SELECT coalesce(sum(json_extract(properties, '$.bytes')), 0)"
            else:
                bytes_sql = "SELECT coalesce(sum((properties->>'bytes')::numeric), 0)"
            total_bytes = c.execute(
                sa.text(
                    f"{bytes_sql} FROM events WHERE organization_id = :org "
                    "AND code = 'bandwidth_bytes'"
                ),
                {"org": org},
            ).scalar()
    finally:
        engine.dispose()
    by_code: Counter[str] = Counter()
    reasons: Counter[str | None] = Counter()
    for code, reason, n in rows:
        by_code[code] += n
        reasons[reason] += n
    problems = []
    if by_code != dataset.expected_by_code:
        problems.append(f"events per code {dict(by_code)} != sent {dict(dataset.expected_by_code)}")
    unmatched = {r: n for r, n in reasons.items() if r is not None}
    if unmatched:
        # Every metric and subscription exists: every event must be matched.
        problems.append(f"events unmatched: {unmatched}")
    if int(total_bytes or 0) != dataset.expected_bytes:
        problems.append(f"sum(bytes) {total_bytes} != sent {dataset.expected_bytes}")
    if aggregates:
        problems += _aggregate_problems(url, dataset, organization_id)
    if problems:
        raise VerificationError(f"{label}: " + "; ".join(problems))


def _aggregate_problems(url: str, dataset: Dataset, organization_id: UUID) -> list[str]:
    """The per-hour aggregates hold each event once: events per (subscription, code), and the
    exact sums of `bytes` and `seconds`, recomputed from what was sent."""
    sent: Counter[tuple[str, str]] = Counter()
    sums = {"bandwidth_bytes": Decimal(0), "compute_seconds": Decimal(0)}
    for event in dataset.events:
        sent[event["external_subscription_id"], event["code"]] += 1
        if event["code"] == "bandwidth_bytes":
            sums["bandwidth_bytes"] += event["properties"]["bytes"]
        elif event["code"] == "compute_seconds":
            sums["compute_seconds"] += event["properties"]["seconds"]
    ua, ch, bm, sub = (
        tables.usage_aggregates,
        tables.charges,
        tables.billable_metrics,
        tables.subscriptions,
    )
    query = (
        sa.select(sub.c.external_id, bm.c.code, ua.c.events_count, ua.c.state)
        .join(ch, ch.c.id == ua.c.charge_id)
        .join(bm, bm.c.id == ch.c.billable_metric_id)
        .join(sub, sub.c.id == ua.c.subscription_id)
        .where(ua.c.organization_id == organization_id)
    )
    engine = create_engine(url, poolclass=sa.pool.NullPool)
    counted: Counter[tuple[str, str]] = Counter()
    got = {code: Decimal(0) for code in sums}
    try:
        with engine.connect() as c:
            for external_id, code, events_count, state in c.execute(query):
                counted[external_id, code] += events_count
                if code in got:
                    got[code] += Decimal(state["core"])
    finally:
        engine.dispose()
    problems = []
    if counted != sent:
        wrong = sorted(set(counted.items()) ^ set(sent.items()))[:3]
        problems.append(f"aggregated events per (subscription, code) differ: {wrong}")
    for code, total in sums.items():
        if got[code] != total:
            problems.append(f"aggregated sum of {code} {got[code]} != sent {total}")
    return problems


def count_events(url: str) -> int:
    engine = create_engine(url, poolclass=sa.pool.NullPool)
    try:
        with engine.connect() as c:
            return int(c.exec_driver_sql("SELECT count(*) FROM events").scalar() or 0)
    finally:
        engine.dispose()
