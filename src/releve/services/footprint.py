"""The environmental footprint of a customer's usage (portal "environmental awareness").

A billable metric may carry `footprint_per_unit` (a Decimal, ≥ 0) and `footprint_unit`
("gCO2e", "kWh"…), a Relevé extension set by the operator. For each charge of an active
subscription whose metric has a factor:

- footprint = units × factor, exact (no rounding: the page formats it for reading), where
  units are the charge's units as priced (current usage: `usage_for_period`, all buckets);
- the same for the previous charge period, for the trend;
- a daily series for the current period, per local day of the customer, only for metrics whose
  units add up over days (count, and non-recurring sum): for a peak, a level or a unique count
  a "per day" figure would not add up to the period's and is not shown.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta, tzinfo
from decimal import Decimal
from typing import Any
from uuid import UUID

from releve.domain.aggregations import aggregator_for
from releve.domain.metering import AggregationType
from releve.domain.periods import Period, local_date, local_midnight
from releve.domain.plans import Charge, Plan
from releve.domain.subscriptions import Subscription as DomainSubscription
from releve.services.errors import NotFound
from releve.services.pagination import PageRequest
from releve.services.ports import Clock, SubscriptionFilter, UnitOfWork, UnitOfWorkFactory
from releve.services.records import Subscription, UsageAggregate
from releve.services.subscriptions import customer_timezone, domain_subscription
from releve.services.usage import usage_for_period

MAX_SUBSCRIPTIONS = 100


@dataclass(frozen=True, slots=True)
class FootprintLine:
    external_subscription_id: str
    metric_code: str
    name: str
    unit: str
    factor: Decimal  # per unit of usage
    units: Decimal
    previous_units: Decimal | None  # None: no previous period

    @property
    def amount(self) -> Decimal:
        return self.units * self.factor

    @property
    def previous_amount(self) -> Decimal | None:
        return None if self.previous_units is None else self.previous_units * self.factor


@dataclass(frozen=True, slots=True)
class Footprint:
    lines: tuple[FootprintLine, ...]
    days: tuple[date, ...]  # the current period's local days up to today
    daily: dict[str, tuple[Decimal, ...]]  # "name (unit)" → footprint per day

    def totals(self) -> dict[str, tuple[Decimal, Decimal | None]]:
        """Per unit: (this period, previous period or None when any line has none)."""
        sums: dict[str, tuple[Decimal, Decimal | None]] = {}
        for line in self.lines:
            now, before = sums.get(line.unit, (Decimal(0), Decimal(0)))
            previous = line.previous_amount
            sums[line.unit] = (
                now + line.amount,
                None if before is None or previous is None else before + previous,
            )
        return sums


class FootprintService:
    def __init__(self, uow: UnitOfWorkFactory, clock: Clock) -> None:
        self._uow = uow
        self._clock = clock

    def for_customer(self, organization_id: UUID, external_customer_id: str) -> Footprint:
        now = self._clock.now()
        lines: list[FootprintLine] = []
        daily: dict[str, dict[date, Decimal]] = {}
        first_day: date | None = None
        with self._uow(read_only=True) as uow:
            customer = uow.customers.get(organization_id, external_customer_id)
            if customer is None:
                raise NotFound("customer")
            tz = customer_timezone(uow, organization_id, customer)
            today = local_date(now, tz)
            found, _ = uow.subscriptions.list(
                organization_id,
                SubscriptionFilter(customer_id=customer.id),
                PageRequest(1, MAX_SUBSCRIPTIONS),
            )
            for subscription in sorted(found, key=lambda s: (s.created_at, s.external_id)):
                stored = uow.plans.get_by_id(organization_id, subscription.plan_id)
                assert stored is not None
                factors = _factors(uow, organization_id, stored.plan.charges)
                charges = [c for c in stored.plan.charges if c.metric.code in factors]
                domain = domain_subscription(subscription, stored.plan, tz)
                if not charges or domain is None:
                    continue
                current = domain.charge_period_containing(max(now, domain.start))
                previous = None
                if current.start > domain.start:
                    previous = domain.charge_period_containing(
                        current.start - timedelta(microseconds=1)
                    )

                read = _Units(uow, organization_id, subscription, stored.plan, domain, charges)
                now_units = read(current)
                before = read(previous) if previous is not None else None
                # Subscriptions' periods may start on different days: the chart spans from the
                # earliest, and each series adds its values by date, not by position.
                first = local_date(current.start, tz)
                days = tuple(first + timedelta(n) for n in range((today - first).days + 1))
                first_day = first if first_day is None else min(first_day, first)
                for charge in charges:
                    name, unit, factor = factors[charge.metric.code]
                    lines.append(
                        FootprintLine(
                            subscription.external_id, charge.metric.code, name, unit, factor,
                            now_units.get(charge.id, Decimal(0)),
                            None if before is None else before.get(charge.id, Decimal(0)),
                        )
                    )  # fmt: skip
                    if _adds_up(charge):
                        per_day = _per_day(uow, subscription, charge, current, days, tz)
                        series = daily.setdefault(f"{name} ({unit})", {})
                        for day, value in zip(days, per_day, strict=True):
                            series[day] = series.get(day, Decimal(0)) + value * factor
        all_days: tuple[date, ...] = ()
        if first_day is not None:
            all_days = tuple(first_day + timedelta(n) for n in range((today - first_day).days + 1))
        return Footprint(
            tuple(lines),
            all_days,
            {k: tuple(v.get(d, Decimal(0)) for d in all_days) for k, v in daily.items()},
        )


@dataclass(frozen=True, slots=True)
class _Units:
    """charge id → units of a period, all buckets (current usage's reading of aggregates)."""

    uow: UnitOfWork
    organization_id: UUID
    subscription: Subscription
    plan: Plan
    domain: DomainSubscription
    charges: list[Charge]

    def __call__(self, period: Period) -> dict[str, Decimal]:
        s = self.subscription
        read = usage_for_period(
            self.uow, self.organization_id, s.id, s.external_id, self.domain, self.plan, period,
            charges=self.charges,
        )  # fmt: skip
        return {cid: sum((f.units for f in b.values()), Decimal(0)) for cid, b in read.items()}


def _factors(
    uow: UnitOfWork, organization_id: UUID, charges: tuple[Charge, ...]
) -> dict[str, tuple[str, str, Decimal]]:
    """metric code → (name, unit, factor) for the metrics that declare a footprint."""
    records = uow.billable_metrics.live_by_codes(organization_id, {c.metric.code for c in charges})
    return {
        code: (m.name, m.footprint_unit or "", m.footprint_per_unit)
        for code, m in records.items()
        if m.footprint_per_unit is not None
    }


def _adds_up(charge: Charge) -> bool:
    kind = charge.metric.aggregation_type
    return kind is AggregationType.COUNT or (
        kind is AggregationType.SUM and not charge.metric.recurring
    )


def _per_day(
    uow: Any,
    subscription: Subscription,
    charge: Charge,
    period: Period,
    days: tuple[date, ...],
    tz: tzinfo,
) -> list[Decimal]:
    """Units per local day of `period` (hour states merged per day, all buckets)."""
    aggregator = aggregator_for(charge.metric)
    states: list[UsageAggregate] = uow.usage_aggregates.for_subscription(
        subscription.organization_id,
        subscription.id,
        period.end,
        since=period.start,
        charge_ids=[UUID(charge.id)],
    )
    index = {day: n for n, day in enumerate(days)}
    merged: dict[int, Any] = {}
    for aggregate in states:
        n = index.get(local_date(aggregate.key.hour_start, tz))
        if n is None:
            continue
        state = aggregator.load_state(aggregate.state)
        merged[n] = state if n not in merged else aggregator.merge(merged[n], state)
    result = [Decimal(0)] * len(days)
    for n, state in merged.items():
        start = local_midnight(days[n], tz)
        end = local_midnight(days[n] + timedelta(1), tz)
        result[n] = aggregator.result(state, start, end, None).units
    return result
