"""Current usage of a subscription (Lago's `GET /customers/{id}/current_usage`).

Reads the per-hour aggregate states, never the raw events (except below):

- The period is the subscription's charge period containing now (the fee period, or the month
  for `bill_charges_monthly`), in the customer's time zone; its states are the hours
  ``period.start <= hour_start < period.end`` of each (charge, bucket), merged.
- Recurring metrics (and increase_agg, whose meter reading carries) also need the past: the
  states of every earlier charge period since the subscription started are merged per period
  and folded through `Aggregator.carry_over` in time order, and the result is passed as
  `carried`. Buckets that only exist in the past (a seat added last month) are priced too.
- Percentage charges with free events, free units or per-transaction min/max need each event's
  value: for those charges only, the matched events of the subscription for that metric in the
  period are read from the raw log and their values are listed per bucket
  (`aggregations.event_values`).

Pricing is the domain's (`billing.charge_fees.price_charge`: one fee per filter, default bucket
and pricing group, rounded once each); spending-minimum true-ups are an invoice matter and are
not part of current usage. Taxes: the organization's taxes `applied_to_organization`, computed
per rate on the sum of the charges (`domain.taxes.compute_taxes`), unless `apply_taxes` is false.

Past usage (Lago's `GET /customers/{id}/past_usage`) is never recomputed: each period is one
finalized invoice that bills the subscription, read back from its stored charge fees (units,
events, amounts, taxes as invoiced), newest first.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from decimal import Decimal
from typing import Any
from uuid import UUID

from releve.domain.aggregations import aggregator_for, event_values
from releve.domain.billing.charge_fees import ChargeFee, ChargeFeeKind, price_charge
from releve.domain.charge_models.percentage import needs_event_values
from releve.domain.charge_models.properties import ChargeModel, PercentageProperties
from releve.domain.fee_lines import FeeLine, FeeType, TaxRate
from releve.domain.filters import BucketKey, bucket_of
from releve.domain.money import Currency
from releve.domain.periods import Period, local_date
from releve.domain.plans import Charge, Plan
from releve.domain.subscriptions import Subscription as DomainSubscription
from releve.domain.taxes import compute_taxes
from releve.domain.usage import UsageFacts
from releve.services.billing_queries import InvoiceQueries
from releve.services.billing_records import INVOICE_FINALIZED
from releve.services.errors import NotFound, ValidationFailed
from releve.services.pagination import MAX_PER_PAGE, Page, PageRequest
from releve.services.ports import Clock, UnitOfWork, UnitOfWorkFactory
from releve.services.records import (
    SUBSCRIPTION_ACTIVE,
    Customer,
    StoredPlan,
    Subscription,
    UsageAggregate,
)
from releve.services.subscriptions import customer_timezone, domain_subscription
from releve.services.usage_past import (  # the API's names for past usage, re-exported
    PastChargeUsage as PastChargeUsage,
)
from releve.services.usage_past import PastUsagePeriod, past_period
from releve.services.usage_reading import page_reading
from releve.services.usage_recording import domain_event
from releve.services.usage_states import merged_states, usage_by_bucket


@dataclass(frozen=True, slots=True)
class ChargeUsage:
    """One charge's usage so far: its priced buckets (filters, default, groups) and totals."""

    charge: Charge
    fees: tuple[ChargeFee, ...]

    @property
    def units(self) -> Decimal:
        return sum((f.units for f in self.fees), Decimal(0))

    @property
    def events_count(self) -> int:
        return sum(f.events_count for f in self.fees)

    @property
    def amount_cents(self) -> int:
        return sum(f.amount_cents for f in self.fees)


@dataclass(frozen=True, slots=True)
class CustomerUsage:
    subscription_id: UUID
    period: Period
    issuing_date: date
    currency: Currency
    charges: tuple[ChargeUsage, ...]
    taxes_amount_cents: int
    # charge id → bucket → usage facts the fees were priced from (what projections re-price)
    facts: Mapping[str, Mapping[BucketKey, UsageFacts]] = field(default_factory=dict)

    @property
    def amount_cents(self) -> int:
        return sum(c.amount_cents for c in self.charges)

    @property
    def total_amount_cents(self) -> int:
        return self.amount_cents + self.taxes_amount_cents


