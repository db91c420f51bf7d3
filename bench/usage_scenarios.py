"""Figures (e) current usage and (f) bill run, on usage generated straight into the store.

(e) `CurrentUsageService.current_usage` — the service call behind
`GET /api/v1/customers/{id}/current_usage`, in-process, without HTTP (what it measures is the
store read and the pricing; the route adds only JSON rendering) — called `requests` times for
one subscription whose current period holds `usage_events` events (1 M by default, 10 M with
`--usage-events 10000000`); p50 and p99 of the calls, after 20 warm-up calls.

(f) `BillingService.bill_due` — what `releve bill` runs — at the end of the period for
`bill_subscriptions` subscriptions × 5 metrics sharing `bill_events` events, in a fresh
subprocess (`bench.billrun`), so its peak RSS (`getrusage(RUSAGE_SELF).ru_maxrss`) is the bill
run's own and not the generator's. Verified: one invoice per subscription, no error, and the
invoices' charge fees count every generated event once.

The tenant (organization, metrics, plan, the first customer and subscription) is created
through the services on a blank migrated database with a clock fixed at the period start; the
other customers and subscriptions of (f) are copies of the first one's rows (creating 10,000
through the services would take longer than the bill run itself).
"""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import statistics
import subprocess
import sys
import time
import uuid
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any
from uuid import UUID

import sqlalchemy as sa

from bench.data import METRICS, Dataset
from bench.stores import PLAN_CODE, VerificationError, bench_plan
from bench.usage_data import Target, Written, check_counts, load_usage
from releve.adapters.sql import tables
from releve.adapters.sql.engine import create_engine
from releve.adapters.sql.migrate import upgrade
from releve.bootstrap import bootstrap
from releve.settings import Settings

if TYPE_CHECKING:
    from bench.scenarios import Context, Run

PERIOD_START = datetime(2026, 1, 1, tzinfo=UTC)
EVENTS_END = PERIOD_START + timedelta(days=30)  # events in [Jan 1, Jan 31)
USAGE_NOW = EVENTS_END  # current usage asked on Jan 31, 00:00 UTC (period Jan 1 – Feb 1)
BILL_AT = datetime(2026, 2, 1, 1, tzinfo=UTC)  # the January invoices are due
WARM_UP = 20


@dataclass
class FixedClock:
    at: datetime

    def now(self) -> datetime:
        return self.at


@dataclass(frozen=True)
class Tenant:
    organization_id: UUID
    targets: list[Target]


def _plan() -> dict[str, Any]:
    plan = bench_plan(Dataset(0, [], [], 0, 0))
    assert plan["code"] == PLAN_CODE
    return plan


def create_tenant(url: str, subscriptions: int) -> Tenant:
    """Organization, the 5 bench metrics, the bench plan and `subscriptions` subscriptions
    (calendar monthly, started at PERIOD_START, customers in UTC)."""
    engine = create_engine(url, poolclass=sa.pool.NullPool)
    try:
        upgrade(engine)
        container = bootstrap(
            Settings(database_url=url), engine=engine, clock=FixedClock(PERIOD_START)
        )
        org = container.organizations.create("Usage", default_currency="USD").organization_id
        for metric, _ in METRICS:
            container.billable_metrics.create(org, metric)
        container.plans.create(org, _plan())
        container.customers.upsert(org, {"external_id": "cus_u_000000", "name": "first"})
        container.subscriptions.create(
            org,
            {
                "external_customer_id": "cus_u_000000",
                "plan_code": "bench",
                "external_id": "sub_u_000000",
                "subscription_at": PERIOD_START.isoformat(),
            },
        )
        with engine.begin() as c:
            _clone(c, org, subscriptions - 1)
            rows = c.execute(
                sa.select(
                    tables.subscriptions.c.id,
                    tables.subscriptions.c.external_id,
                    tables.subscriptions.c.plan_id,
                ).where(tables.subscriptions.c.organization_id == org)
            ).all()
    finally:
        engine.dispose()
    targets = sorted(
        (Target(r.id, r.external_id, r.plan_id) for r in rows), key=lambda t: t.external_id
    )
    assert len(targets) == subscriptions
    return Tenant(org, targets)


def _clone(c: sa.Connection, org: UUID, copies: int) -> None:
    """Copies of the first customer and subscription rows, with their own ids."""
    cu, su = tables.customers, tables.subscriptions
    customer = dict(c.execute(cu.select().where(cu.c.organization_id == org)).one()._mapping)
    subscription = dict(c.execute(su.select().where(su.c.organization_id == org)).one()._mapping)
    customers, subs = [], []
    for k in range(1, copies + 1):
        customer_id = uuid.uuid4()
        customers.append(
            {
                **customer,
                "id": customer_id,
                "external_id": f"cus_u_{k:06d}",
                "sequential_id": customer["sequential_id"] + k,
            }
        )
        subs.append(
            {**subscription, "id": uuid.uuid4(), "customer_id": customer_id,
             "external_id": f"sub_u_{k:06d}"}
        )  # fmt: skip
    for start in range(0, copies, 1000):
        c.execute(cu.insert(), customers[start : start + 1000])
        c.execute(su.insert(), subs[start : start + 1000])


