"""One bill run split over several processes (`releve bill --processes N`).

The coordinator opens the run (checks the instant, expires wallets) and closes it (finalizes
drafts past their grace period); in between, N spawned processes each bill one shard of the
subscriptions (`services.billing.Shard`: id modulo N), with their own engine and connections.
Correct without coordination: every subscription is in exactly one shard, each invoice is its
own transaction, unique per (subscription, kind, period) — a retried or crashed run re-bills
nothing — and invoice numbers are taken under the organization's sequence row lock. What it
buys is CPU: pricing is Python-bound, so it scales with cores on PostgreSQL; on SQLite every
write transaction (reading usage and pricing included) holds the one write lock, so only the
planning runs in parallel there.
"""

from __future__ import annotations

import multiprocessing
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from datetime import datetime

from releve.bootstrap import Container
from releve.services.billing import BillingRun, Shard


def bill_in_processes(
    container: Container,
    build: Callable[[], Container],
    at: datetime | None,
    processes: int,
) -> BillingRun:
    """`container.billing.bill_due(at)` with its subscriptions billed by `processes` processes;
    `build` (picklable: a module-level function) makes each process's container."""
    billing = container.billing
    run = billing.open_run(at)
    if processes <= 1:
        billing.bill_subscriptions(run)
    else:
        context = multiprocessing.get_context("spawn")  # no inherited engine or connections
        with ProcessPoolExecutor(processes, mp_context=context) as pool:
            shards = [
                pool.submit(_bill_shard, build, run.at, i, processes) for i in range(processes)
            ]
            for future in shards:
                try:
                    run.add(future.result())
                except Exception as exc:  # a dead process: its shard is billed by the next run
                    run.errors.append(f"billing process failed: {exc!r}")
    billing.close_run(run)
    return run


def _bill_shard(build: Callable[[], Container], at: datetime, index: int, count: int) -> BillingRun:
    container = build()
    try:
        part = BillingRun(at)
        container.billing.bill_subscriptions(part, Shard(index, count))
        return part
    finally:
        container.engine.dispose()
