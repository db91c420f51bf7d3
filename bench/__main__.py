"""`python -m bench` (`make bench`): ingest benchmarks with their references, one Rich table.

    python -m bench --quick                      # SQLite, 10,000 events, < 1 minute
    python -m bench --store postgresql           # PostgreSQL at --pg-url (its own databases)
    python -m bench --events 500000 --connections 8 --only raw,ingest

Exit status: 0 when every figure was measured and verified (targets missed are shown, not
fatal); 1 when a store did not hold exactly what was sent, or a request failed.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import subprocess
import sys
import time
from pathlib import Path

from rich.console import Console
from rich.table import Table

from bench.data import generate
from bench.runner import LoadError
from bench.scenarios import SCENARIOS, Context, Run
from bench.stores import BenchStore, VerificationError

DEFAULT_PG_URL = "postgresql://postgres@127.0.0.1:5432/test"


def _args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m bench", description=__doc__.split("\n")[0])
    p.add_argument("--store", choices=["sqlite", "postgresql"], default="sqlite")
    p.add_argument("--pg-url", default=os.environ.get("RELEVE_BENCH_PG_URL", DEFAULT_PG_URL))
    p.add_argument("--events", type=int, help="events per run (default 100,000; quick 10,000)")
    p.add_argument("--customers", type=int, help="customers (default 2,000; quick 200)")
    p.add_argument("--connections", type=int, default=8, help="concurrent HTTP connections")
    p.add_argument("--loadgen-processes", type=int, default=1)
    p.add_argument("--workers", type=int, default=1, help="`releve serve --workers` for (c)")
    p.add_argument("--runs", type=int, default=3, help="repetitions per figure (median shown)")
    p.add_argument("--seed", type=int, default=42)
    p.add_argument("--import-chunk", type=int, default=1000, help="events per import transaction")
    p.add_argument(
        "--only", help="comma-separated subset of: " + ",".join(s.key for s in SCENARIOS)
    )
    p.add_argument("--usage-events", type=int, help="(e) events in the period (1 M; quick 50,000)")
    p.add_argument("--usage-requests", type=int, help="(e) calls per run (1,000; quick 100)")
    p.add_argument("--bill-subscriptions", type=int, help="(f) subscriptions (10,000; quick 100)")
    p.add_argument("--bill-events", type=int, help="(f) events (10 M; quick 20,000)")
    p.add_argument("--quick", action="store_true", help="small sizes, about a minute")
    p.add_argument("--workdir", type=Path, default=Path("var") / "bench")
    p.add_argument("--py-spy", help="path to py-spy: profile the first HTTP ingest run")
    p.add_argument("--time-limit", type=float, help="seconds per load run at most (600; quick 60)")
    args = p.parse_args(argv)
    args.events = args.events or (10_000 if args.quick else 100_000)
    args.customers = args.customers or (200 if args.quick else 2_000)
    args.time_limit = args.time_limit or (60 if args.quick else 600)
    args.usage_events = args.usage_events or (50_000 if args.quick else 1_000_000)
    args.usage_requests = args.usage_requests or (100 if args.quick else 1_000)
    args.bill_subscriptions = args.bill_subscriptions or (100 if args.quick else 10_000)
    args.bill_events = args.bill_events or (20_000 if args.quick else 10_000_000)
    return args


def _commit() -> str:
    if os.environ.get("BENCH_COMMIT"):  # measuring an exported tree (see README)
        return os.environ["BENCH_COMMIT"]
    try:
        out = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, check=True
        )
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--", "src"], capture_output=True, text=True
        )
        return out.stdout.strip() + (" + uncommitted src changes" if dirty.stdout.strip() else "")
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def _fmt(rate: float) -> str:
    return f"{rate:,.0f}"


def main(argv: list[str] | None = None) -> int:
    args = _args(argv)
    console = Console(width=None if sys.stdout.isatty() else 150)
    wanted = set(args.only.split(",")) if args.only else {s.key for s in SCENARIOS}
    if "ingest" in wanted or "import" in wanted:
        wanted.add("raw")  # every figure is reported as a ratio of (a)
    store = BenchStore(args.store, args.pg_url, args.workdir / args.store)
    started = time.perf_counter()
    ingest = wanted & {"raw", "noop", "ingest", "import"}
    with console.status(f"Generating {args.events:,} events (seed {args.seed})…"):
        dataset = generate(args.events if ingest else 0, args.customers, args.seed)
    results: dict[str, list[Run]] = {}
    tenant = None
    try:
        if ingest:
            with console.status("Migrating and seeding the template database…"):
                tenant = store.prepare(dataset)
        ctx = Context(
            dataset=dataset,
            store=store,
            tenant=tenant,
            workdir=args.workdir / args.store,
            runs=args.runs,
            connections=args.connections,
            loadgen_processes=args.loadgen_processes,
            time_limit=args.time_limit,
            import_chunk=args.import_chunk,
            py_spy=args.py_spy,
            workers=args.workers,
            usage_events=args.usage_events,
            usage_requests=args.usage_requests,
            bill_subscriptions=args.bill_subscriptions,
            bill_events=args.bill_events,
        )
        for scenario in SCENARIOS:
            if scenario.key not in wanted:
                continue
            with console.status(f"{scenario.label} × {args.runs}…"):
                results[scenario.key] = scenario.run(ctx)
            median = statistics.median(r.rate for r in results[scenario.key])
            each = ", ".join(_fmt(r.rate) for r in results[scenario.key])
            console.log(f"{scenario.label}: {_fmt(median)} {scenario.unit} (runs: {each})")
    except (VerificationError, LoadError) as exc:
        console.print(f"[bold red]FAILED — no figure is valid:[/bold red] {exc}")
        return 1
    finally:
        store.drop_all()

    table = Table(
        title=(
            f"Relevé ingest — {store.describe()} — {os.cpu_count()} cores, "
            f"{platform.python_implementation()} {platform.python_version()}, commit {_commit()}"
        ),
        caption=(
            f"{args.events:,} events, {args.customers:,} customers, 5 metrics, seed {args.seed}; "
            f"100 events/request, {args.connections} connections, {args.loadgen_processes} "
            f"load-generator process(es), {args.workers} server worker(s); "
            f"median of {args.runs} runs; every run verified. " + " ".join(ctx.notes)
        ),
    )
    table.add_column("figure")
    table.add_column("rate (median)", justify="right")
    table.add_column("runs", justify="right")
    table.add_column("× (a)", justify="right")
    table.add_column("p50 / p99 ms, or s / MB", justify="right")
    table.add_column("target")
    table.add_column("met", justify="center")
    reference = statistics.median(r.rate for r in results["raw"]) if "raw" in results else 0.0
    for scenario in SCENARIOS:
        runs = results.get(scenario.key)
        if not runs:
            continue
        median = statistics.median(r.rate for r in runs)
        p = [r for r in runs if r.p99_ms is not None]
        latency = (
            f"{statistics.median(r.p50_ms or 0 for r in p):.1f} / "
            f"{statistics.median(r.p99_ms or 0 for r in p):.1f}"
            if p
            else ""
        )
        if runs[0].seconds is not None:
            latency = (
                f"{statistics.median(r.seconds or 0 for r in runs):.1f} s / "
                f"{max(r.rss_mb or 0 for r in runs):.0f} MB"
            )
        if scenario.check_runs is not None:
            ok: bool | None = scenario.check_runs(runs, ctx)
        elif scenario.check is not None:
            ok = scenario.check(median, reference)
        else:
            ok = None
        if ok is None and scenario.check_runs is not None:
            met = "n/a"  # smaller than the target's size
        else:
            met = "" if ok is None else ("[green]yes[/green]" if ok else "[red]no[/red]")
        table.add_row(
            scenario.label,
            f"{_fmt(median)} {scenario.unit}",
            " ".join(_fmt(r.rate) for r in runs),
            f"{median / reference:.2f}" if reference and scenario.needs_reference else "",
            latency,
            scenario.target,
            met,
        )
    console.print(table)
    console.print(f"total {time.perf_counter() - started:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
