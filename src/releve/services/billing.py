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

One unit of work per invoice. Idempotency: `invoice_subscriptions` is UNIQUE on
(subscription_id, kind, period_start) — `period_key` below — so a second run, a retry or a
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
from releve.domain.subscriptions import Subscription as DomainSubscription
from releve.services import credit_notes, late_settlement, wallets, webhooks
from releve.services.billing_lifecycle import InvoiceLifecycle, finalize_in
from releve.services.billing_ports import BillingUnitOfWork, BillingUnitOfWorkFactory
from releve.services.billing_pricing import grace_period, price_invoice
from releve.services.billing_queries import InvoiceView
from releve.services.billing_records import INVOICE_CLOSED, Invoice, InvoiceSubscription
from releve.services.errors import StoreConflict, ValidationFailed
from releve.services.late_adjustments import SETTLING_KINDS
from releve.services.late_records import AdjustmentUnitOfWork
from releve.services.ports import Clock, UnitOfWork
from releve.services.records import (
    SUBSCRIPTION_ACTIVE,
    SUBSCRIPTION_TERMINATED,
    Subscription,
)
from releve.services.subscriptions import customer_timezone, domain_subscription
from releve.services.wallet_records import WalletUnitOfWorkFactory

log = logging.getLogger(__name__)
MAX_ATTEMPTS = 5


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

    def totals_by_currency(self) -> dict[str, int]:
        totals: dict[str, int] = {}
        for invoice in self.issued:
            totals[invoice.currency] = totals.get(invoice.currency, 0) + invoice.total_amount_cents
        return totals


@dataclass(frozen=True, slots=True)
class _Context:
    subscription: Subscription
    domain: DomainSubscription


def period_key(domain: DomainSubscription, kind: InvoiceKind, at: datetime) -> datetime:
    """The start of the period an invoice of `kind` at `at` bills: with the subscription and
    the kind, the unique key of that invoice."""
    if kind is InvoiceKind.START:
        return domain.start
    if kind is InvoiceKind.ADJUSTMENT:
        return at  # when the late usage it settles was written
    if kind is InvoiceKind.PERIOD_END:
        charges = domain.charge_period_ending(at)
        if charges is not None:
            return charges.start
        fee = domain.fee_period_ending(at)
        if fee is None:
            raise ValidationFailed.one("at", "value_is_invalid")
        return fee.start
    return domain.fee_period(at).start


