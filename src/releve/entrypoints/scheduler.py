"""The billing scheduler of `releve serve`: a daemon thread that closes due periods.

Every `interval` seconds (env `RELEVE_SCHEDULER_INTERVAL`, default 60) it activates pending
subscriptions whose start has come, runs `BillingService.bill_due`, then the usage evaluator's
catch-up (progressive-billing thresholds and subscription alerts), then checks the customers'
budgets (`BudgetService.check_all`: each 80 %/100 % crossing fires once). Several processes may
run it at once: each invoice period is unique in the database, so the loser of a race skips
it, and numbers stay gapless. A failing tick is logged and the next one runs as usual.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import TYPE_CHECKING

from releve.entrypoints import daemon

if TYPE_CHECKING:
    from releve.bootstrap import Container

log = logging.getLogger(__name__)
DEFAULT_INTERVAL_SECONDS = 60.0
INTERVAL_ENV = "RELEVE_SCHEDULER_INTERVAL"


def interval_from_env() -> float:
    """The tick interval in seconds; a missing, non-numeric or non-positive value → 60."""
    return daemon.interval_from_env(INTERVAL_ENV, DEFAULT_INTERVAL_SECONDS)


def lifecycle(container: Container, at: datetime | None = None) -> None:
    """Subscription changes that come due by themselves, before billing: pending
    subscriptions (future starts, downgrades at a period end) start, and subscriptions whose
    `ending_at` has passed end there (their final invoice is issued with the termination).
    Each step logs its failure and lets the next run."""
    try:
        container.subscriptions.activate_due(at)
    except Exception:
        log.exception("scheduler: activating pending subscriptions failed")
    try:
        container.subscriptions.terminate_due(at)
    except Exception:
        log.exception("scheduler: terminating subscriptions at their ending_at failed")


def tick(container: Container) -> None:
    """One scheduler round (activations and endings, then billing); never raises."""
    lifecycle(container)
    try:
        run = container.billing.bill_due()
    except Exception:
        log.exception("scheduler: billing run failed")
        return
    if run.issued or run.errors:
        log.info("scheduler: %d invoice(s) issued, %d error(s)", len(run.issued), len(run.errors))
    try:  # catch-up of the usage evaluator: thresholds and alerts missed after a crash
        caught = container.usage_evaluator.catch_up(budgets=False)
        if caught["progressive_invoices"] or caught["alerts"]:
            log.info("scheduler: usage catch-up %s", caught)
    except Exception:
        log.exception("scheduler: usage thresholds and alerts catch-up failed")
    try:
        alerts = container.budgets.check_all()
    except Exception:
        log.exception("scheduler: checking budgets failed")
        return
    if alerts:
        log.info("scheduler: %d budget alert(s) recorded", alerts)


class BillingScheduler(daemon.DaemonLoop):
    """Start with `start()`, stop with `stop()` (waits for the current tick to end)."""

    def __init__(self, container: Container, interval: float | None = None) -> None:
        def run_round() -> bool:
            tick(container)
            return True  # a tick always waits `interval` before the next one

        super().__init__(
            "releve-billing",
            run_round,
            interval if interval is not None else interval_from_env(),
        )
