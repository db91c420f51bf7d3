"""The measured figures. Each scenario runs `runs` times on a fresh copy of the template database,
verifies the store after every run (a wrong result raises, it is never reported), and returns
one `Run` per repetition; the report shows the median.

Adding a figure: write a function `(ctx) -> list[Run]` and append a `Scenario` to `SCENARIOS`
with its unit and target; the table picks it up. (e) current usage and (f) bill run live in
`bench.usage_scenarios`.
"""

from __future__ import annotations

import statistics
import time
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench.data import Dataset
from bench.reference import raw_insert_rate
from bench.runner import free_port, load, noop_command, releve_serve_command, server
from bench.stores import BenchStore, Tenant, VerificationError, count_events, verify
from bench.usage_scenarios import bill_run, current_usage
from releve.adapters.sql.engine import create_engine
from releve.bootstrap import bootstrap
from releve.entrypoints.runtime import freeze_startup_heap
from releve.services import exact_json
from releve.services.event_import import EventImportService
from releve.settings import Settings

BATCH = 100


@dataclass
class Context:
    dataset: Dataset
    store: BenchStore
    tenant: Tenant
    workdir: Path
    runs: int
    connections: int
    loadgen_processes: int
    time_limit: float
    import_chunk: int
    py_spy: str | None = None
    workers: int = 1
    usage_events: int = 1_000_000
    usage_requests: int = 1_000
    bill_subscriptions: int = 10_000
    bill_events: int = 10_000_000
    notes: list[str] = field(default_factory=list)

    @property
    def bodies(self) -> Path:
        """One request body per line, `<event count>\\t<JSON>` (built once, on first use)."""
        path = self.workdir / "bodies.tsv"
        if not path.exists():
            with path.open("w") as f:
                for batch in self.dataset.batches(BATCH):
                    f.write(f"{len(batch)}\t{exact_json.dumps({'events': batch})}\n")
        return path

    @property
    def jsonl(self) -> Path:
        path = self.workdir / "events.jsonl"
        if not path.exists():
            with path.open("w") as f:
                for event in self.dataset.events:
                    f.write(exact_json.dumps(event) + "\n")
        return path


@dataclass(frozen=True)
class Run:
    rate: float  # events per second
    p50_ms: float | None = None
    p99_ms: float | None = None
    seconds: float | None = None  # (f): wall time of the bill run
    rss_mb: float | None = None  # (f): peak RSS of the bill-run process


@dataclass(frozen=True)
class Scenario:
    key: str
    label: str
    run: Callable[[Context], list[Run]]
    target: str
    # (median rate, reference (a) rate) -> met? None when the figure is itself a reference.
    check: Callable[[float, float], bool] | None = None
    # Targets on latency / time / memory: the runs themselves -> met? None when the run was
    # smaller than the size the target names (a 1 M-event bill run meets nothing).
    check_runs: Callable[[list[Run], Context], bool | None] | None = None
    unit: str = "events/s"
    needs_reference: bool = True


def raw_reference(ctx: Context) -> list[Run]:
    writers = 1 if ctx.store.kind == "sqlite" else ctx.connections
    runs = []
    for _ in range(ctx.runs):
        url = ctx.store.fresh()
        rate = raw_insert_rate(url, ctx.dataset, ctx.tenant.organization_id, writers)
        verify(
            url, ctx.dataset, ctx.tenant.organization_id, label="(a) raw insert", aggregates=False
        )
        runs.append(Run(rate))
    how = "1 writer, INSERT" if writers == 1 else f"{writers} writers, COPY"
    ctx.notes.append(f"(a): {how} of 100 rows per transaction.")
    return runs


def noop_http(ctx: Context) -> list[Run]:
    port = free_port()
    runs = []
    with server(noop_command(port), port, ctx.workdir / "noop.log"):
        for _ in range(ctx.runs):
            result = load(
                port,
                ctx.bodies,
                api_key=None,
                connections=ctx.connections,
                processes=ctx.loadgen_processes,
                time_limit=ctx.time_limit,
            )
            if result.events != len(ctx.dataset.events):
                raise VerificationError(f"(b) {result.events} events acknowledged")
            runs.append(Run(result.rate, result.p50_ms, result.p99_ms))
    return runs


def http_ingest(ctx: Context) -> list[Run]:
    runs = []
    for n in range(ctx.runs):
        url = ctx.store.fresh()
        port = free_port()
        log = ctx.workdir / f"serve-{n}.log"
        with server(
            releve_serve_command(port, ctx.workers), port, log, {"RELEVE_DATABASE_URL": url}
        ) as s:
            profiler = _attach_py_spy(ctx, s.process.pid) if n == 0 else None
            result = load(
                port,
                ctx.bodies,
                api_key=ctx.tenant.api_key,
                connections=ctx.connections,
                processes=ctx.loadgen_processes,
                time_limit=ctx.time_limit,
            )
            if profiler is not None:
                profiler.wait(timeout=60)
            _replay_stores_nothing(ctx, port, url)
        verify(url, ctx.dataset, ctx.tenant.organization_id, label="(c) HTTP ingest")
        runs.append(Run(result.rate, result.p50_ms, result.p99_ms))
    return runs