class BillingService:
    def __init__(self, uow: BillingUnitOfWorkFactory, clock: Clock) -> None:
        self._uow = uow
        self._clock = clock
        self._lifecycle = InvoiceLifecycle(uow, clock)

    # --- the billing run ---------------------------------------------------------------------

    def bill_due(self, at: datetime | None = None) -> BillingRun:
        """Issue every invoice due at `at` (default now; a future `at` is refused), for all
        organizations. Safe to run twice, or from several processes at once."""
        now = self._clock.now()
        moment = at or now
        if moment.tzinfo is None or moment.utcoffset() is None or moment > now:
            raise ValidationFailed.one("at", "value_is_invalid")
        run = BillingRun(moment)
        # Expired wallets first, so no invoice finalized by this run draws on them.
        run.expired_wallets = wallets.expire_due(
            cast(WalletUnitOfWorkFactory, self._uow), moment, run.errors
        )
        with self._uow(read_only=True) as uow:
            candidates = uow.invoices.billing_candidates(moment)
        for candidate in candidates:
            try:
                with self._uow(read_only=True) as uow:
                    jobs = self._due(uow, candidate, moment)
            except Exception as exc:  # one broken subscription must not stop the run
                log.exception("billing: cannot plan subscription %s", candidate.id)
                run.errors.append(f"{candidate.id}: {exc}")
                continue
            for kind, when in jobs:
                try:
                    self._issue_one(candidate, kind, when, run)
                except Exception as exc:
                    log.exception("billing: %s of %s at %s failed", kind.value, candidate.id, when)
                    run.errors.append(f"{candidate.id} {kind.value} {when.isoformat()}: {exc}")
        # Late usage of terminated subscriptions: no next invoice can carry its adjustments, so
        # a standalone ADJUSTMENT invoice, keyed by when that usage was written (late_adjustments).
        with self._uow(read_only=True) as uow:
            late = cast(AdjustmentUnitOfWork, uow).adjustments.terminated_with_new_usage(moment)
        for subscription, written in late:
            try:
                self._issue_one(subscription, InvoiceKind.ADJUSTMENT, written, run)
            except Exception as exc:
                log.exception("billing: late adjustments of %s failed", subscription.id)
                run.errors.append(f"{subscription.id} adjustment {written.isoformat()}: {exc}")
        # Drafts whose grace period is over (including the ones just issued): refreshed, then
        # finalized, each in its own unit of work.
        run.finalized = self._lifecycle.finalize_due(moment, run.errors)
        return run

    def _issue_one(
        self, candidate: Subscription, kind: InvoiceKind, when: datetime, run: BillingRun
    ) -> None:
        for attempt in range(MAX_ATTEMPTS):
            try:
                with self._uow() as uow:
                    subscription = uow.subscriptions.get_by_id(
                        candidate.organization_id, candidate.id
                    )
                    if subscription is None:
                        return
                    invoice = self.issue_in(uow, subscription, kind, when)
                    uow.commit()
            except StoreConflict:
                # Lost a race: the period was billed by someone else (skip), or the first number
                # of an organization was taken concurrently (retry, now an update).
                with self._uow(read_only=True) as uow:
                    context = self._context(uow, candidate)
                    key = period_key(context.domain, kind, when)
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

    def _context(self, uow: UnitOfWork, subscription: Subscription) -> _Context:
        org = subscription.organization_id
        customer = uow.customers.get_by_id(subscription.customer_id)
        stored = uow.plans.get_by_id(org, subscription.plan_id)
        assert customer is not None and stored is not None
        tz = customer_timezone(uow, org, customer)
        domain = domain_subscription(subscription, stored.plan, tz)
        assert domain is not None
        return _Context(subscription, domain)

    def _due(
        self, uow: BillingUnitOfWork, subscription: Subscription, at: datetime
    ) -> list[tuple[InvoiceKind, datetime]]:
        """The invoices due at `at` and not issued yet, oldest first (rules: module docstring)."""
        domain = self._context(uow, subscription).domain
        plan = domain.plan
        billed = uow.invoices.billed_periods([subscription.id])[subscription.id]
        done = {(b.kind, b.period_start) for b in billed}
        terminated_at = (
            subscription.terminated_at if subscription.status == SUBSCRIPTION_TERMINATED else None
        )
        horizon = at if terminated_at is None else min(at, terminated_at)
        created = subscription.created_at
        jobs: list[tuple[InvoiceKind, datetime]] = []

        def add(kind: InvoiceKind, when: datetime) -> None:
            if (kind.value, period_key(domain, kind, when)) not in done:
                jobs.append((kind, when))

        if horizon < domain.start:
            return jobs
        if plan.pay_in_advance and domain.fee_period(domain.start).end > created:
            add(InvoiceKind.START, subscription.started_at or domain.start)
        ends = [b.boundary for b in billed if b.kind == InvoiceKind.PERIOD_END.value]
        cursor = max([domain.start, *ends])
        period = domain.charge_period_containing(cursor)
        while period.end <= horizon:
            if period.end > created:
                add(InvoiceKind.PERIOD_END, period.end)
            period = domain.charge_period_containing(period.end)
        trial_end = domain.trial_ends_at
        if (
            plan.pay_in_advance
            and domain.start < trial_end <= horizon
            and trial_end > created
            and domain.fee_period(trial_end).start < trial_end
        ):
            add(InvoiceKind.TRIAL_END, trial_end)
        if (
            terminated_at is not None
            and terminated_at <= at
            and subscription.on_termination_invoice != "skip"
            and domain.fee_period_ending(terminated_at) is None
        ):
            add(self._final_kind(uow, subscription), terminated_at)
        return sorted(jobs, key=lambda job: job[1])

    @staticmethod
    def _final_kind(uow: UnitOfWork, subscription: Subscription) -> InvoiceKind:
        """UPGRADE when an active successor took over at the termination instant."""
        if subscription.next_subscription_id is not None:
            following = uow.subscriptions.get_by_id(
                subscription.organization_id, subscription.next_subscription_id
            )
            if (
                following is not None
                and following.started_at == subscription.terminated_at
                and following.status in (SUBSCRIPTION_ACTIVE, SUBSCRIPTION_TERMINATED)
            ):
                return InvoiceKind.UPGRADE
        return InvoiceKind.TERMINATION

    # --- one invoice, inside the caller's unit of work ---------------------------------------

    def issue_in(
        self, uow: BillingUnitOfWork, subscription: Subscription, kind: InvoiceKind, at: datetime
    ) -> Invoice | None:
        """Build, store and (unless a grace period applies) finalize the invoice of `kind` at
        `at`; None when that period is already billed. Does not commit."""
        context = self._context(uow, subscription)
        key = period_key(context.domain, kind, at)
        if uow.invoices.period_billed(subscription.id, kind.value, key):
            return None
        now = self._clock.now()
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
        for kind, when in self._due(billing_uow, subscription, subscription.terminated_at):
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
        for kind, when in self._due(billing_uow, subscription, subscription.started_at):
            if kind is InvoiceKind.START:
                self.issue_in(billing_uow, subscription, kind, when)
        webhooks.emit(
            uow,
            subscription.organization_id,
            "subscription.started",
            "subscription",
            object_id=str(subscription.id),
        )


__all__ = ["BillingRun", "BillingService", "InvoiceSubscription", "period_key"]
