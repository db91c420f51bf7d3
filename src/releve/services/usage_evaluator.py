"""Prompt threshold evaluation after ingest, off the request path.

After an ingest commits, `EventService` hands the touched subscription ids to `notify` (O(1):
a set insert under a lock — ingest never waits for evaluation). One daemon thread per process
takes them, deduplicated (a subscription hit by 500 events in a burst is evaluated once per
wake-up), asks in one query which have usage thresholds, alerts or a customer budget (most
have none, and cost nothing more), and for each of those: issues a progressive-billing invoice
if a usage threshold was crossed, fires the subscription's alerts, and checks the customer's
budget. Evaluation reads the usage aggregates (`progressive_billing.snapshot`), never the raw
events.

Crashes and restarts lose only the in-memory queue: the scheduler tick and `releve bill` run
`catch_up`, which evaluates every subscription with thresholds or alerts and every budget.
Every crossing is stored under a unique key, so evaluating twice is harmless.

The thread starts with `start()` (`releve serve`, each API worker); without it (tests,
one-shot CLI commands) `notify` only queues and `drain()` evaluates in the caller's thread.
With it, `drain()` waits — on a condition, not a timer — until the queue is empty and idle.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Collection
from uuid import UUID

from releve.services.alert_records import AlertUnitOfWorkFactory
from releve.services.alerts import AlertService
from releve.services.progressive_billing import ProgressiveBillingService

log = logging.getLogger(__name__)
BudgetCheck = Callable[[UUID, UUID], object]  # (organization id, customer id)


class UsageEvaluator:
    def __init__(
        self,
        uow: AlertUnitOfWorkFactory,
        progressive: ProgressiveBillingService,
        alerts: AlertService,
        budget_check: BudgetCheck,
        budget_check_all: Callable[[], object],
    ) -> None:
        self._uow = uow
        self._progressive = progressive
        self._alerts = alerts
        self._budget_check = budget_check
        self._budget_check_all = budget_check_all
        self._cond = threading.Condition()
        self._pending: dict[UUID, UUID] = {}  # subscription id → organization id (ordered)
        self._busy = False
        self._stopping = False
        self._thread: threading.Thread | None = None

    # --- the ingest side ---------------------------------------------------------------------

    def notify(self, organization_id: UUID, subscription_ids: Collection[UUID]) -> None:
        """Queue subscriptions whose usage just changed (called after the ingest commit)."""
        if not subscription_ids:
            return
        with self._cond:
            for sid in subscription_ids:
                self._pending[sid] = organization_id
            self._cond.notify_all()

    # --- the evaluating side -----------------------------------------------------------------

    def start(self) -> None:
        with self._cond:
            if self._thread is not None:
                return
            self._stopping = False
            self._thread = threading.Thread(target=self._loop, name="releve-usage", daemon=True)
            self._thread.start()

    def stop(self, timeout: float = 30.0) -> None:
        with self._cond:
            self._stopping = True
            self._cond.notify_all()
            thread, self._thread = self._thread, None
        if thread is not None:
            thread.join(timeout)

    def drain(self) -> None:
        """Evaluate everything queued so far (module docstring); returns when done."""
        with self._cond:
            running = self._thread is not None
            if running:
                while self._pending or self._busy:
                    self._cond.wait()
                return
            batch = self._take()
        self._run(batch)

    def evaluate(self, organization_id: UUID, subscription_id: UUID) -> None:
        """Evaluate one subscription now, in the caller's thread."""
        self._run({subscription_id: organization_id})

    def catch_up(self, *, budgets: bool = True) -> dict[str, int]:
        """Every subscription with thresholds or alerts, and (`budgets`) every budget: the
        scheduler tick and `releve bill`. Returns the counts of what it issued or fired."""
        invoices = self._progressive.evaluate_all()
        alerts = self._alerts.evaluate_all()
        checked = self._budget_check_all() if budgets else 0
        return {
            "progressive_invoices": invoices,
            "alerts": alerts,
            "budget_alerts": checked if isinstance(checked, int) else 0,
        }

    def _take(self) -> dict[UUID, UUID]:
        batch, self._pending = self._pending, {}
        return batch

    def _loop(self) -> None:
        while True:
            with self._cond:
                while not self._pending and not self._stopping:
                    self._cond.wait()
                if self._stopping:
                    return
                batch = self._take()
                self._busy = True
            try:
                self._run(batch)
            finally:
                with self._cond:
                    self._busy = False
                    self._cond.notify_all()

    def _run(self, batch: dict[UUID, UUID]) -> None:
        """One query says which subscriptions have thresholds, alerts or a budget (most have
        none: they cost nothing more); only those are evaluated."""
        try:
            with self._uow(read_only=True) as uow:
                found = {t.subscription_id: t for t in uow.alerts.evaluation_targets(batch.keys())}
        except Exception:  # the catch-up evaluates them later
            log.exception("usage evaluator: finding %d subscriptions failed", len(batch))
            return
        customers: dict[UUID, UUID] = {}
        for sid, org in batch.items():
            target = found.get(sid)
            if target is None or target.organization_id != org or not target.relevant:
                continue
            try:
                if target.has_thresholds:
                    self._progressive.evaluate(org, sid)
                if target.has_alerts:
                    self._alerts.evaluate(org, sid)
            except Exception:  # one subscription's failure must not stop the others
                log.exception("usage evaluator: subscription %s failed", sid)
            if target.has_budget:
                customers[target.customer_id] = org
        for customer_id, org in customers.items():
            try:
                self._budget_check(org, customer_id)
            except Exception:
                log.exception("usage evaluator: budget of customer %s failed", customer_id)