def current_usage(ctx: Context) -> list[Run]:
    from bench.scenarios import Run

    url = ctx.store.blank("usage")
    kept_name = f"usage-{ctx.usage_events}"
    kept = _kept(ctx, kept_name, url)
    started = time.perf_counter()
    if kept is not None:
        tenant, written = kept
    else:
        tenant = create_tenant(url, 1)
        written = load_usage(url, tenant.organization_id, tenant.targets, ctx.usage_events,
                             PERIOD_START, EVENTS_END)  # fmt: skip
    generated = time.perf_counter() - started
    check_counts(url, tenant.organization_id, written)
    if kept is None:
        _keep(ctx, kept_name, url, tenant, written)
    engine = create_engine(url)
    try:
        container = bootstrap(
            Settings(database_url=url), engine=engine, clock=FixedClock(USAGE_NOW)
        )
        target = tenant.targets[0]

        def call() -> Any:
            return container.usage.current_usage(
                tenant.organization_id, "cus_u_000000", target.external_id
            )

        usage = call()
        counted = sum(c.events_count for c in usage.charges)
        if counted != written.events:
            raise VerificationError(f"(e) current usage counts {counted} != {written.events}")
        for _ in range(WARM_UP):
            call()
        runs = []
        for _ in range(ctx.runs):
            times = []
            for _ in range(ctx.usage_requests):
                t0 = time.perf_counter()
                call()
                times.append((time.perf_counter() - t0) * 1000)
            times.sort()
            p50 = statistics.median(times)
            p99 = times[min(len(times) - 1, int(len(times) * 0.99))]
            runs.append(Run(1000 / p50, p50, p99))
    finally:
        engine.dispose()
    ctx.notes.append(
        f"(e): {written.events:,} events ({written.aggregate_rows:,} hourly aggregate rows) "
        f"generated in {generated:.0f} s; {ctx.usage_requests:,} service calls per run; "
        "rate column = calls/s at p50."
    )
    return runs


def _kept_path(ctx: Context, name: str) -> Path | None:
    """`RELEVE_BENCH_KEEP=<dir>` (SQLite only): (e)'s and (f)'s generated databases are kept
    there per size and reused by later runs (generation at 1 M events takes minutes, 10 M most
    of an hour; `var/bench` itself is emptied after every run)."""
    keep = os.environ.get("RELEVE_BENCH_KEEP")
    if not keep or ctx.store.kind != "sqlite":
        return None
    return Path(keep) / f"{name}.db"


def _kept(ctx: Context, name: str, url: str) -> tuple[Tenant, Written] | None:
    saved = _kept_path(ctx, name)
    if saved is None or not saved.exists() or not saved.with_suffix(".json").exists():
        return None
    meta = json.loads(saved.with_suffix(".json").read_text())
    shutil.copyfile(saved, url.removeprefix("sqlite:///"))
    engine = create_engine(url, poolclass=sa.pool.NullPool)
    try:
        upgrade(engine)  # migrations added since it was kept (indexes)
    finally:
        engine.dispose()
    targets = [Target(UUID(t["subscription_id"]), t["external_id"], UUID(t["plan_id"]))
               for t in meta["targets"]]  # fmt: skip
    tenant = Tenant(UUID(meta["organization_id"]), targets)
    return tenant, Written(**meta["written"])


def _keep(ctx: Context, name: str, url: str, tenant: Tenant, written: Written) -> None:
    saved = _kept_path(ctx, name)
    if saved is None:
        return
    path = url.removeprefix("sqlite:///")
    raw = sqlite3.connect(path)
    raw.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    raw.close()
    saved.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(path, saved)
    meta = {
        "organization_id": str(tenant.organization_id),
        "targets": [{**asdict(t), "subscription_id": str(t.subscription_id),
                     "plan_id": str(t.plan_id)} for t in tenant.targets],
        "written": asdict(written),
    }  # fmt: skip
    saved.with_suffix(".json").write_text(json.dumps(meta))


def bill_run(ctx: Context) -> list[Run]:
    from bench.scenarios import Run

    template = ctx.store.blank("bill")
    kept_name = f"bill-{ctx.bill_subscriptions}-{ctx.bill_events}"
    kept = _kept(ctx, kept_name, template)
    started = time.perf_counter()
    if kept is not None:
        tenant, written = kept
    else:
        tenant = create_tenant(template, ctx.bill_subscriptions)
        written = load_usage(template, tenant.organization_id, tenant.targets, ctx.bill_events,
                             PERIOD_START, EVENTS_END)  # fmt: skip
    generated = time.perf_counter() - started
    check_counts(template, tenant.organization_id, written)
    if kept is None:
        _keep(ctx, kept_name, template, tenant, written)
    runs = []
    for _ in range(ctx.runs):
        url = ctx.store.copy_blank("bill")
        out = subprocess.run(
            [sys.executable, "-m", "bench.billrun", url, BILL_AT.isoformat()],
            capture_output=True, text=True, check=False,
        )  # fmt: skip
        if out.returncode != 0:
            raise VerificationError(f"(f) bill run failed: {out.stderr[-2000:]}")
        result = json.loads(out.stdout.strip().splitlines()[-1])
        if result["errors"] or result["issued"] != ctx.bill_subscriptions:
            raise VerificationError(f"(f) bill run: {result}")
        if result["charge_events"] != written.events:
            raise VerificationError(
                f"(f) invoices count {result['charge_events']} events != {written.events}"
            )
        seconds = result["seconds"]
        runs.append(Run(written.events / seconds, seconds=seconds, rss_mb=result["max_rss_mb"]))
        per_subscription = result.get("statements", 0) / ctx.bill_subscriptions
    ctx.notes.append(
        f"(f): {ctx.bill_subscriptions:,} subscriptions × 5 metrics, {written.events:,} events "
        f"({written.aggregate_rows:,} aggregate rows, generated in {generated:.0f} s); rate = "
        f"events billed/s; {per_subscription:.1f} SQL statements per subscription (last run)."
    )
    return runs
