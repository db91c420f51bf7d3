"""What is due for one subscription at an instant, and the key each invoice is unique by.

The rules are `services.billing`'s module docstring; this is their code, shared by the bill
run (which reads every candidate's billed periods in one query and passes them in) and by the
termination and start hooks.
"""

from __future__ import annotations

from datetime import datetime

from releve.domain.billing.period_invoice import InvoiceKind
from releve.domain.subscriptions import Subscription as DomainSubscription
from releve.services.billing_ports import BillingUnitOfWork
from releve.services.billing_records import InvoiceSubscription
from releve.services.errors import ValidationFailed
from releve.services.ports import UnitOfWork
from releve.services.records import SUBSCRIPTION_ACTIVE, SUBSCRIPTION_TERMINATED, Subscription
from releve.services.subscriptions import customer_timezone, domain_subscription


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


def domain_of(uow: UnitOfWork, subscription: Subscription) -> DomainSubscription:
    """The domain view (periods, trial) of a started subscription, in its customer's zone."""
    org = subscription.organization_id
    customer = uow.customers.get_by_id(subscription.customer_id)
    stored = uow.plans.get_by_id(org, subscription.plan_id)
    assert customer is not None and stored is not None
    tz = customer_timezone(uow, org, customer)
    domain = domain_subscription(subscription, stored.plan, tz)
    assert domain is not None
    return domain


def due(
    uow: BillingUnitOfWork,
    subscription: Subscription,
    at: datetime,
    billed: list[InvoiceSubscription] | None = None,
) -> list[tuple[InvoiceKind, datetime]]:
    """The invoices due at `at` and not issued yet, oldest first (rules: `services.billing`).
    `billed`: the subscription's billed periods, when the caller read them already."""
    domain = domain_of(uow, subscription)
    plan = domain.plan
    if billed is None:
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
        add(final_kind(uow, subscription), terminated_at)
    return sorted(jobs, key=lambda job: job[1])


def final_kind(uow: UnitOfWork, subscription: Subscription) -> InvoiceKind:
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
