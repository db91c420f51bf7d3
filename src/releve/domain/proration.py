"""Proration by days in the customer's time zone: factors, terminations, upgrades, trials.

The factor is a `Fraction`, not a Decimal: 22/31 has no finite decimal expansion, and rounding
it before it multiplies a price would round twice. `prorate` turns ``price × factor`` into the
precise Decimal amount, which `releve.domain.money.to_minor_units` rounds once.

Day rules (lago-api.md §4.1):

- Used days / days of the *whole* period (Lago PR #6194): $50/month from Aug 10 → 22/31.
- A termination counts its own day as used (terminated Jan 15 10:00 → Jan 1–15 = 15 days).
- A plan change (upgrade) gives the change day to the new plan: the old plan uses the days
  before it (Plan A from Jan 1, upgrade on Jan 15 → A 14/31, B 17/31), so nothing is billed
  twice.
- A trial of N days ends at local midnight N days after the start date; the subscription fee
  is prorated from the trial end, and a period wholly inside the trial has factor 0.
"""

from __future__ import annotations

from datetime import datetime, timedelta, tzinfo
from decimal import Decimal, localcontext
from fractions import Fraction

from releve.domain.errors import DomainError
from releve.domain.periods import Period, local_date, local_midnight

# Significant digits kept by `prorate`. With a factor n/d, an exact result that is not a rounding
# tie lies at least 1/(2·d·10^k) of a minor unit from one (k: the amount's decimals beyond the
# minor unit). For day counts (d ≤ 366) and any real price that gap dwarfs a 60-digit rounding
# error, so the later single rounding to minor units equals the exact Fraction's rounding.
_PRORATE_PRECISION = 60


def proration_factor(used: Period, full: Period, tz: tzinfo) -> Fraction:
    """Days of `used` inside `full` ÷ days of `full`, both counted in `tz` (exact, in [0, 1]).

    `used` is clipped to `full` first. Days are local calendar days touched (`Period.days`),
    so parts of a full period cut at local midnights have factors that sum to exactly 1.
    """
    total = full.days(tz)
    if total == 0:
        raise ValueError("cannot prorate over an empty period")
    overlap = used.intersection(full)
    return Fraction(overlap.days(tz) if overlap else 0, total)


def prorate(amount: Decimal, factor: Fraction) -> Decimal:
    """``amount × factor`` as a precise Decimal (same unit as `amount`), not yet rounded.

    >>> prorate(Decimal("50"), Fraction(22, 31)).quantize(Decimal("0.01"))
    Decimal('35.48')
    """
    if not isinstance(amount, Decimal):
        raise TypeError(f"amount must be a Decimal, got {type(amount).__name__}")
    with localcontext() as ctx:
        ctx.prec = _PRORATE_PRECISION
        return amount * factor.numerator / factor.denominator


def _end_of_local_day(instant: datetime, tz: tzinfo) -> datetime:
    return local_midnight(local_date(instant, tz) + timedelta(days=1), tz)


def used_until_termination(period: Period, terminated_at: datetime, tz: tzinfo) -> Period:
    """The part of `period` used by a subscription terminated at `terminated_at`.

    The termination day counts as used (Lago): the result ends at the next local midnight after
    `terminated_at`, never after `period.end`. `terminated_at` must lie in `period`.
    """
    if not period.contains(terminated_at):
        raise ValueError(f"termination {terminated_at} is outside {period}")
    return Period(period.start, min(period.end, _end_of_local_day(terminated_at, tz)))


def split_at_day(period: Period, changed_at: datetime, tz: tzinfo) -> tuple[Period, Period]:
    """Cut `period` at the local midnight that starts `changed_at`'s day (plan changes).

    The first part (old plan) ends before the change day, the second (new plan) starts with it;
    either part may be empty. `changed_at` must lie in `period`.
    """
    if not period.contains(changed_at):
        raise ValueError(f"change {changed_at} is outside {period}")
    cut = max(period.start, local_midnight(local_date(changed_at, tz), tz))
    return Period(period.start, cut), Period(cut, period.end)


def trial_end(started_at: datetime, trial_days: int, tz: tzinfo) -> datetime:
    """When a trial of `trial_days` whole days ends: local midnight of start date + N (UTC).

    Day granularity matches the periods (which start at local midnight of the start date), so a
    7-day trial from Jan 3 10:00 covers Jan 3–9 and the fee is due from Jan 10. Zero days means
    no trial (the end is the first period's start).
    """
    if isinstance(trial_days, bool) or not isinstance(trial_days, int):
        raise TypeError(f"trial_days must be an int, got {type(trial_days).__name__}")
    if trial_days < 0:
        raise DomainError(
            "trial_period must not be negative", field="trial_period", code="value_is_out_of_range"
        )
    return local_midnight(local_date(started_at, tz) + timedelta(days=trial_days), tz)


def split_trial(period: Period, trial_ends_at: datetime) -> tuple[Period | None, Period | None]:
    """The trial part and the paid part of `period` (None where a part is empty)."""
    cut = min(max(trial_ends_at, period.start), period.end)
    trial = Period(period.start, cut)
    paid = Period(cut, period.end)
    return (None if trial.is_empty else trial), (None if paid.is_empty else paid)


def paid_factor(period: Period, full: Period, trial_ends_at: datetime, tz: tzinfo) -> Fraction:
    """Proration factor of the subscription fee for `period` once the trial is taken out.

    0 when the trial covers `period`; `proration_factor(period, full)` when it ended before.
    """
    _, paid = split_trial(period, trial_ends_at)
    return Fraction(0) if paid is None else proration_factor(paid, full, tz)
