"""Progressive billing (Lago's `usage_thresholds`, lago-api.md §4.2): bill usage before the
period ends once it crosses a threshold.

Rule (threshold points: `domain.billing.progressive`):
- Lifetime usage = the subscription's invoiced usage (charge fees of its draft or finalized
  subscription invoices) + the current charge period's usage of the charges billed in arrears,
  read from the aggregates (`services.usage.usage_for_period`), in minor units, before taxes.
- When the highest threshold point ≤ lifetime usage is above every point already crossed, one
  `progressive_billing` invoice is issued: the period's usage so far, less what this period's
  earlier progressive invoices billed (a progressive-billing credit), then taxes, credit notes
  and prepaid credits; finalized and numbered at once (`billing_lifecycle.finalize_in`, which
  emits `invoice.created`), plus `subscription.usage_threshold_reached`. Coupons are kept for
  the period invoice. Nothing new to bill (usage ≤ what was billed): the crossing is recorded,
  no invoice.
- Once per crossing: `usage_threshold_crossings` is UNIQUE per (subscription, point) and per
  (subscription, sequence), so a repeated or concurrent evaluation never issues a second
  invoice — the loser's commit fails, its retry sees the winner's crossing.
- The period-end invoice deducts what the period's progressive invoices billed
  (`progressive_credit`, through `invoice_deductions`); any excess (usage went down) is given
  back by a credit note on the latest progressive invoice(s) (`progressive_credits`).

Thresholds are the plan's; subscription `plan_overrides.usage_thresholds` create a child plan,
so they apply the same way.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from uuid import UUID

from releve.domain.billing.charge_fees import ChargeFee, ChargeFeeKind, price_charge
from releve.domain.billing.progressive import assemble_progressive_invoice, highest_usage_threshold
from releve.domain.fee_lines import TaxRate
from releve.domain.filters import BucketKey
from releve.domain.periods import Period, local_date
from releve.domain.plans import Charge, Plan
from releve.domain.subscriptions import Subscription as DomainSubscription
from releve.domain.usage import UsageFacts
from releve.services import credit_notes, wallets, webhooks
from releve.services.alert_records import (
    AlertUnitOfWork,
    AlertUnitOfWorkFactory,
    UsageThresholdCrossing,
)
from releve.services.billing_invoice import build_rows
from releve.services.billing_lifecycle import finalize_in
from releve.services.billing_pricing import applicable_taxes
from releve.services.billing_records import Invoice
from releve.services.ports import Clock
from releve.services.records import SUBSCRIPTION_ACTIVE, Customer, Subscription
from releve.services.subscriptions import customer_timezone, domain_subscription
from releve.services.transactions import retry_on_conflict
from releve.services.usage import usage_for_period

log = logging.getLogger(__name__)
PROGRESSIVE = "progressive_billing"
LINK_KIND = "progressive"  # invoice_subscriptions.kind (VARCHAR 16)


@dataclass(frozen=True, slots=True)
class UsageSnapshot:
    """A subscription's usage of its current charge period, priced per charge (all charges,
    usage fees only), and its lifetime usage (minor units, before taxes)."""

    subscription: Subscription
    customer: Customer
    plan: Plan
    domain: DomainSubscription
    period: Period
    facts: Mapping[str, Mapping[BucketKey, UsageFacts]]
    charges: tuple[tuple[Charge, tuple[ChargeFee, ...]], ...]
    invoiced_usage_cents: int

    @property
    def amount_cents(self) -> int:
        """Every charge's usage so far (Lago's current usage `amount_cents`)."""
        return sum(f.amount_cents for _, fees in self.charges for f in fees)

    @property
    def arrears_amount_cents(self) -> int:
        return sum(f.amount_cents for c, fees in self.charges if not c.pay_in_advance for f in fees)

    @property
    def lifetime_usage_cents(self) -> int:
        return self.invoiced_usage_cents + self.arrears_amount_cents


def snapshot(uow: AlertUnitOfWork, subscription: Subscription, now: datetime) -> UsageSnapshot:
    org = subscription.organization_id
    customer = uow.customers.get_by_id(subscription.customer_id)
    stored = uow.plans.get_by_id(org, subscription.plan_id)
    assert customer is not None and stored is not None
    tz = customer_timezone(uow, org, customer)
    domain = domain_subscription(subscription, stored.plan, tz)
    assert domain is not None
    period = domain.charge_period_containing(max(now, domain.start))
    facts = usage_for_period(
        uow, org, subscription.id, subscription.external_id, domain, stored.plan, period
    )
    currency = stored.plan.currency
    charges = tuple(
        (
            c,
            tuple(
                f
                for f in price_charge(c, facts.get(c.id, {}), currency)
                if f.kind is ChargeFeeKind.USAGE
            ),
        )
        for c in stored.plan.charges
    )
    invoiced = uow.alerts.invoiced_usage_cents(subscription.id)
    return UsageSnapshot(
        subscription, customer, stored.plan, domain, period, facts, charges, invoiced
    )


class ProgressiveBillingService:
    def __init__(self, uow: AlertUnitOfWorkFactory, clock: Clock) -> None:
        self._uow = uow
        self._clock = clock

    def evaluate(self, organization_id: UUID, subscription_id: UUID) -> Invoice | None:
        """Issue the progressive invoice of a threshold newly crossed (module docstring); None
        when nothing was crossed, or the crossing had nothing to bill. Safe to run twice."""
        now = self._clock.now()
        with self._uow(read_only=True) as uow:
            subscription = uow.subscriptions.get_by_id(organization_id, subscription_id)
            if subscription is None or subscription.status != SUBSCRIPTION_ACTIVE:
                return None
            stored = uow.plans.get_by_id(organization_id, subscription.plan_id)
            if stored is None or not stored.plan.usage_thresholds:
                return None
            point = highest_usage_threshold(
                stored.plan.usage_thresholds, snapshot(uow, subscription, now).lifetime_usage_cents
            )
            done = [c.threshold_amount_cents for c in uow.alerts.crossings(subscription_id)]
        if point is None or point <= max(done, default=0):
            return None

        def attempt() -> Invoice | None:
            with self._uow() as uow:
                issued = self._issue_in(uow, organization_id, subscription_id, now)
                uow.commit()
            return issued

        return retry_on_conflict(attempt)

    def evaluate_all(self) -> int:
        """Catch-up of the scheduler and `releve bill`: every active subscription with usage
        thresholds; returns the number of progressive invoices issued."""
        with self._uow(read_only=True) as uow:
            targets = uow.alerts.threshold_subscriptions()
        issued = 0
        for org, sub in targets:
            try:
                issued += self.evaluate(org, sub) is not None
            except Exception:  # one broken subscription must not stop the catch-up
                log.exception("progressive billing: evaluating %s failed", sub)
        return issued

    def _issue_in(
        self, uow: AlertUnitOfWork, organization_id: UUID, subscription_id: UUID, now: datetime
    ) -> Invoice | None:
        subscription = uow.subscriptions.get_by_id(organization_id, subscription_id)
        if subscription is None or subscription.status != SUBSCRIPTION_ACTIVE:
            return None
        snap = snapshot(uow, subscription, now)
        point = highest_usage_threshold(snap.plan.usage_thresholds, snap.lifetime_usage_cents)
        crossings = uow.alerts.crossings(subscription_id)
        if point is None or point <= max((c.threshold_amount_cents for c in crossings), default=0):
            return None
        # The crossing instant, strictly increasing per subscription (it keys the invoice link).
        at = now
        if crossings and crossings[-1].created_at >= at:
            at = crossings[-1].created_at + timedelta(microseconds=1)
        crossing = UsageThresholdCrossing(
            id=uuid.uuid4(),
            organization_id=organization_id,
            subscription_id=subscription_id,
            sequence=len(crossings) + 1,
            threshold_amount_cents=point,
            lifetime_usage_amount_cents=snap.lifetime_usage_cents,
            period_start=snap.period.start,
            period_end=snap.period.end,
            invoice_id=None,
            created_at=at,
        )
        invoice = self._invoice_in(uow, snap, at)
        crossing.invoice_id = invoice.id if invoice is not None else None
        uow.alerts.add_crossing(crossing)
        webhooks.emit(
            uow,
            organization_id,
            "subscription.usage_threshold_reached",
            "subscription",
            object_id=str(subscription_id),
        )
        return invoice

    def _invoice_in(
        self, uow: AlertUnitOfWork, snap: UsageSnapshot, at: datetime
    ) -> Invoice | None:
        subscription, customer = snap.subscription, snap.customer
        org_id = subscription.organization_id
        organization = uow.organizations.get(org_id)
        assert organization is not None
        taxes = applicable_taxes(uow, org_id, snap.domain)
        rates = {code: TaxRate(t.code, t.name, t.rate) for code, t in taxes.items()}
        defaults = [t.code for t in uow.taxes.applied_to_organization(org_id)]
        currency = snap.plan.currency.code
        notes = credit_notes.invoice_credit_notes(uow, customer, currency)
        prepaid = wallets.invoice_wallets(uow, customer, currency, at)
        already = uow.alerts.progressive_billed_cents(subscription.id, at)
        assembled = assemble_progressive_invoice(
            snap.domain,
            snap.period,
            at,
            usage=snap.facts,
            already_billed_cents=already,
            taxes=rates,
            default_tax_codes=defaults,
            credit_notes=notes,
            wallets=prepaid,
        )
        totals = assembled.totals
        if totals.fees_amount_cents - totals.progressive_billing_credit_amount_cents <= 0:
            return None
        term = (
            customer.net_payment_term
            if customer.net_payment_term is not None
            else organization.net_payment_term
        )
        rows = build_rows(
            assembled,
            organization=organization,
            subscription=subscription,
            plan=snap.plan,
            taxes=taxes,
            filter_ids=uow.invoices.charge_filter_ids(
                [UUID(c.id) for c in snap.plan.charges if c.filters]
            ),
            period_start=at,
            issuing_date=local_date(at, snap.domain.tz),
            net_payment_term=term,
            now=at,
        )
        invoice, link = rows.invoice, rows.link
        invoice.invoice_type = PROGRESSIVE
        link.kind = LINK_KIND
        link.invoicing_reason = PROGRESSIVE
        uow.invoices.add(invoice, [link], rows.fees, rows.taxes)
        finalize_in(uow, organization, invoice, at, totals)
        return invoice
