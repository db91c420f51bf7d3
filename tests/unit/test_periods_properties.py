"""Invariants of billing periods and proration, for any start, zone, interval and billing time.

Each property checks a rule that a plausible bug breaks: chaining months from the previous end
(Jan 31 → Feb 29 → Mar 29) breaks the anniversary-day check; a period computed on the wall
clock across DST breaks the tiling; a denominator taken from the partial period breaks the
partition sum.
"""

from __future__ import annotations

import calendar
import itertools
from datetime import UTC, datetime, timedelta
from fractions import Fraction
from zoneinfo import ZoneInfo

from hypothesis import example, given, settings
from hypothesis import strategies as st

from releve.domain.billing_schedule import BillingSchedule
from releve.domain.periods import (
    BillingTime,
    Interval,
    Period,
    local_date,
    local_midnight,
)
from releve.domain.proration import proration_factor, split_at_day, used_until_termination

TRICKY_ZONES = [
    "UTC",
    "Pacific/Kiritimati",  # UTC+14
    "Pacific/Pago_Pago",  # UTC−11
    "Australia/Lord_Howe",  # 30-minute DST
    "Pacific/Chatham",  # +12:45 / +13:45
    "Asia/Kathmandu",  # +05:45
    "America/New_York",
    "Europe/Paris",
    "America/Sao_Paulo",  # DST gap at midnight until 2019
    "Asia/Tehran",  # +03:30, DST gap at midnight until 2022
    "America/Havana",  # fall-back repeats midnight
    "Australia/Adelaide",  # +09:30 / +10:30, southern-hemisphere DST
]

zones = st.sampled_from(TRICKY_ZONES).map(ZoneInfo)
instants = st.datetimes(
    min_value=datetime(2000, 1, 1), max_value=datetime(2090, 12, 31), timezones=st.just(UTC)
)
intervals = st.sampled_from(list(Interval))
billing_times = st.sampled_from(list(BillingTime))
schedules = st.builds(BillingSchedule, instants, intervals, billing_times, zones)

TEN_YEARS = timedelta(days=3653)
DAYS = {
    Interval.WEEKLY: (7, 7),
    Interval.MONTHLY: (28, 31),
    Interval.QUARTERLY: (89, 92),
    Interval.SEMIANNUAL: (181, 184),
    Interval.YEARLY: (365, 366),
}
CALENDAR_MONTHS = {
    Interval.MONTHLY: set(range(1, 13)),
    Interval.QUARTERLY: {1, 4, 7, 10},
    Interval.SEMIANNUAL: {1, 7},
    Interval.YEARLY: {1},
}


def _ten_years(schedule: BillingSchedule) -> list[Period]:
    return list(schedule.periods(until=schedule.started_at + TEN_YEARS))


@settings(max_examples=60, deadline=None)
@given(schedules)
# Anchors on days whose midnight fell in a DST gap: their periods start at 01:00 local.
@example(
    BillingSchedule(
        datetime(2020, 3, 20, 21, tzinfo=UTC),
        Interval.WEEKLY,
        BillingTime.ANNIVERSARY,
        ZoneInfo("Asia/Tehran"),
    )
)
@example(
    BillingSchedule(
        datetime(2018, 11, 4, 12, tzinfo=UTC),
        Interval.MONTHLY,
        BillingTime.ANNIVERSARY,
        ZoneInfo("America/Sao_Paulo"),
    )
)
def test_periods_tile_time_from_local_midnights(schedule: BillingSchedule) -> None:
    tz = schedule.tz
    periods = _ten_years(schedule)
    # The first period starts at local midnight of the start day, at or before the start.
    assert periods[0].start == local_midnight(local_date(schedule.started_at, tz), tz)
    assert periods[0].start <= schedule.started_at < periods[0].end
    until = schedule.started_at + TEN_YEARS
    assert periods[-1].start < until <= periods[-1].end  # the last one starts before `until`
    for before, after in itertools.pairwise(periods):
        assert before.end == after.start  # no gap, no overlap
    low, high = DAYS[schedule.interval]
    anchor = schedule.anchor
    for k, period in enumerate(periods):
        assert period.start < period.end
        day = local_date(period.start, tz)
        assert period.start == local_midnight(day, tz)  # every start is a local midnight
        if k == 0 and schedule.billing_time is BillingTime.CALENDAR:
            assert 1 <= period.days(tz) <= high  # the partial one
            continue
        assert low <= period.days(tz) <= high
        if schedule.billing_time is BillingTime.ANNIVERSARY:
            if schedule.interval is Interval.WEEKLY:
                assert day.weekday() == anchor.weekday()
            else:
                # Re-derived from the anchor: the anchor's day, clamped to the month's length.
                months = (day.year - anchor.year) * 12 + day.month - anchor.month
                assert months % (schedule.interval.months or 1) == 0
                assert day.day == min(anchor.day, calendar.monthrange(day.year, day.month)[1])
        elif schedule.interval is Interval.WEEKLY:
            assert day.weekday() == 0
        else:
            assert day.day == 1 and day.month in CALENDAR_MONTHS[schedule.interval]


