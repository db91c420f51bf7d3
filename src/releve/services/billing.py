"""The billing run: close due subscription periods and issue their invoices.

What is due at `at` for a subscription (times in the customer's time zone, `domain.subscriptions`):
- ``START`` — in-advance plans: the first period's fee (not for a first period already over when
  the subscription was created: Lago bills no completed past period);
- ``PERIOD_END`` — every charge-period boundary ``b <= at`` (and ``<=`` the termination) after
  the last billed one and after the subscription's creation;
- ``TRIAL_END`` — in-advance plans whose trial ends inside a period;
- ``TERMINATION`` / ``UPGRADE`` — a subscription terminated inside a period (not on a boundary)
  unless ``on_termination_invoice = skip``; ``UPGRADE`` when its successor started then.
Contents and amounts are the domain's (`assemble_period_invoice`); usage is read from the
per-hour aggregates (`billing_usage`); taxes are the plan's / charge's codes, else the
organization's taxes `applied_to_organization`.

One unit of work per invoice. A run reads the catalog (plans, organizations, taxes) once and
which subscriptions have late usage in one query (`billing_run_cache`), and plans candidates
`PLAN_CHUNK` at a time (`billing_due`). Idempotency: `invoice_subscriptions` is UNIQUE on
(subscription_id, kind, period_start) — `billing_due.period_key` — so a second run, a retry or a
concurrent process that reaches the same period loses at insert/commit (StoreConflict) and skips
it. Numbers are taken last in the same transaction (`InvoiceRepository.next_sequential_id`), so
a rolled-back invoice never consumes one: numbers are gapless per organization.

Status: `finalized` at once (number, `finalized_at`), unless the customer's (else the
organization's) `invoice_grace_period` is > 0 — then `draft` without a number; drafts are
refreshed and finalized once their grace period is over (`billing_lifecycle`, end of each
run). Periods that produce no fee, or a zero total the customer chose to skip
(`finalize_zero_amount_invoice`), are stored `closed`: never shown, but billed.

Termination: `on_subscription_terminated` runs inside the terminating unit of work (the DELETE
request), so the final invoice — and any period-end invoice still due before it — is committed
with the termination itself, before the response. `bill_due` also issues any final invoice that
is missing (a subscription terminated by a plan deletion or an upgrade), so none is ever lost.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime
from typing import cast
from uuid import UUID

from releve.domain.billing.period_invoice import InvoiceKind
from releve.services import credit_notes, late_settlement, wallets, webhooks
from releve.services.billing_due import domain_of, due, period_key
from releve.services.billing_lifecycle import InvoiceLifecycle, finalize_in
from releve.services.billing_ports import (
    BillingUnitOfWork,
    BillingUnitOfWorkFactory,
    DeductionHolderUnitOfWork,
)
from releve.services.billing_pricing import grace_period, price_invoice
from releve.services.billing_queries import InvoiceView
from releve.services.billing_records import INVOICE_CLOSED, Invoice, InvoiceSubscription
from releve.services.billing_run_cache import RunCache
from releve.services.billing_usage_bulk import PreRead, pre_read
from releve.services.errors import StoreConflict, ValidationFailed
from releve.services.late_adjustments import SETTLING_KINDS
from releve.services.late_records import AdjustmentUnitOfWork
from releve.services.ports import Clock, UnitOfWork
from releve.services.records import (
    SUBSCRIPTION_ACTIVE,
    SUBSCRIPTION_TERMINATED,
    Subscription,
)
from releve.services.wallet_records import WalletUnitOfWorkFactory

log = logging.getLogger(__name__)
MAX_ATTEMPTS = 5
PLAN_CHUNK = 500  # subscriptions planned per read (billed periods, customers: one query each)


@dataclass(slots=True)
class BillingRun:
    """What one `bill_due` did: issued invoices (finalized or draft), skipped periods, errors."""

    at: datetime
    issued: list[Invoice] = field(default_factory=list)
    finalized: list[Invoice] = field(default_factory=list)  # drafts past their grace period
    closed: int = 0  # periods billed without a visible invoice (no fee / skipped zero)
    skipped: int = 0  # already billed (by an earlier run or a concurrent process)
    expired_wallets: int = 0  # wallets past expiration_at, terminated and voided
    errors: list[str] = field(default_factory=list)

    def add(self, part: BillingRun) -> None:
        """Count in what a shard of this run did (`bill_subscriptions` in another process)."""
        self.issued.extend(part.issued)
        self.closed += part.closed
        self.skipped += part.skipped
        self.errors.extend(part.errors)

    def totals_by_currency(self) -> dict[str, int]:
        totals: dict[str, int] = {}
        for invoice in self.issued:
            totals[invoice.currency] = totals.get(invoice.currency, 0) + invoice.total_amount_cents
        return totals


@dataclass(frozen=True, slots=True)
class Shard:
    """The subscriptions whose id is `index` modulo `count`: one of `count` processes billing
    at once. Each subscription is in exactly one shard, so each is billed by one process."""

    index: int
    count: int

    def __contains__(self, subscription_id: object) -> bool:
        return isinstance(subscription_id, UUID) and subscription_id.int % self.count == self.index


class BillingService:
    def __init__(self, uow: BillingUnitOfWorkFactory, clock: Clock) -> None:
        self._uow = uow
        self._clock = clock
        self._lifecycle = InvoiceLifecycle(uow, clock)

    # --- the billing run ---------------------------------------------------------------------

    def bill_due(self, at: datetime | None = None) -> BillingRun:
        """Issue every invoice due at `at` (default now; a future `at` is refused), for all
        organizations. Safe to run twice, or from several processes at once."""
        run = self.open_run(at)
        self.bill_subscriptions(run)
        self.close_run(run)
        return run

    # The three steps of a run, public so that a coordinator can run `bill_subscriptions` on
    # shards of the subscriptions in several processes (`entrypoints.bill_processes`).

    def open_run(self, at: datetime | None = None) -> BillingRun:
        """Check `at`, then expire the wallets past their expiration first, so no invoice
        finalized by this run draws on them."""
        now = self._clock.now()
        moment = at or now
        if moment.tzinfo is None or moment.utcoffset() is None or moment > now:
            raise ValidationFailed.one("at", "value_is_invalid")
        run = BillingRun(moment)
        run.expired_wallets = wallets.expire_due(
            cast(WalletUnitOfWorkFactory, self._uow), moment, run.errors
        )
        return run

    def bill_subscriptions(self, run: BillingRun, shard: Shard | None = None) -> None:
        """Issue the subscriptions' invoices due at `run.at` (only `shard`'s, if given)."""
        # One cache for this run only (`billing_run_cache`): the catalog is read once, and
        # late usage is detected for all subscriptions in one query.
        cache = RunCache()
        factory = cache.factory(self._uow)
        with factory(read_only=True) as uow:
            candidates = uow.invoices.billing_candidates(run.at)
            late = cast(AdjustmentUnitOfWork, uow).adjustments.late_subscription_ids()
        if shard is not None:
            candidates = [c for c in candidates if c.id in shard]
        active = {c.id for c in candidates if c.status == SUBSCRIPTION_ACTIVE}
        cache.without_late_usage = active - late
        for start in range(0, len(candidates), PLAN_CHUNK):
            planned = self._plan(factory, cache, candidates[start:][:PLAN_CHUNK], run)
            cache.pre_read = self._pre_read(factory, planned, run)
            for candidate, jobs in planned:
                for kind, when in jobs:
                    try:
                        self._issue_one(factory, cache, candidate, kind, when, run)
                    except Exception as exc:
                        log.exception(
                            "billing: %s of %s at %s failed", kind.value, candidate.id, when
                        )
                        run.errors.append(f"{candidate.id} {kind.value} {when.isoformat()}: {exc}")
        cache.pre_read = PreRead()
        # Late usage of terminated subscriptions: no next invoice can carry its adjustments, so
        # a standalone ADJUSTMENT invoice, keyed by when that usage was written (late_adjustments).
        with factory(read_only=True) as uow:
            terminated_late = cast(AdjustmentUnitOfWork, uow).adjustments.terminated_with_new_usage(
                run.at
            )
        cache.without_late_usage.clear()  # their late periods are always read (above)
        cache.without_deductions.clear()
        for subscription, written in terminated_late:
            if shard is not None and subscription.id not in shard:
                continue
            try:
                self._issue_one(factory, cache, subscription, InvoiceKind.ADJUSTMENT, written, run)
            except Exception as exc:
                log.exception("billing: late adjustments of %s failed", subscription.id)
                run.errors.append(f"{subscription.id} adjustment {written.isoformat()}: {exc}")

    def close_run(self, run: BillingRun) -> None:
        """Drafts whose grace period is over (including the ones just issued): refreshed, then
        finalized, each in its own unit of work."""
        run.finalized = self._lifecycle.finalize_due(run.at, run.errors)

    def _plan(
        self,
        factory: BillingUnitOfWorkFactory,
        cache: RunCache,
        chunk: list[Subscription],
        run: BillingRun,
    ) -> list[tuple[Subscription, list[tuple[InvoiceKind, datetime]]]]:
        """The invoices due for each of `chunk`: their billed periods and customers read in one
        query each, then planned in one read-only unit of work (a fresh one after a failure:
        a failed statement can void a PostgreSQL transaction)."""
        customer_ids = {c.customer_id for c in chunk}
        with factory(read_only=True) as uow:
            billed = uow.invoices.billed_periods([c.id for c in chunk])
            cache.customers.update(uow.customers.by_ids(customer_ids))
            holders = cast(DeductionHolderUnitOfWork, uow).deduction_holders
            with_deductions = holders.customers_with_deductions(customer_ids)
        # Settling late usage credits the customer (a credit note) before deducting: read.
        settling = {c.customer_id for c in chunk if c.id not in cache.without_late_usage}
        cache.without_deductions = customer_ids - with_deductions - settling
        planned = []
        rest = chunk
        while rest:
            with factory(read_only=True) as uow:
                for index, candidate in enumerate(rest):
                    try:
                        jobs = due(uow, candidate, run.at, billed[candidate.id])
                    except Exception as exc:  # one broken subscription must not stop the run
                        log.exception("billing: cannot plan subscription %s", candidate.id)
                        run.errors.append(f"{candidate.id}: {exc}")
                        rest = rest[index + 1 :]
                        break
                    planned.append((candidate, jobs))
                else:
                    rest = []
        return planned

    def _pre_read(
        self,
        factory: BillingUnitOfWorkFactory,
        planned: list[tuple[Subscription, list[tuple[InvoiceKind, datetime]]]],
        run: BillingRun,
    ) -> PreRead:
        """The chunk's usage read ahead (`billing_usage_bulk`); on failure, none (each invoice
        then reads its own)."""
        try:
            return pre_read(factory, planned, self._clock.now)
        except Exception:
            log.exception("billing: usage pre-read of a chunk failed; reading per invoice")
            return PreRead()

    def _issue_one(
        self,
        factory: BillingUnitOfWorkFactory,
        cache: RunCache,
        candidate: Subscription,
        kind: InvoiceKind,
        when: datetime,
        run: BillingRun,
    ) -> None:
        for attempt in range(MAX_ATTEMPTS):
            # Pre-read usage is as of its `read_at`: so is the invoice (`billing_usage_bulk`).
            # A retry reads live.
            as_of = cache.pre_read.read_at if cache.pre_read.has(candidate.id) else None
            if attempt:
                cache.pre_read.forget(candidate.id)
                as_of = None
            try:
                with factory() as uow:
                    subscription = uow.subscriptions.get_by_id(
                        candidate.organization_id, candidate.id
                    )
                    if subscription is None:
                        return
                    if subscription.status != SUBSCRIPTION_ACTIVE:
                        cache.without_late_usage.discard(subscription.id)  # its last invoice
                        cache.without_deductions.discard(subscription.customer_id)
                    invoice = self.issue_in(uow, subscription, kind, when, now=as_of)
                    uow.commit()
            except StoreConflict:
                # Lost a race: the period was billed by someone else (skip), or the first number
                # of an organization was taken concurrently (retry, now an update).
                with factory(read_only=True) as uow:
                    domain = domain_of(uow, candidate)
                    key = period_key(domain, kind, when)
                    if uow.invoices.period_billed(candidate.id, kind.value, key):
                        run.skipped += 1
                        return
                if attempt == MAX_ATTEMPTS - 1:
                    raise
                continue
            if invoice is None:
                run.skipped += 1
            elif invoice.status == INVOICE_CLOSED:
                run.closed += 1
            else:
                run.issued.append(invoice)
            return

    # --- one invoice, inside the caller's unit of work ---------------------------------------

    def issue_in(
        self,
        uow: BillingUnitOfWork,
        subscription: Subscription,
        kind: InvoiceKind,
        at: datetime,
        *,
        now: datetime | None = None,
    ) -> Invoice | None:
        """Build, store and (unless a grace period applies) finalize the invoice of `kind` at
        `at`; None when that period is already billed. Does not commit. `now`: when its usage
        was read, if before this call (the run's pre-read); default the clock."""
        key = period_key(domain_of(uow, subscription), kind, at)
        if uow.invoices.period_billed(subscription.id, kind.value, key):
            return None
        now = now or self._clock.now()
        if kind in SETTLING_KINDS:
            # Over-billed finalized periods are credited first, so this invoice consumes it.
            late_settlement.credit_overbilled(cast(AdjustmentUnitOfWork, uow), subscription, now)
        priced = price_invoice(
            uow, subscription, kind, at, period_start=key, finalizing=None, now=now
        )
        rows = priced.rows
        invoice = rows.invoice
        uow.invoices.add(invoice, [rows.link], rows.fees, rows.taxes)
        if not priced.shown():
            invoice.status = INVOICE_CLOSED
            uow.invoices.update(invoice)
        elif grace_period(priced.customer, priced.organization) <= 0:
            finalize_in(uow, priced.organization, invoice, now, priced.assembled.totals)
        else:
            webhooks.emit(
                uow,
                invoice.organization_id,
                "invoice.drafted",
                "invoice",
                object_id=str(invoice.id),
            )
        return invoice

    # --- draft lifecycle (Lago's PUT finalize / refresh, POST void, DELETE; `billing_lifecycle`)

    def finalize_invoice(self, organization_id: UUID, lago_id: str) -> InvoiceView:
        return self._lifecycle.finalize(organization_id, lago_id)

    def refresh_invoice(self, organization_id: UUID, lago_id: str) -> InvoiceView:
        return self._lifecycle.refresh(organization_id, lago_id)

    def void_invoice(self, organization_id: UUID, lago_id: str) -> InvoiceView:
        return self._lifecycle.void(organization_id, lago_id)

    def delete_invoice(self, organization_id: UUID, lago_id: str) -> InvoiceView:
        return self._lifecycle.delete(organization_id, lago_id)

    # --- late events after finalization (`late_adjustments`, `late_settlement`) -------------

    def pending_adjustments(
        self, organization_id: UUID, external_id: str
    ) -> list[late_settlement.PendingAdjustment]:
        """Adjustments of finalized periods not settled yet (404 for an unknown id)."""
        with self._uow(read_only=True) as uow:
            return late_settlement.pending(
                cast(AdjustmentUnitOfWork, uow), organization_id, external_id
            )

    # --- hooks for the subscription use cases ------------------------------------------------

    def on_subscription_terminated(self, uow: UnitOfWork, subscription: Subscription) -> None:
        """In the terminating unit of work: issue the invoices still due up to the termination
        (period ends not billed yet, then the final invoice unless `skip`). No commit."""
        billing_uow = cast(BillingUnitOfWork, uow)  # the SQL unit of work carries `invoices`
        if subscription.status != SUBSCRIPTION_TERMINATED or subscription.terminated_at is None:
            return
        for kind, when in due(billing_uow, subscription, subscription.terminated_at):
            self.issue_in(billing_uow, subscription, kind, when)
        credit_notes.on_subscription_terminated(billing_uow, subscription, self._clock.now())
        webhooks.emit(
            uow,
            subscription.organization_id,
            "subscription.terminated",
            "subscription",
            object_id=str(subscription.id),
        )

    def on_subscription_started(self, uow: UnitOfWork, subscription: Subscription) -> None:
        """In the creating unit of work: the START invoice of an in-advance plan."""
        billing_uow = cast(BillingUnitOfWork, uow)
        if subscription.status != SUBSCRIPTION_ACTIVE or subscription.started_at is None:
            return
        for kind, when in due(billing_uow, subscription, subscription.started_at):
            if kind is InvoiceKind.START:
                self.issue_in(billing_uow, subscription, kind, when)
        webhooks.emit(
            uow,
            subscription.organization_id,
            "subscription.started",
            "subscription",
            object_id=str(subscription.id),
        )


__all__ = ["BillingRun", "BillingService", "InvoiceSubscription", "Shard", "period_key"]
