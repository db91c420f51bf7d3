"""The one projection rule, shared by `GET /customers/{id}/projected_usage` and the portal.

- Pace: the elapsed share of the charge period, ``(min(now, end) − start) ÷ (end − start)``,
  exact (microseconds as a Fraction). None before the period starts: no pace to extrapolate.
- Which charges grow: metrics whose units pile up over the period (count, sum, weighted sum,
  increase; not recurring) are extrapolated linearly, ``units ÷ elapsed share`` (Lago's
  ``units / period_ratio``). Levels (seats/unique count, max, latest, recurring metrics) are
  already the period's value and are kept as they are.
- Amounts: the API re-prices each bucket through the domain pricing (`price_charge`) on its
  projected units, events count and dynamic amount (scaled the same way) — so graduated,
  package, volume and minimums price the projected level, not the cents so far scaled up.
  Per-event values (percentage with free events / per-transaction min-max) are not invented:
  those buckets keep the events seen so far and only their units are projected.
- The portal's single "projected total" keeps scaling the cost so far of the growing charges
  (`projected_total_cents`), with taxes scaled in proportion; same pace and same growing set.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from decimal import Decimal
from fractions import Fraction

from releve.domain.billing.charge_fees import ChargeFee, ChargeFeeKind, price_charge
from releve.domain.metering import AggregationType, BillableMetric
from releve.domain.money import round_fraction
from releve.domain.periods import Period
from releve.domain.usage import UsageFacts
from releve.services.usage import ChargeUsage, CustomerUsage

ACCUMULATING = frozenset(
    {
        AggregationType.COUNT,
        AggregationType.SUM,
        AggregationType.WEIGHTED_SUM,
        AggregationType.INCREASE,
    }
)


def grows_with_time(metric: BillableMetric) -> bool:
    """Whether a metric's units pile up during the period (calls, GB sent, kWh), rather than
    describe a level already reached (seats, peak, latest reading, recurring storage)."""
    return not metric.recurring and metric.aggregation_type in ACCUMULATING


def elapsed_share(period: Period, now: datetime) -> Fraction | None:
    """Elapsed share of `period` at `now` (1 once over); None if nothing has elapsed."""
    length = period.end - period.start
    elapsed = min(now, period.end) - period.start
    if elapsed <= timedelta(0) or length <= timedelta(0):
        return None
    micro = timedelta(microseconds=1)
    return Fraction(elapsed // micro, length // micro)


def projected_cents(so_far_cents: int, period: Period, now: datetime) -> int | None:
    """Cost at period end if usage goes on at the same pace: so far ÷ elapsed fraction.

    None before the period starts (nothing elapsed: no pace to extrapolate); the amount so far
    once the period is over. Exact arithmetic (microseconds as a Fraction), rounded once.

    >>> from datetime import UTC
    >>> p = Period(datetime(2024, 3, 1, tzinfo=UTC), datetime(2024, 4, 1, tzinfo=UTC))
    >>> projected_cents(1000, p, datetime(2024, 3, 16, 12, tzinfo=UTC))  # half of 31 days
    2000
    """
    share = elapsed_share(period, now)
    if share is None:
        return None
    return round_fraction(Fraction(so_far_cents) / share)


def projected_total_cents(usage: CustomerUsage, now: datetime) -> int | None:
    """The period's total with taxes if usage goes on at the same pace (the portal's figure).

    Charges whose units pile up (`grows_with_time`) are extrapolated linearly
    (`projected_cents`); the others already price a level for the whole period and are counted
    as they are. Taxes scale with the amount before taxes (same rates), rounded once.
    """
    growing = sum(c.amount_cents for c in usage.charges if grows_with_time(c.charge.metric))
    projected = projected_cents(growing, usage.period, now)
    if projected is None:
        return None
    before_taxes = usage.amount_cents - growing + projected
    if usage.amount_cents == 0:
        return before_taxes if usage.taxes_amount_cents == 0 else None
    taxes = round_fraction(Fraction(usage.taxes_amount_cents * before_taxes, usage.amount_cents))
    return before_taxes + taxes


def _scale(value: Decimal, share: Fraction) -> Decimal:
    """`value ÷ share` as a Decimal (exact for terminating results, else 28 digits)."""
    return value * share.denominator / share.numerator


def project_facts(facts: UsageFacts, share: Fraction) -> UsageFacts:
    """One bucket's usage at period end at the same pace (units, events, dynamic amount)."""
    return replace(
        facts,
        units=_scale(facts.units, share).normalize() if facts.units else facts.units,
        events_count=round_fraction(facts.events_count / share),
        total_amount_cents=_scale(facts.total_amount_cents, share),
    )


@dataclass(frozen=True, slots=True)
class ProjectedCharge:
    """One charge so far (`usage`) and re-priced on its projected buckets (`fees`)."""

    usage: ChargeUsage
    fees: tuple[ChargeFee, ...]

    @property
    def units(self) -> Decimal:
        return sum((f.units for f in self.fees), Decimal(0))

    @property
    def amount_cents(self) -> int:
        return sum(f.amount_cents for f in self.fees)


@dataclass(frozen=True, slots=True)
class ProjectedUsage:
    usage: CustomerUsage
    charges: tuple[ProjectedCharge, ...]

    @property
    def amount_cents(self) -> int:
        return sum(c.amount_cents for c in self.charges)


def project_usage(usage: CustomerUsage, now: datetime) -> ProjectedUsage:
    """Every charge re-priced on its projected usage (module docstring). Before the period
    starts there is no pace: the projection is the usage so far."""
    share = elapsed_share(usage.period, now)
    charges = []
    for charge in usage.charges:
        facts = usage.facts.get(charge.charge.id, {})
        if share is None or not grows_with_time(charge.charge.metric) or not facts:
            charges.append(ProjectedCharge(charge, charge.fees))
            continue
        projected = {key: project_facts(f, share) for key, f in facts.items()}
        fees = price_charge(charge.charge, projected, usage.currency)
        charges.append(
            ProjectedCharge(charge, tuple(f for f in fees if f.kind is ChargeFeeKind.USAGE))
        )
    return ProjectedUsage(usage, tuple(charges))