def _attach_py_spy(ctx: Context, pid: int) -> Any:
    if not ctx.py_spy:
        return None
    import subprocess

    out = ctx.workdir.parent / f"profile-ingest-{ctx.store.kind}.txt"
    ctx.notes.append(f"profile of the first (c) run: {out} (collapsed stacks, py-spy)")
    duration = max(2, min(30, len(ctx.dataset.events) // 2_000))  # within the first run
    return subprocess.Popen(
        [ctx.py_spy, "record", "--pid", str(pid), "--rate", "250", "--format", "raw",
         "--duration", str(duration), "--output", str(out), "--nonblocking"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )  # fmt: skip


def _replay_stores_nothing(ctx: Context, port: int, url: str) -> None:
    """Re-send the first batch: 200, the same events back, and nothing more stored."""
    before = count_events(url)
    first = ctx.bodies.open("rb").readline().rstrip(b"\n").split(b"\t", 1)[1]
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/api/v1/events/batch",
        data=first,
        headers={
            "Authorization": f"Bearer {ctx.tenant.api_key}",
            "Content-Type": "application/json",
        },
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        status = response.status
        echoed = len(exact_json.loads(response.read())["events"])
    after = count_events(url)
    if status != 200 or echoed != BATCH or after != before:
        raise VerificationError(
            f"replay of a batch: status {status}, {echoed} events echoed, stored {before} → {after}"
        )


def bulk_import(ctx: Context) -> list[Run]:
    runs = []
    for _ in range(ctx.runs):
        url = ctx.store.fresh()
        # The engine `releve events import` uses (pooled): one connection for the whole import.
        engine = create_engine(url)
        try:
            container = bootstrap(Settings(database_url=url), engine=engine)
            service = EventImportService(container.events, container.clock, ctx.import_chunk)
            freeze_startup_heap()  # as `releve events import` does before reading the file
            started = time.perf_counter()
            with ctx.jsonl.open(encoding="utf-8") as lines:
                report = service.import_jsonl(ctx.tenant.organization_id, lines)
            elapsed = time.perf_counter() - started
            if not report.ok or report.inserted != len(ctx.dataset.events):
                raise VerificationError(f"(d) import: {report}")
            with ctx.jsonl.open(encoding="utf-8") as lines:
                head = [next(lines) for _ in range(min(ctx.import_chunk, len(ctx.dataset.events)))]
            again = service.import_jsonl(ctx.tenant.organization_id, head)
            if again.inserted != 0 or not again.ok:
                raise VerificationError(f"(d) re-import stored {again.inserted} events")
        finally:
            engine.dispose()
        verify(url, ctx.dataset, ctx.tenant.organization_id, label="(d) bulk import")
        runs.append(Run(len(ctx.dataset.events) / elapsed))
    return runs


SCENARIOS: list[Scenario] = [
    Scenario("raw", "(a) raw durable insert, commit / 100", raw_reference, "reference"),
    Scenario(
        "noop",
        "(b) do-nothing ASGI endpoint, 100 / request",
        noop_http,
        "≈1.5 M/s (HTTP not the limit)",
    ),
    Scenario(
        "ingest",
        "(c) HTTP batch ingest (releve serve)",
        http_ingest,
        "≥ 0.8 × (a) and ≥ 50,000/s",
        lambda rate, ref: rate >= 0.8 * ref and rate >= 50_000,
    ),
    Scenario(
        "import",
        "(d) bulk import (EventImportService)",
        bulk_import,
        "≥ 100,000/s",
        lambda rate, ref: rate >= 100_000,
    ),
    Scenario(
        "usage",
        "(e) current usage, 1 subscription (service call)",
        current_usage,
        "p99 ≤ 15 ms (at 10 M events)",
        check_runs=lambda runs, ctx: (
            statistics.median(r.p99_ms or 0 for r in runs) <= 15
            if ctx.usage_events >= 10_000_000
            else None
        ),
        unit="calls/s",
        needs_reference=False,
    ),
    Scenario(
        "bill",
        "(f) bill run, N subscriptions × 5 metrics",
        bill_run,
        "≤ 60 s and ≤ 500 MB (10,000 subs, 10 M events)",
        check_runs=lambda runs, ctx: (
            statistics.median(r.seconds or 0 for r in runs) <= 60
            and max(r.rss_mb or 0 for r in runs) <= 500
            if ctx.bill_subscriptions >= 10_000 and ctx.bill_events >= 10_000_000
            else None
        ),
        needs_reference=False,
    ),
]
