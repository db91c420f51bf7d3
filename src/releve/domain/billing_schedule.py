"""The billing periods of one subscription: first (partial) period, next periods, charge periods.

Choices (lago-api.md §4.1, design.md §4):

- **Day granularity.** A subscription's periods start at the local midnight of the day it
  started (its *anchor date*, in the customer's time zone), whatever the hour of
  ``started_at``: billing is by days, and the start day counts as a whole used day — the mirror
  of Lago counting the termination day as used. So every period of every subscription starts at
  local midnight and the periods tile time from that midnight with no gap or overlap.
- **Calendar:** the first period runs from the anchor date to the next calendar boundary (the
  partial, prorated one); its `full_period` is the whole calendar period, whose days are the
  proration denominator (Lago PR #6194). A subscription that starts on a boundary has no
  partial period.
- **Anniversary:** period k starts on ``anchor + k × interval`` re-derived from the anchor
  (Jan 31 → Feb 28/29 → Mar 31); weekly anniversaries keep the weekday.
- **Past and future starts.** Periods are computed from the real start in both cases. There is
  no period before the start (`period_containing` returns None); choosing which past periods to
  invoice (Lago: none of the completed ones) is the billing service's decision.
- **bill_charges_monthly** (yearly and semiannual plans only, as in Lago): usage is invoiced on
  monthly periods inside the subscription-fee period — calendar months for calendar billing,
  monthly anniversaries of the anchor for anniversary billing.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, tzinfo

from releve.domain.errors import DomainError
from releve.domain.periods import (
    BillingTime,
    Interval,
    Period,
    PeriodGrid,
    local_date,
    local_midnight,
)


@dataclass(frozen=True, slots=True)
class BillingSchedule:
    """How a subscription's time is cut into billing periods.

    `started_at` is the subscription's start instant (aware); `tz` the customer's zone.
    """

    started_at: datetime
    interval: Interval
    billing_time: BillingTime
    tz: tzinfo

    def __post_init__(self) -> None:
        if self.started_at.tzinfo is None or self.started_at.utcoffset() is None:
            raise ValueError("BillingSchedule.started_at must be timezone-aware")

    @property
    def anchor(self) -> date:
        """The subscription's start date on the customer's wall clock."""
        return local_date(self.started_at, self.tz)

    @property
    def start(self) -> datetime:
        """Start of the first period (UTC): local midnight of the anchor date."""
        return local_midnight(self.anchor, self.tz)

    def _grid(self, interval: Interval) -> PeriodGrid:
        anchor = self.anchor if self.billing_time is BillingTime.ANNIVERSARY else None
        return PeriodGrid(interval, self.tz, anchor)

    def _clip(self, period: Period) -> Period:
        # Only the first calendar period can begin before the subscription.
        return Period(max(period.start, self.start), period.end)

    def full_period(self, period: Period) -> Period:
        """The whole grid period `period` belongs to: the proration denominator.

        For the first calendar period (Aug 10 → Sep 1) it is the whole month (Aug 1 → Sep 1);
        for every other schedule period it is the period itself.
        """
        return self._grid(self.interval).period_containing(period.start)

    def period_containing(self, instant: datetime) -> Period | None:
        """The subscription period containing `instant`, or None before the subscription."""
        if instant < self.start:
            return None
        return self._clip(self._grid(self.interval).period_containing(instant))

    def first_period(self) -> Period:
        period = self.period_containing(self.start)
        assert period is not None  # the start is in the first period by definition
        return period

    def next_period(self, period: Period) -> Period:
        """The period that starts when `period` (a period of this schedule) ends."""
        following = self.period_containing(period.end)
        assert following is not None  # period.end is after the start
        return following

    def periods(self, until: datetime) -> Iterator[Period]:
        """Successive periods from the first one, for as long as they start before `until`.

        A future subscription (start ≥ `until`) yields nothing.
        """
        grid = self._grid(self.interval)
        k = grid.index_of(self.start)
        start = self.start
        while start < until:
            end = grid.boundary(k + 1)
            yield Period(start, end)
            start, k = end, k + 1

    def charge_periods(self, fee_period: Period) -> list[Period]:
        """Monthly usage periods inside a yearly/semiannual fee period (bill_charges_monthly).

        Calendar billing cuts at the 1st of each month, anniversary billing at the monthly
        anniversaries of the anchor; the first and last are clipped to `fee_period` (the
        partial first calendar period, a termination).
        """
        if self.interval not in (Interval.YEARLY, Interval.SEMIANNUAL):
            raise DomainError(
                "bill_charges_monthly applies to yearly and semiannual plans only",
                field="bill_charges_monthly",
                code="value_is_invalid",
            )
        grid = self._grid(Interval.MONTHLY)
        k = grid.index_of(fee_period.start)
        parts: list[Period] = []
        start = fee_period.start
        while start < fee_period.end:
            end = min(grid.boundary(k + 1), fee_period.end)
            parts.append(Period(start, end))
            start, k = end, k + 1
        return parts


def billing_periods(
    subscription_start: datetime,
    interval: Interval,
    billing_time: BillingTime,
    tz: tzinfo,
    until: datetime,
) -> Iterator[Period]:
    """Shortcut for ``BillingSchedule(...).periods(until)``."""
    return BillingSchedule(subscription_start, interval, billing_time, tz).periods(until)