class CurrentUsageService:
    def __init__(self, uow: UnitOfWorkFactory, clock: Clock) -> None:
        self._uow = uow
        self._clock = clock

    def current_usage(
        self,
        organization_id: UUID,
        external_customer_id: str,
        external_subscription_id: str,
        *,
        apply_taxes: bool = True,
    ) -> CustomerUsage:
        """Usage and amounts of the current period so far (404 unless the customer's active
        subscription)."""
        reading = page_reading()
        key = (organization_id, external_customer_id, external_subscription_id)
        if apply_taxes and reading is not None and key in reading:
            return reading[key]
        now = self._clock.now()
        with self._uow(read_only=True) as uow:
            customer = uow.customers.get(organization_id, external_customer_id)
            if customer is None:
                raise NotFound("customer")
            subscription = uow.subscriptions.current(organization_id, external_subscription_id)
            if (
                subscription is None
                or subscription.customer_id != customer.id
                or subscription.status != SUBSCRIPTION_ACTIVE
            ):
                raise NotFound("subscription")
            stored = uow.plans.get_by_id(organization_id, subscription.plan_id)
            assert stored is not None
            usage = _current(uow, customer, subscription, stored, now, apply_taxes)
        if apply_taxes and reading is not None:
            reading[key] = usage
        return usage

    def current_usages(
        self, loaded: Sequence[tuple[Customer, Subscription, StoredPlan]]
    ) -> dict[UUID, CustomerUsage]:
        """subscription id → `current_usage` (same figures), for subscriptions already loaded
        with their customer and plan (a page's list), in one unit of work: neither is read
        again per subscription. Subscriptions that are not active are left out."""
        reading = page_reading()
        now = self._clock.now()
        found: dict[UUID, CustomerUsage] = {}
        with self._uow(read_only=True) as uow:
            for customer, subscription, stored in loaded:
                if (
                    subscription.status != SUBSCRIPTION_ACTIVE
                    or subscription.customer_id != customer.id
                ):
                    continue
                key = (subscription.organization_id, customer.external_id, subscription.external_id)
                usage = reading.get(key) if reading is not None else None
                if usage is None:
                    usage = _current(uow, customer, subscription, stored, now, True)
                    if reading is not None:
                        reading[key] = usage
                found[subscription.id] = usage
        return found

    def past_usage(
        self,
        organization_id: UUID,
        external_customer_id: str,
        external_subscription_id: str,
        invoices: InvoiceQueries,
        page: PageRequest,
        *,
        billable_metric_code: str | None = None,
        periods_count: int | None = None,
    ) -> Page[PastUsagePeriod]:
        """The subscription's invoiced usage periods, newest first (module docstring): at most
        `periods_count`, then paged. 404 unless the subscription (any status) is the
        customer's."""
        if periods_count is not None and periods_count < 1:
            raise ValidationFailed({"periods_count": ["value_is_invalid"]})
        with self._uow(read_only=True) as uow:
            customer = uow.customers.get(organization_id, external_customer_id)
            if customer is None:
                raise NotFound("customer")
            mine = [
                s
                for s in uow.subscriptions.for_external_ids(
                    organization_id, [external_subscription_id]
                )
                if s.customer_id == customer.id
            ]
            if not mine:
                raise NotFound("subscription")
            charges: dict[UUID, Charge] = {}
            for subscription in mine:
                stored = uow.plans.get_by_id(organization_id, subscription.plan_id)
                if stored is not None:
                    charges.update({UUID(c.id): c for c in stored.plan.charges})
        ids = {s.id for s in mine}
        periods = []
        number = 1
        while True:
            found = invoices.list(
                organization_id,
                PageRequest(number, MAX_PER_PAGE),
                external_customer_id=external_customer_id,
                status=INVOICE_FINALIZED,
                invoice_type="subscription",  # progressive invoices bill part of a period
            )
            for view in found.items:
                for billed in view.subscriptions:
                    if billed.link.subscription_id not in ids or billed.link.kind == "adjustment":
                        continue  # an adjustment invoice corrects earlier periods, listed once
                    fees = [
                        f
                        for f in view.fees
                        if f.subscription_id == billed.link.subscription_id
                        and f.fee_type == "charge"
                        and (billable_metric_code is None or f.item_code == billable_metric_code)
                    ]
                    periods.append(past_period(view.invoice, billed.link, fees, charges))
            if number >= found.total_pages:
                break
            number += 1
        periods.sort(key=lambda p: (p.from_datetime, p.invoice.issuing_date), reverse=True)
        if periods_count is not None:
            periods = periods[:periods_count]
        return Page(periods[page.offset : page.offset + page.per_page], page, len(periods))


def _current(
    uow: UnitOfWork,
    customer: Customer,
    subscription: Subscription,
    stored: StoredPlan,
    now: datetime,
    apply_taxes: bool,
) -> CustomerUsage:
    """One active subscription's usage of the charge period containing `now`, priced."""
    organization_id = subscription.organization_id
    tz = customer_timezone(uow, organization_id, customer)
    domain = domain_subscription(subscription, stored.plan, tz)
    assert domain is not None
    period = domain.charge_period_containing(max(now, domain.start))
    usage = usage_for_period(
        uow, organization_id, subscription.id, subscription.external_id, domain, stored.plan, period
    )
    currency = stored.plan.currency
    charges = []
    for charge in stored.plan.charges:
        fees = price_charge(charge, usage.get(charge.id, {}), currency)
        charges.append(ChargeUsage(charge, tuple(f for f in fees if f.kind is ChargeFeeKind.USAGE)))
    taxes = _taxes(uow, organization_id, charges, currency) if apply_taxes else 0
    return CustomerUsage(
        subscription_id=subscription.id,
        period=period,
        issuing_date=local_date(period.end, tz),
        currency=currency,
        charges=tuple(charges),
        taxes_amount_cents=taxes,
        facts=usage,
    )