@settings(max_examples=150, deadline=None)
@given(schedules, st.integers(min_value=-(10**6), max_value=3652 * 86400))
def test_each_instant_belongs_to_exactly_one_period(
    schedule: BillingSchedule, offset_seconds: int
) -> None:
    instant = schedule.started_at + timedelta(seconds=offset_seconds)
    found = schedule.period_containing(instant)
    if instant < schedule.start:
        assert found is None
        return
    assert found is not None and found.contains(instant)
    # The periods iterated from the start agree: exactly one of them holds the instant.
    periods = list(schedule.periods(until=instant + timedelta(microseconds=1)))
    holders = [p for p in periods if p.contains(instant)]
    assert holders == [found]
    assert schedule.next_period(found).start == found.end


@settings(max_examples=100, deadline=None)
@given(schedules, st.integers(min_value=0, max_value=30), st.data())
def test_factors_of_a_partition_sum_to_one(
    schedule: BillingSchedule, skip: int, data: st.DataObject
) -> None:
    tz = schedule.tz
    period = schedule.first_period()
    for _ in range(skip):
        period = schedule.next_period(period)
    full = schedule.full_period(period)
    assert full.start <= period.start and period.end == full.end
    # Cut the full period at random local midnights (plan changes) and prorate each part.
    days = full.days(tz)
    cuts = data.draw(st.lists(st.integers(min_value=1, max_value=days - 1), max_size=4))
    first_day = local_date(full.start, tz)
    bounds = [full.start, *(local_midnight(first_day + timedelta(c), tz) for c in sorted(cuts))]
    bounds.append(full.end)
    parts = [Period(a, b) for a, b in itertools.pairwise(bounds)]
    factors = [proration_factor(part, full, tz) for part in parts]
    assert all(0 <= f <= 1 for f in factors)
    assert sum(factors, Fraction(0)) == 1
    # The schedule period itself is prorated on the whole period's days, never on its own.
    assert proration_factor(period, full, tz) == Fraction(period.days(tz), days)


@settings(max_examples=100, deadline=None)
@given(schedules, st.integers(min_value=0, max_value=999_999), st.data())
def test_termination_and_upgrade_factors_stay_in_bounds(
    schedule: BillingSchedule, millionths: int, data: st.DataObject
) -> None:
    tz = schedule.tz
    period = schedule.first_period()
    full = schedule.full_period(period)
    at = period.start + period.duration * millionths // 1_000_000  # an instant inside it
    used = used_until_termination(period, at, tz)
    # The termination day counts: used days = local days from the start up to `at` inclusive.
    assert used.days(tz) == (local_date(at, tz) - local_date(period.start, tz)).days + 1
    assert 0 < proration_factor(used, full, tz) <= 1
    old, new = split_at_day(period, at, tz)
    assert old.end == new.start and old.start == period.start and new.end == period.end
    assert proration_factor(old, full, tz) + proration_factor(new, full, tz) == (
        proration_factor(period, full, tz)
    )
    # Any used period, even one sticking out of the full period, gives a factor in [0, 1].
    a, b = sorted(data.draw(st.lists(instants, min_size=2, max_size=2)))
    assert 0 <= proration_factor(Period(a, b), full, tz) <= 1
