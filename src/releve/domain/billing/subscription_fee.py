"""The plan's subscription fee for one billed period: prorated by days, free during the trial.

Amount: ``plan.amount_cents × paid days / days of the full period``, exact (`Fraction`) and
rounded once to minor units (half-up by default). Days are local calendar days in the
customer's time zone (`proration.proration_factor`). The trial is taken out first
(`proration.paid_factor`): the fee is 0 while the trial covers the period and prorated from the
trial end otherwise (Lago `Fees::SubscriptionService`).

Timing does not change the amount: an in-advance fee is billed at the start of its period, an
arrears fee at its end; both bill the days of `period` (lago-api.md §4.1).

Example (Lago docs): 50 EUR a month from Aug 10 → 22/31 × 50 = 35.48 EUR.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime, tzinfo
from decimal import Decimal
from fractions import Fraction

from releve.domain.charge_models.breakdown import total_text
from releve.domain.money import Rounding, minor_to_major, to_minor_units
from releve.domain.periods import Interval, Period, local_date
from releve.domain.plans import Plan
from releve.domain.proration import prorate, proration_factor, split_trial


class FeeTiming(enum.Enum):
    IN_ADVANCE = "in_advance"  # billed at the start of its period, for that period
    IN_ARREARS = "in_arrears"  # billed at the end of its period


@dataclass(frozen=True, slots=True)
class SubscriptionFee:
    """The fee of `period` (the billed days) within `full_period` (the denominator).

    `paid_days` exclude the trial; `factor` = paid_days / full_days exactly.
    """

    plan_id: str
    timing: FeeTiming
    period: Period
    full_period: Period
    paid_days: int
    full_days: int
    factor: Fraction
    precise_amount: Decimal  # major units, unrounded
    amount_cents: int
    explanation: str


def _period_label(full: Period, interval: Interval, tz: tzinfo) -> str:
    start = local_date(full.start, tz)
    if interval is Interval.MONTHLY:
        return start.strftime("%b %Y")
    if interval is Interval.YEARLY and (start.month, start.day) == (1, 1):
        return str(start.year)
    last = local_date(full.end, tz)
    return f"{start.isoformat()} – {last.isoformat()} (excl.)"


def subscription_fee(
    plan: Plan,
    period: Period,
    full_period: Period,
    tz: tzinfo,
    *,
    trial_ends_at: datetime | None = None,
    timing: FeeTiming | None = None,
    rounding: Rounding = Rounding.HALF_UP,
) -> SubscriptionFee:
    """The subscription fee of `plan` for the days of `period` (rules in the module docstring).

    `timing` defaults to the plan's (`pay_in_advance`). `trial_ends_at` None means no trial.
    """
    timing = timing or (FeeTiming.IN_ADVANCE if plan.pay_in_advance else FeeTiming.IN_ARREARS)
    _, paid = split_trial(period, trial_ends_at or period.start)
    full_days = full_period.days(tz)
    factor = Fraction(0) if paid is None else proration_factor(paid, full_period, tz)
    paid_days = int(factor * full_days)
    precise = prorate(minor_to_major(plan.amount_cents, plan.currency), factor)
    cents = to_minor_units(precise, plan.currency, rounding)
    currency = plan.currency
    name = f"Plan {plan.invoice_display_name or plan.name}"
    label = _period_label(full_period, plan.interval, tz)
    full_text = total_text(plan.amount_cents, currency)
    if factor == 1:
        explanation = f"{name}, {label}: {full_text}"
    else:
        explanation = (
            f"{name}, {paid_days}/{full_days} days of {label}: "
            f"{full_text} × {paid_days}/{full_days} = {total_text(cents, currency)}"
        )
    if trial_ends_at is not None and trial_ends_at > period.start:
        trial_day = local_date(min(trial_ends_at, period.end), tz).isoformat()
        explanation += f" (free trial until {trial_day})"
    return SubscriptionFee(
        plan_id=plan.id,
        timing=timing,
        period=period,
        full_period=full_period,
        paid_days=paid_days,
        full_days=full_days,
        factor=factor,
        precise_amount=precise,
        amount_cents=cents,
        explanation=explanation,
    )
