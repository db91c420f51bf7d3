"""What the customer's own usage would have cost on each public plan (portal "spend wisely").

The rule, as the portal states it:

- Usage: this subscription's usage as recorded, for the current charge period **so far** and
  for the **previous** charge period (when the subscription had one).
- Plans: the organization's plans marked `public`, in the subscription's currency and billed on
  the same interval (so that their periods are the same as the customer's). The customer's own
  plan is priced the same way, so the difference compares like with like.
- Price: `assemble_period_invoice` — the very function billing uses — as the invoice closing
  that period would be: the plan's subscription fee for the period, the usage charges (the
  domain's charge models), the minimum-commitment true-up, then taxes (the same tax rules as
  invoices: the fee's, the plan's, else the organization's). Coupons, credit notes, prepaid
  credits and progressive billing are left out: they are not the plan's price.

Usage under another plan: charges are priced from the same hour aggregates as current usage.
A charge whose metric, filters and pricing groups match one of the current plan's charges
reuses that charge's buckets; one without filters or groups merges all buckets of a charge on
its metric (every event of the metric is in exactly one bucket); otherwise its buckets are
rebuilt from the raw events of the period (carried metrics from the subscription start).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta, tzinfo
from uuid import UUID

from releve.domain.aggregations import aggregator_for
from releve.domain.billing.period_invoice import (
    AssembledInvoice,
    InvoiceKind,
    assemble_period_invoice,
)
from releve.domain.errors import DomainError
from releve.domain.fee_lines import FeeType, TaxRate
from releve.domain.filters import BucketKey, bucket_of
from releve.domain.periods import Period, local_date
from releve.domain.plans import Charge, Plan
from releve.domain.subscriptions import Subscription as DomainSubscription
from releve.domain.usage import UsageFacts
from releve.services.billing_pricing import applicable_taxes
from releve.services.errors import NotFound
from releve.services.pagination import PageRequest
from releve.services.ports import Clock, SubscriptionFilter, UnitOfWork, UnitOfWorkFactory
from releve.services.records import AggregateKey, StoredPlan, Subscription, UsageAggregate
from releve.services.subscriptions import customer_timezone, domain_subscription

# The one merge-and-carry rule of current usage, applied to another plan's charges.
from releve.services.usage import (
    _earlier_period_starts,
    _needs_event_values,
    _usage_by_bucket,
    _with_event_values,
)
from releve.services.usage_recording import bucket_text, domain_event

PLANS_PAGE = 100
MAX_SUBSCRIPTIONS = 100
Usage = dict[str, dict[BucketKey, UsageFacts]]


@dataclass(frozen=True, slots=True)
class PricedPeriod:
    """One period priced on one plan (amounts in minor units of the plan's currency)."""

    period: Period
    first_day: date  # local, inclusive
    last_day: date
    so_far: bool  # the current period, up to now
    subscription_fee_cents: int
    charges_cents: int  # usage charges and the commitment true-up
    taxes_cents: int
    total_cents: int  # taxes included


@dataclass(frozen=True, slots=True)
class PlanOption:
    plan_code: str
    plan_name: str
    description: str | None
    current: PricedPeriod
    previous: PricedPeriod | None


@dataclass(frozen=True, slots=True)
class Comparison:
    """One active subscription: its own plan priced by the rule, and each public plan."""

    external_subscription_id: str
    currency: str
    yours: PlanOption
    options: tuple[PlanOption, ...]

    @staticmethod
    def difference(option: PricedPeriod, yours: PricedPeriod) -> int:
        """Positive: the other plan costs more; negative: it would have saved that much."""
        return option.total_cents - yours.total_cents


class PlanComparisonService:
    def __init__(self, uow: UnitOfWorkFactory, clock: Clock) -> None:
        self._uow = uow
        self._clock = clock

    def compare(self, organization_id: UUID, external_customer_id: str) -> list[Comparison]:
        """Every active subscription of the customer with its public alternatives (none when
        the organization has no public plan in its currency and interval)."""
        now = self._clock.now()
        with self._uow(read_only=True) as uow:
            customer = uow.customers.get(organization_id, external_customer_id)
            if customer is None:
                raise NotFound("customer")
            tz = customer_timezone(uow, organization_id, customer)
            public = _public_plans(uow, organization_id)
            found, _ = uow.subscriptions.list(
                organization_id,
                SubscriptionFilter(customer_id=customer.id),
                PageRequest(1, MAX_SUBSCRIPTIONS),
            )
            result = []
            for subscription in sorted(found, key=lambda s: (s.created_at, s.external_id)):
                comparison = self._one(uow, organization_id, subscription, public, tz, now)
                if comparison is not None:
                    result.append(comparison)
        return result

    def _one(
        self,
        uow: UnitOfWork,
        organization_id: UUID,
        subscription: Subscription,
        public: Sequence[StoredPlan],
        tz: tzinfo,
        now: datetime,
    ) -> Comparison | None:
        stored = uow.plans.get_by_id(organization_id, subscription.plan_id)
        assert stored is not None
        own = stored.plan
        domain = domain_subscription(subscription, own, tz)
        if domain is None:
            return None
        alternatives = [
            p.plan
            for p in public
            if p.id != stored.id
            and p.plan.code != own.code
            and p.plan.currency == own.currency
            and p.plan.interval == own.interval
        ]
        if not alternatives:
            return None
        current = domain.charge_period_containing(max(now, domain.start))
        previous = None
        if current.start > domain.start:
            previous = domain.charge_period_containing(current.start - timedelta(microseconds=1))
        pricer = _Pricer(uow, organization_id, subscription, domain, tz)
        yours = pricer.option(own, current, previous)
        if yours is None:
            return None
        options = [o for o in (pricer.option(p, current, previous) for p in alternatives) if o]
        return Comparison(subscription.external_id, own.currency.code, yours, tuple(options))


def _public_plans(uow: UnitOfWork, organization_id: UUID) -> list[StoredPlan]:
    plans: list[StoredPlan] = []
    number = 1
    while True:
        items, total = uow.plans.list(organization_id, PageRequest(number, PLANS_PAGE))
        plans += [p for p in items if p.public and p.deleted_at is None]
        if number * PLANS_PAGE >= total:
            return sorted(plans, key=lambda p: (p.plan.name, p.plan.code))
        number += 1


class _Pricer:
    """Prices periods of one subscription on any plan, reading its usage once per period."""

    def __init__(
        self,
        uow: UnitOfWork,
        organization_id: UUID,
        subscription: Subscription,
        domain: DomainSubscription,
        tz: tzinfo,
    ) -> None:
        self._uow = uow
        self._org = organization_id
        self._sub = subscription
        self._domain = domain
        self._tz = tz
        self._states: dict[Period, list[UsageAggregate]] = {}
        self._defaults = [t.code for t in uow.taxes.applied_to_organization(organization_id)]

    def option(self, plan: Plan, current: Period, previous: Period | None) -> PlanOption | None:
        domain = replace(self._domain, plan=plan)
        try:
            now = self._price(domain, current, so_far=True)
            before = None if previous is None else self._price(domain, previous, so_far=False)
        except DomainError:
            return None  # e.g. a tax code that no longer exists: no figure rather than a wrong one
        return PlanOption(plan.code, plan.name, plan.description, now, before)

    def _price(self, domain: DomainSubscription, period: Period, *, so_far: bool) -> PricedPeriod:
        taxes = applicable_taxes(self._uow, self._org, domain)
        rates = {code: TaxRate(t.code, t.name, t.rate) for code, t in taxes.items()}
        invoice: AssembledInvoice = assemble_period_invoice(
            domain,
            InvoiceKind.PERIOD_END,
            period.end,
            usage=self._usage(domain, period),
            finalizing=False,
            taxes=rates,
            default_tax_codes=self._defaults,
        )
        fee = sum(
            f.line.amount_cents for f in invoice.fees if f.line.fee_type is FeeType.SUBSCRIPTION
        )
        totals = invoice.totals
        return PricedPeriod(
            period=period,
            first_day=local_date(period.start, self._tz),
            last_day=local_date(period.end - timedelta(microseconds=1), self._tz),
            so_far=so_far,
            subscription_fee_cents=fee,
            charges_cents=totals.fees_amount_cents - fee,
            taxes_cents=totals.taxes_amount_cents,
            total_cents=totals.sub_total_including_taxes_amount_cents,
        )

    def _aggregates(self, period: Period, carried: bool) -> list[UsageAggregate]:
        key = Period(self._domain.start, period.end) if carried else period
        if key not in self._states:
            self._states[key] = self._uow.usage_aggregates.for_subscription(
                self._org, self._sub.id, key.end, since=key.start
            )
        return self._states[key]

    def _usage(self, domain: DomainSubscription, period: Period) -> Usage:
        own = self._domain.plan.charges
        usage: Usage = {}
        for charge in domain.plan.charges:
            carried = aggregator_for(charge.metric).uses_carried
            states = self._aggregates(period, carried)
            aggregates = _reuse(charge, own, states)
            if aggregates is None:
                aggregates = self._from_events(charge, domain.start if carried else period.start,
                                               period.end)  # fmt: skip
            starts = _earlier_period_starts(domain, period) if carried else []
            buckets = _usage_by_bucket(charge, aggregates, period, starts)
            if _needs_event_values(charge):
                buckets = _with_event_values(
                    self._uow, self._org, self._sub.external_id, self._sub.id, charge, period,
                    buckets,
                )  # fmt: skip
            usage[charge.id] = buckets
        return usage

    def _from_events(self, charge: Charge, start: datetime, end: datetime) -> list[UsageAggregate]:
        """The charge's buckets rebuilt from the raw events (one state per event)."""
        aggregator = aggregator_for(charge.metric)
        events = self._uow.events.matched_in(
            self._org, self._sub.external_id, self._sub.id, charge.metric.code, start, end
        )
        rows = []
        for stored in events:
            event = domain_event(stored)
            try:
                state = aggregator.add(aggregator.init(), event)
            except DomainError:
                continue  # unreadable for this metric: not counted, as at ingestion
            key = bucket_of(event, charge.filter_specs, charge.pricing_group_keys)
            rows.append(
                UsageAggregate(
                    AggregateKey(self._sub.id, UUID(charge.id), bucket_text(key), event.timestamp),
                    aggregator.dump_state(state),
                    1,
                )
            )
        return rows


def _reuse(
    charge: Charge, own: Sequence[Charge], states: Sequence[UsageAggregate]
) -> list[UsageAggregate] | None:
    """The current plan's states that price `charge` exactly, relabelled when needed; None
    when no charge of the current plan has a compatible shape."""
    same_metric = [c for c in own if c.metric.code == charge.metric.code]
    for source in same_metric:
        if source.id == charge.id or (
            source.filter_specs == charge.filter_specs
            and source.pricing_group_keys == charge.pricing_group_keys
        ):
            return [s for s in states if s.key.charge_id == UUID(source.id)]
    if not charge.filters and not charge.pricing_group_keys and same_metric:
        source_id = UUID(same_metric[0].id)
        default = bucket_text(BucketKey())
        return [
            replace(s, key=replace(s.key, bucket=default))
            for s in states
            if s.key.charge_id == source_id
        ]
    return None