def usage_for_period(
    uow: UnitOfWork,
    organization_id: UUID,
    subscription_id: UUID,
    external_id: str,
    domain: DomainSubscription,
    plan: Plan,
    period: Period,
    *,
    charges: Sequence[Charge] | None = None,
) -> dict[str, Mapping[BucketKey, UsageFacts]]:
    """The one way to read usage: charge id → bucket → usage facts of `period` (half-open: a
    charge period, or its start up to a termination), for `charges` (default: all the plan's).

    Current usage and billing both call this. This period's states are read for every charge
    (whole local days from the daily rollup, edge days by the hour: `usage_states`); earlier
    ones only for charges that carry state over (recurring metrics, increase_agg); the raw
    events only for percentage charges that need each event's value.
    """
    wanted = list(plan.charges if charges is None else charges)
    if not wanted:
        return {}
    aggregators = {UUID(c.id): aggregator_for(c.metric) for c in wanted}
    carrying = [key for key, a in aggregators.items() if a.uses_carried]
    starts = _earlier_period_starts(domain, period) if carrying else []
    merged = merged_states(
        uow,
        organization_id,
        subscription_id,
        domain.tz,
        period,
        aggregators,
        None if charges is None else list(aggregators),
        carrying,
        starts,
    )
    usage: dict[str, Mapping[BucketKey, UsageFacts]] = {}
    for charge in wanted:
        aggregator = aggregators[UUID(charge.id)]
        rows = merged.get(UUID(charge.id), [])
        buckets = usage_by_bucket(aggregator, rows, period, starts)
        if _needs_event_values(charge):
            buckets = _with_event_values(
                uow, organization_id, external_id, subscription_id, charge, period, buckets
            )
        usage[charge.id] = buckets
    return usage


def _earlier_period_starts(domain: DomainSubscription, current: Period) -> list[datetime]:
    """Starts of the subscription's charge periods before `current`, oldest first."""
    starts = []
    period = domain.charge_period_containing(domain.start)
    while period.start < current.start:
        starts.append(period.start)
        period = domain.charge_period_containing(period.end)
    return starts


def _usage_by_bucket(
    charge: Charge,
    aggregates: list[UsageAggregate],
    period: Period,
    earlier_starts: list[datetime],
) -> dict[BucketKey, UsageFacts]:
    """`usage_by_bucket` of hourly aggregates already read (plan comparison)."""
    aggregator = aggregator_for(charge.metric)
    loaded = ((a.key.bucket, a.key.hour_start, aggregator.load_state(a.state)) for a in aggregates)
    return usage_by_bucket(aggregator, loaded, period, earlier_starts)


def _needs_event_values(charge: Charge) -> bool:
    if charge.charge_model is not ChargeModel.PERCENTAGE:
        return False
    prices = [charge.properties, *(f.properties for f in charge.filters)]
    return any(isinstance(p, PercentageProperties) and needs_event_values(p) for p in prices)


def _with_event_values(
    uow: UnitOfWork,
    organization_id: UUID,
    external_id: str,
    subscription_id: UUID,
    charge: Charge,
    period: Period,
    usage: dict[BucketKey, UsageFacts],
) -> dict[BucketKey, UsageFacts]:
    """Attach each bucket's event values, read from the raw events of this period only."""
    events = uow.events.matched_in(
        organization_id, external_id, subscription_id, charge.metric.code, period.start, period.end
    )
    grouped: dict[BucketKey, list[Any]] = {}
    for stored in events:
        event = domain_event(stored)
        key = bucket_of(event, charge.filter_specs, charge.pricing_group_keys)
        grouped.setdefault(key, []).append(event)
    return {
        key: replace(facts, event_values=event_values(charge.metric, grouped.get(key, [])))
        for key, facts in usage.items()
    }


def _taxes(
    uow: UnitOfWork, organization_id: UUID, charges: list[ChargeUsage], currency: Currency
) -> int:
    rates = tuple(
        TaxRate(t.code, t.name, t.rate) for t in uow.taxes.applied_to_organization(organization_id)
    )
    if not rates:
        return 0
    lines = [
        FeeLine(
            id=usage.charge.id,
            fee_type=FeeType.CHARGE,
            amount_cents=max(usage.amount_cents, 0),
            currency=currency,
            taxes=rates,
        )
        for usage in charges
    ]
    return compute_taxes(lines, {line.id: line.amount_cents for line in lines}).amount_cents
