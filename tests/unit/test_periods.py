"""Billing periods, schedules, proration and trials: hand-computed tables at every edge."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from fractions import Fraction
from zoneinfo import ZoneInfo

import pytest

from releve.domain.billing_schedule import BillingSchedule, billing_periods
from releve.domain.errors import DomainError
from releve.domain.money import Currency, Rounding, to_minor_units
from releve.domain.periods import (
    BillingTime,
    Interval,
    InvalidTimezone,
    Period,
    PeriodGrid,
    add_months,
    anniversary_period_containing,
    calendar_period_containing,
    local_date,
    local_midnight,
    parse_timezone,
    yearly_multiplier,
)
from releve.domain.proration import (
    paid_factor,
    prorate,
    proration_factor,
    split_at_day,
    split_trial,
    trial_end,
    used_until_termination,
)

UTC_ZONE = ZoneInfo("UTC")
NEW_YORK = ZoneInfo("America/New_York")
PARIS = ZoneInfo("Europe/Paris")
KIRITIMATI = ZoneInfo("Pacific/Kiritimati")  # UTC+14, no DST
PAGO_PAGO = ZoneInfo("Pacific/Pago_Pago")  # UTC−11, no DST
USD = Currency("USD", 2)
EUR = Currency("EUR", 2)

M, C, A = Interval.MONTHLY, BillingTime.CALENDAR, BillingTime.ANNIVERSARY


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)  # type: ignore[misc]


def local(tz: ZoneInfo, *args: int) -> datetime:
    return datetime(*args, tzinfo=tz)  # type: ignore[misc]


def d(text: str) -> date:
    return date.fromisoformat(text)


def starts(periods: list[Period], tz: ZoneInfo) -> list[str]:
    """Each period's local start date (and asserts it is local midnight)."""
    out = []
    for p in periods:
        assert p.start == local_midnight(local_date(p.start, tz), tz)
        out.append(local_date(p.start, tz).isoformat())
    return out


# --- enums, multipliers, time zones -------------------------------------------------------


def test_enum_values_are_lagos_strings() -> None:
    assert [i.value for i in Interval] == ["weekly", "monthly", "quarterly", "semiannual", "yearly"]
    assert [b.value for b in BillingTime] == ["calendar", "anniversary"]
    assert Interval.parse("semiannual") is Interval.SEMIANNUAL
    assert BillingTime.parse("anniversary") is BillingTime.ANNIVERSARY


@pytest.mark.parametrize(
    ("parse", "value", "field"),
    [(Interval.parse, "daily", "interval"), (BillingTime.parse, "Calendar", "billing_time")],
)
def test_unknown_enum_values_are_domain_errors(parse: object, value: str, field: str) -> None:
    with pytest.raises(DomainError) as err:
        parse(value)  # type: ignore[operator]
    assert (err.value.code, err.value.field) == ("value_is_invalid", field)


@pytest.mark.parametrize(
    ("interval", "multiplier"),
    [
        (Interval.WEEKLY, 52),
        (Interval.MONTHLY, 12),
        (Interval.QUARTERLY, 4),
        (Interval.SEMIANNUAL, 2),
        (Interval.YEARLY, 1),
    ],
)
def test_yearly_multiplier(interval: Interval, multiplier: int) -> None:
    assert yearly_multiplier(interval) == multiplier


def test_yearly_multiplier_compares_plans_like_lago() -> None:
    # $10/week × 52 = $520/year > $40/month × 12 = $480/year: weekly → monthly is a downgrade.
    assert 10 * yearly_multiplier(Interval.WEEKLY) > 40 * yearly_multiplier(Interval.MONTHLY)


@pytest.mark.parametrize("name", ["Mars/Olympus", "", "../etc/passwd", "Europe/"])
def test_parse_timezone_rejects_non_iana_names(name: str) -> None:
    with pytest.raises(InvalidTimezone) as err:
        parse_timezone(name)
    assert (err.value.code, err.value.field) == ("invalid_timezone", "timezone")


def test_parse_timezone_accepts_iana_names() -> None:
    assert parse_timezone("Pacific/Chatham") == ZoneInfo("Pacific/Chatham")


# --- local midnight and month arithmetic --------------------------------------------------


@pytest.mark.parametrize(
    ("zone", "day", "expected_utc"),
    [
        ("UTC", "2024-02-29", utc(2024, 2, 29)),
        ("Europe/Paris", "2024-03-31", utc(2024, 3, 30, 23)),  # CET +1; DST starts at 02:00
        ("America/New_York", "2024-03-10", utc(2024, 3, 10, 5)),  # EST −5 until 02:00
        ("America/New_York", "2024-03-11", utc(2024, 3, 11, 4)),  # EDT −4
        ("Pacific/Kiritimati", "2024-02-01", utc(2024, 1, 31, 10)),  # +14
        ("Pacific/Pago_Pago", "2024-02-01", utc(2024, 2, 1, 11)),  # −11
        ("Australia/Lord_Howe", "2024-10-06", utc(2024, 10, 5, 13, 30)),  # +10:30
        ("Pacific/Chatham", "2024-09-29", utc(2024, 9, 28, 11, 15)),  # +12:45
        # DST gap swallows midnight: the day starts at 01:00 on the new offset.
        ("Asia/Tehran", "2020-03-21", utc(2020, 3, 20, 20, 30)),  # 01:00 +04:30
        ("America/Sao_Paulo", "2018-11-04", utc(2018, 11, 4, 3)),  # 01:00 −02
        # Fall-back at midnight repeats 23:00–24:00 of the day before: 00:00 −03 is unique.
        ("America/Sao_Paulo", "2019-02-17", utc(2019, 2, 17, 3)),
        # Fall-back 01:00 CDT → 00:00 CST repeats midnight: the day starts at the first one.
        ("America/Havana", "2024-11-03", utc(2024, 11, 3, 4)),  # 00:00 −04
        # 1994-12-31 never happened in Kiritimati (−10 → +14): it starts with Jan 1.
        ("Pacific/Kiritimati", "1994-12-31", utc(1994, 12, 31, 10)),
        ("Pacific/Kiritimati", "1995-01-01", utc(1994, 12, 31, 10)),
    ],
)
def test_local_midnight(zone: str, day: str, expected_utc: datetime) -> None:
    assert local_midnight(d(day), ZoneInfo(zone)) == expected_utc


@pytest.mark.parametrize(
    ("anchor", "months", "expected"),
    [
        ("2023-01-31", 1, "2023-02-28"),
        ("2024-01-31", 1, "2024-02-29"),
        ("2024-01-31", 2, "2024-03-31"),  # from the anchor, not from Feb 29
        ("2024-01-31", 3, "2024-04-30"),
        ("2024-02-29", 12, "2025-02-28"),
        ("2024-02-29", 13, "2025-03-29"),
        ("2024-02-29", 48, "2028-02-29"),
        ("2024-03-31", -1, "2024-02-29"),
        ("2024-01-15", -13, "2022-12-15"),
        ("2000-01-31", 1, "2000-02-29"),  # 2000: divisible by 400, leap
        ("2100-01-31", 1, "2100-02-28"),  # 2100: divisible by 100 only, not leap
    ],
)
def test_add_months_clamps_and_rederives(anchor: str, months: int, expected: str) -> None:
    assert add_months(d(anchor), months) == d(expected)


# --- Period -------------------------------------------------------------------------------


def test_period_is_half_open_and_stored_in_utc() -> None:
    p = Period(local(PARIS, 2024, 3, 1), local(PARIS, 2024, 4, 1))
    assert p.start.tzinfo is UTC and p.start == utc(2024, 2, 29, 23)
    assert p.contains(p.start)
    assert not p.contains(p.end)
    assert p.contains(p.end - timedelta(microseconds=1))
    assert not p.contains(p.start - timedelta(microseconds=1))


def test_period_equality_is_by_instant_and_local_bounds_are_for_display() -> None:
    # 2024-11-03 01:30 happens twice in New York; fold picks the instant, UTC keeps them apart.
    first = Period(local(NEW_YORK, 2024, 11, 3, 1, 30), utc(2024, 11, 4))
    second = Period(datetime(2024, 11, 3, 1, 30, fold=1, tzinfo=NEW_YORK), utc(2024, 11, 4))
    assert first != second
    assert second.duration == first.duration - timedelta(hours=1)
    assert Period(utc(2024, 1, 1), utc(2024, 2, 1)) == Period(
        local(PARIS, 2024, 1, 1, 1), local(KIRITIMATI, 2024, 2, 1, 14)
    )
    start, end = JANUARY_PARIS.local_bounds(PARIS)
    assert (start.isoformat(), end.isoformat()) == (
        "2024-01-01T00:00:00+01:00",
        "2024-02-01T00:00:00+01:00",
    )


def test_interval_months() -> None:
    assert [i.months for i in Interval] == [None, 1, 3, 6, 12]


def test_period_rejects_naive_and_backwards_bounds() -> None:
    with pytest.raises(ValueError):
        Period(datetime(2024, 1, 1), utc(2024, 2, 1))
    with pytest.raises(ValueError):
        Period(utc(2024, 2, 1), utc(2024, 1, 1))
    with pytest.raises(ValueError):
        Period(utc(2024, 1, 1), utc(2024, 2, 1)).contains(datetime(2024, 1, 5))


@pytest.mark.parametrize(
    ("start", "end", "days"),
    [
        (utc(2024, 1, 1), utc(2024, 1, 1), 0),  # empty
        (utc(2024, 1, 1), utc(2024, 1, 1, 0, 0, 1), 1),  # one second touches one day
        (utc(2024, 1, 1), utc(2024, 1, 2), 1),
        (utc(2024, 1, 1), utc(2024, 1, 2, 0, 0, 1), 2),
        (utc(2024, 1, 1, 23), utc(2024, 1, 2, 1), 2),
        (utc(2024, 1, 1), utc(2024, 2, 1), 31),
        (utc(2024, 2, 1), utc(2024, 3, 1), 29),
    ],
)
def test_period_days_counts_local_days_touched(start: datetime, end: datetime, days: int) -> None:
    assert Period(start, end).days(UTC_ZONE) == days


def test_period_days_depends_on_the_customer_zone() -> None:
    # [Jan 1 00:00Z, Jan 2 00:00Z) is Jan 1 14:00 → Jan 2 14:00 in Kiritimati: 2 local days.
    p = Period(utc(2024, 1, 1), utc(2024, 1, 2))
    assert (p.days(UTC_ZONE), p.days(KIRITIMATI)) == (1, 2)


def test_period_intersection() -> None:
    jan = Period(utc(2024, 1, 1), utc(2024, 2, 1))
    assert jan.intersection(Period(utc(2024, 1, 20), utc(2024, 3, 1))) == Period(
        utc(2024, 1, 20), utc(2024, 2, 1)
    )
    assert jan.intersection(Period(utc(2024, 2, 1), utc(2024, 3, 1))) is None  # only touch


# --- calendar grid ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("interval", "instant", "start", "end", "days"),
    [
        # Weekly: Monday 00:00 to Monday. 2024-01-01 is a Monday.
        (Interval.WEEKLY, utc(2024, 1, 3, 12), utc(2024, 1, 1), utc(2024, 1, 8), 7),
        (Interval.WEEKLY, utc(2024, 1, 7, 23, 59), utc(2024, 1, 1), utc(2024, 1, 8), 7),
        (Interval.WEEKLY, utc(2024, 1, 8), utc(2024, 1, 8), utc(2024, 1, 15), 7),
        (Interval.WEEKLY, utc(2024, 12, 31), utc(2024, 12, 30), utc(2025, 1, 6), 7),
        # Monthly: 31, 29 (2024 leap), 28 (2100), 29 (2000).
        (M, utc(2024, 1, 31, 23, 59), utc(2024, 1, 1), utc(2024, 2, 1), 31),
        (M, utc(2024, 2, 15), utc(2024, 2, 1), utc(2024, 3, 1), 29),
        (M, utc(2023, 2, 15), utc(2023, 2, 1), utc(2023, 3, 1), 28),
        (M, utc(2100, 2, 15), utc(2100, 2, 1), utc(2100, 3, 1), 28),
        (M, utc(2000, 2, 15), utc(2000, 2, 1), utc(2000, 3, 1), 29),
        # Quarterly: Q1 2024 = 31+29+31 = 91; Q1 2023 = 90; Q2 = 30+31+30 = 91; Q4 = 31+30+31.
        (Interval.QUARTERLY, utc(2024, 3, 31, 23), utc(2024, 1, 1), utc(2024, 4, 1), 91),
        (Interval.QUARTERLY, utc(2023, 1, 1), utc(2023, 1, 1), utc(2023, 4, 1), 90),
        (Interval.QUARTERLY, utc(2024, 5, 15), utc(2024, 4, 1), utc(2024, 7, 1), 91),
        (Interval.QUARTERLY, utc(2024, 10, 1), utc(2024, 10, 1), utc(2025, 1, 1), 92),
        # Semiannual: H1 2024 = 31+29+31+30+31+30 = 182, H1 2023 = 181, H2 = 31+31+30+31+30+31.
        (Interval.SEMIANNUAL, utc(2024, 6, 30), utc(2024, 1, 1), utc(2024, 7, 1), 182),
        (Interval.SEMIANNUAL, utc(2023, 6, 30), utc(2023, 1, 1), utc(2023, 7, 1), 181),
        (Interval.SEMIANNUAL, utc(2024, 7, 1), utc(2024, 7, 1), utc(2025, 1, 1), 184),
        # Yearly: 2024 and 2000 leap (366), 2100 and 2023 not (365).
        (Interval.YEARLY, utc(2024, 7, 1), utc(2024, 1, 1), utc(2025, 1, 1), 366),
        (Interval.YEARLY, utc(2000, 12, 31), utc(2000, 1, 1), utc(2001, 1, 1), 366),
        (Interval.YEARLY, utc(2100, 2, 28), utc(2100, 1, 1), utc(2101, 1, 1), 365),
        (Interval.YEARLY, utc(2023, 1, 1), utc(2023, 1, 1), utc(2024, 1, 1), 365),
    ],
)
def test_calendar_period_containing(
    interval: Interval, instant: datetime, start: datetime, end: datetime, days: int
) -> None:
    period = calendar_period_containing(instant, interval, UTC_ZONE)
    assert period == Period(start, end)
    assert period.days(UTC_ZONE) == days


# --- DST ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("tz", "interval", "instant", "start", "end", "days", "hours_off"),
    [
        # New York springs forward on Sun 2024-03-10: March is 31 days but 31×24 − 1 hours.
        (NEW_YORK, M, utc(2024, 3, 15), utc(2024, 3, 1, 5), utc(2024, 4, 1, 4), 31, -1),
        # ...and falls back on Sun 2024-11-03: November is 30 days and 30×24 + 1 hours.
        (NEW_YORK, M, utc(2024, 11, 15), utc(2024, 11, 1, 4), utc(2024, 12, 1, 5), 30, +1),
        # Paris springs forward on Sun 2024-03-31 and falls back on Sun 2024-10-27.
        (PARIS, M, utc(2024, 3, 31, 12), utc(2024, 2, 29, 23), utc(2024, 3, 31, 22), 31, -1),
        (PARIS, M, utc(2024, 10, 27, 12), utc(2024, 9, 30, 22), utc(2024, 10, 31, 23), 31, +1),
        # The week of Mon 2024-03-25 contains the Paris spring-forward Sunday: 7 days, 167 h.
        (
            PARIS,
            Interval.WEEKLY,
            utc(2024, 3, 31, 12),
            utc(2024, 3, 24, 23),
            utc(2024, 3, 31, 22),
            7,
            -1,
        ),
        # A year contains both transitions: 366 days, exactly 366×24 hours.
        (
            PARIS,
            Interval.YEARLY,
            utc(2024, 6, 1),
            utc(2023, 12, 31, 23),
            utc(2024, 12, 31, 23),
            366,
            0,
        ),
    ],
)
def test_periods_across_dst_keep_local_midnights(
    tz: ZoneInfo,
    interval: Interval,
    instant: datetime,
    start: datetime,
    end: datetime,
    days: int,
    hours_off: int,
) -> None:
    period = calendar_period_containing(instant, interval, tz)
    assert period == Period(start, end)
    assert period.days(tz) == days
    assert period.duration == timedelta(days=days, hours=hours_off)
    assert [b.astimezone(tz).hour for b in (period.start, period.end)] == [0, 0]


def test_anniversary_period_across_spring_forward() -> None:
    # Anchor Feb 10 in New York; Mar 10 00:00 is still EST (the jump is at 02:00).
    grid = PeriodGrid(M, NEW_YORK, d("2024-02-10"))
    assert grid.period(0) == Period(utc(2024, 2, 10, 5), utc(2024, 3, 10, 5))
    second = grid.period(1)
    assert second == Period(utc(2024, 3, 10, 5), utc(2024, 4, 10, 4))
    assert second.days(NEW_YORK) == 31
    assert second.duration == timedelta(days=31, hours=-1)


# --- the same UTC instant in UTC+14 and UTC−11 ---------------------------------------------


def test_kiritimati_and_pago_pago_put_one_instant_in_different_months() -> None:
    instant = utc(2024, 1, 31, 12)  # Feb 1 02:00 in Kiritimati, Jan 31 01:00 in Pago Pago
    assert calendar_period_containing(instant, M, KIRITIMATI) == Period(
        utc(2024, 1, 31, 10), utc(2024, 2, 29, 10)
    )
    assert calendar_period_containing(instant, M, PAGO_PAGO) == Period(
        utc(2024, 1, 1, 11), utc(2024, 2, 1, 11)
    )


def test_kiritimati_and_pago_pago_put_one_instant_in_different_years() -> None:
    instant = utc(2024, 12, 31, 12)  # 2025-01-01 02:00 in Kiritimati, 2024-12-31 01:00 in Pago
    assert calendar_period_containing(instant, Interval.YEARLY, KIRITIMATI) == Period(
        utc(2024, 12, 31, 10), utc(2025, 12, 31, 10)
    )
    assert calendar_period_containing(instant, Interval.YEARLY, PAGO_PAGO) == Period(
        utc(2024, 1, 1, 11), utc(2025, 1, 1, 11)
    )


@pytest.mark.parametrize(
    ("instant", "kiritimati_month_start", "pago_pago_month_start"),
    [
        # Kiritimati's February starts at Jan 31 10:00Z; Pago Pago's at Feb 1 11:00Z.
        (utc(2024, 1, 31, 9, 59, 59, 999999), utc(2023, 12, 31, 10), utc(2024, 1, 1, 11)),
        (utc(2024, 1, 31, 10), utc(2024, 1, 31, 10), utc(2024, 1, 1, 11)),
        (utc(2024, 2, 1, 10, 59, 59, 999999), utc(2024, 1, 31, 10), utc(2024, 1, 1, 11)),
        (utc(2024, 2, 1, 11), utc(2024, 1, 31, 10), utc(2024, 2, 1, 11)),
    ],
)
def test_exact_utc_month_boundaries_in_extreme_zones(
    instant: datetime, kiritimati_month_start: datetime, pago_pago_month_start: datetime
) -> None:
    assert calendar_period_containing(instant, M, KIRITIMATI).start == kiritimati_month_start
    assert calendar_period_containing(instant, M, PAGO_PAGO).start == pago_pago_month_start


# --- anniversary tables -------------------------------------------------------------------


def test_jan_31_anniversaries_over_two_full_years() -> None:
    schedule = BillingSchedule(local(PARIS, 2023, 1, 31, 15), M, A, PARIS)
    periods = list(schedule.periods(until=local(PARIS, 2025, 1, 31)))
    # Re-derived from Jan 31: clamped to 28/29/30 where the month is shorter, back to 31 after.
    assert starts(periods, PARIS) == [
        "2023-01-31", "2023-02-28", "2023-03-31", "2023-04-30", "2023-05-31", "2023-06-30",
        "2023-07-31", "2023-08-31", "2023-09-30", "2023-10-31", "2023-11-30", "2023-12-31",
        "2024-01-31", "2024-02-29", "2024-03-31", "2024-04-30", "2024-05-31", "2024-06-30",
        "2024-07-31", "2024-08-31", "2024-09-30", "2024-10-31", "2024-11-30", "2024-12-31",
    ]  # fmt: skip
    assert periods[-1].end == local(PARIS, 2025, 1, 31)
    # Jan 31 → Feb 28 (2023) is 28 days; Feb 28 → Mar 31 is 31; Jan 31 → Feb 29 (2024) is 29.
    assert [p.days(PARIS) for p in periods[:3]] == [28, 31, 30]
    assert periods[12].days(PARIS) == 29


def test_feb_29_monthly_anniversaries() -> None:
    schedule = BillingSchedule(utc(2024, 2, 29, 8), M, A, UTC_ZONE)
    periods = list(schedule.periods(until=utc(2025, 4, 1)))
    assert starts(periods, UTC_ZONE) == [
        "2024-02-29", "2024-03-29", "2024-04-29", "2024-05-29", "2024-06-29", "2024-07-29",
        "2024-08-29", "2024-09-29", "2024-10-29", "2024-11-29", "2024-12-29", "2025-01-29",
        "2025-02-28", "2025-03-29",
    ]  # fmt: skip


def test_feb_29_yearly_anniversaries() -> None:
    schedule = BillingSchedule(utc(2024, 2, 29), Interval.YEARLY, A, UTC_ZONE)
    periods = list(schedule.periods(until=utc(2028, 3, 1)))
    assert starts(periods, UTC_ZONE) == [
        "2024-02-29",
        "2025-02-28",
        "2026-02-28",
        "2027-02-28",
        "2028-02-29",
    ]
    # 2024-02-29 → 2025-02-28: 365 days (the leap day is the first day).
    assert [p.days(UTC_ZONE) for p in periods[:4]] == [365, 365, 365, 366]


def test_feb_29_yearly_anniversaries_around_2100() -> None:
    schedule = BillingSchedule(utc(2096, 2, 29), Interval.YEARLY, A, UTC_ZONE)
    periods = list(schedule.periods(until=utc(2104, 3, 1)))
    # 2100 is not a leap year: the next Feb 29 after 2096 is 2104.
    assert starts(periods, UTC_ZONE) == [
        "2096-02-29", "2097-02-28", "2098-02-28", "2099-02-28", "2100-02-28",
        "2101-02-28", "2102-02-28", "2103-02-28", "2104-02-29",
    ]  # fmt: skip
    # [2099-02-28, 2100-02-28) and [2100-02-28, 2101-02-28): 365 days each, no Feb 29 2100.
    assert [periods[3].days(UTC_ZONE), periods[4].days(UTC_ZONE)] == [365, 365]


@pytest.mark.parametrize(
    ("started", "interval", "expected"),
    [
        # Weekly keeps the weekday: 2024-01-03 is a Wednesday.
        ("2024-01-03", Interval.WEEKLY, ["2024-01-03", "2024-01-10", "2024-01-17", "2024-01-24"]),
        (
            "2023-11-30",
            Interval.QUARTERLY,
            ["2023-11-30", "2024-02-29", "2024-05-30", "2024-08-30"],
        ),
        (
            "2023-08-31",
            Interval.SEMIANNUAL,
            ["2023-08-31", "2024-02-29", "2024-08-31", "2025-02-28"],
        ),
        ("2023-03-15", Interval.YEARLY, ["2023-03-15", "2024-03-15", "2025-03-15", "2026-03-15"]),
        (
            "2024-02-29",
            Interval.QUARTERLY,
            ["2024-02-29", "2024-05-29", "2024-08-29", "2024-11-29"],
        ),
    ],
)
def test_anniversary_tables(started: str, interval: Interval, expected: list[str]) -> None:
    schedule = BillingSchedule(
        local(NEW_YORK, *d(started).timetuple()[:3], 16), interval, A, NEW_YORK
    )
    periods = list(schedule.periods(until=local_midnight(d(expected[-1]), NEW_YORK) + timedelta(1)))
    assert starts(periods, NEW_YORK) == expected


def test_anniversary_period_containing_before_and_after_clamped_months() -> None:
    anchor = d("2024-01-31")
    assert anniversary_period_containing(utc(2024, 3, 30), anchor, M, UTC_ZONE) == Period(
        utc(2024, 2, 29), utc(2024, 3, 31)
    )
    assert anniversary_period_containing(utc(2024, 3, 31), anchor, M, UTC_ZONE) == Period(
        utc(2024, 3, 31), utc(2024, 4, 30)
    )
    # Before the anchor the grid extends backwards (index −1): Dec 31 → Jan 31.
    assert anniversary_period_containing(utc(2024, 1, 10), anchor, M, UTC_ZONE) == Period(
        utc(2023, 12, 31), utc(2024, 1, 31)
    )


# --- subscription schedules ---------------------------------------------------------------


def test_calendar_first_period_is_partial_and_prorated_on_the_whole_month() -> None:
    # Lago: $50/month, start Aug 10 → 22 days × $50 / 31 = $35.48.
    schedule = BillingSchedule(local(NEW_YORK, 2024, 8, 10, 10), M, C, NEW_YORK)
    first = schedule.first_period()
    assert first == Period(utc(2024, 8, 10, 4), utc(2024, 9, 1, 4))  # EDT −4
    full = schedule.full_period(first)
    assert full == Period(utc(2024, 8, 1, 4), utc(2024, 9, 1, 4))
    factor = proration_factor(first, full, NEW_YORK)
    assert factor == Fraction(22, 31)  # Aug 10..31 = 22 days of 31
    assert to_minor_units(prorate(Decimal(50), factor), USD) == 3548  # 1100/31 = 35.4838…


def test_calendar_periods_follow_the_first_one() -> None:
    schedule = BillingSchedule(local(NEW_YORK, 2024, 8, 10, 10), M, C, NEW_YORK)
    periods = list(schedule.periods(until=local(NEW_YORK, 2024, 11, 15)))
    assert starts(periods, NEW_YORK) == ["2024-08-10", "2024-09-01", "2024-10-01", "2024-11-01"]
    assert periods[-1] == Period(utc(2024, 11, 1, 4), utc(2024, 12, 1, 5))  # EDT → EST
    assert schedule.next_period(periods[0]) == periods[1]
    assert schedule.full_period(periods[2]) == periods[2]


@pytest.mark.parametrize(
    ("interval", "started", "first_end", "used", "whole"),
    [
        # Wed Jan 3 → Mon Jan 8: 5 of 7 days.
        (Interval.WEEKLY, utc(2024, 1, 3, 9), utc(2024, 1, 8), 5, 7),
        # Feb 15 → Apr 1: 15 (Feb 15..29) + 31 = 46 of 91.
        (Interval.QUARTERLY, utc(2024, 2, 15), utc(2024, 4, 1), 46, 91),
        # May 20 → Jul 1: 12 + 30 = 42 of 182.
        (Interval.SEMIANNUAL, utc(2024, 5, 20), utc(2024, 7, 1), 42, 182),
        # Dec 31 → Jan 1: 1 of 366.
        (Interval.YEARLY, utc(2024, 12, 31, 23, 59), utc(2025, 1, 1), 1, 366),
        # Starting on a boundary gives a whole first period.
        (M, utc(2024, 9, 1), utc(2024, 10, 1), 30, 30),
    ],
)
def test_calendar_first_period_table(
    interval: Interval, started: datetime, first_end: datetime, used: int, whole: int
) -> None:
    schedule = BillingSchedule(started, interval, C, UTC_ZONE)
    first = schedule.first_period()
    assert first == Period(utc(started.year, started.month, started.day), first_end)
    factor = proration_factor(first, schedule.full_period(first), UTC_ZONE)
    assert factor == Fraction(used, whole)


def test_start_day_is_the_customers_local_date() -> None:
    # 2024-03-01 07:30Z is Feb 29 23:30 in Los Angeles (PST −8): the subscription starts Feb 29.
    la = ZoneInfo("America/Los_Angeles")
    schedule = BillingSchedule(utc(2024, 3, 1, 7, 30), M, C, la)
    assert schedule.anchor == d("2024-02-29")
    first = schedule.first_period()
    assert first == Period(utc(2024, 2, 29, 8), utc(2024, 3, 1, 8))
    assert proration_factor(first, schedule.full_period(first), la) == Fraction(1, 29)


def test_anniversary_first_period_is_whole() -> None:
    schedule = BillingSchedule(utc(2024, 8, 10, 15), M, A, UTC_ZONE)
    first = schedule.first_period()
    assert first == Period(utc(2024, 8, 10), utc(2024, 9, 10))  # Aug 10 → Sep 9 inclusive
    assert schedule.full_period(first) == first


def test_future_subscription_has_no_period_before_its_start() -> None:
    schedule = BillingSchedule(utc(2030, 1, 15, 12), M, C, UTC_ZONE)
    assert list(schedule.periods(until=utc(2030, 1, 15))) == []
    assert schedule.period_containing(utc(2029, 6, 1)) is None
    assert schedule.period_containing(utc(2030, 1, 15) - timedelta(microseconds=1)) is None
    assert schedule.period_containing(utc(2030, 1, 15)) == Period(utc(2030, 1, 15), utc(2030, 2, 1))
    assert list(schedule.periods(until=utc(2030, 1, 15, 0, 0, 1))) == [schedule.first_period()]


def test_past_subscription_periods_are_computed_from_the_real_start() -> None:
    schedule = BillingSchedule(utc(2020, 1, 15), M, C, UTC_ZONE)
    # A period in the middle is a whole calendar month, not shifted by the start.
    assert schedule.period_containing(utc(2024, 6, 10)) == Period(utc(2024, 6, 1), utc(2024, 7, 1))
    periods = list(billing_periods(utc(2020, 1, 15), M, C, UTC_ZONE, until=utc(2024, 6, 10)))
    # Jan 2020 .. Jun 2024 = 4 × 12 + 6 = 54 periods, the first from Jan 15.
    assert len(periods) == 54
    assert periods[0] == Period(utc(2020, 1, 15), utc(2020, 2, 1))
    assert periods[-1] == Period(utc(2024, 6, 1), utc(2024, 7, 1))


def test_schedule_rejects_naive_start() -> None:
    with pytest.raises(ValueError):
        BillingSchedule(datetime(2024, 1, 1), M, C, UTC_ZONE)


# --- bill_charges_monthly -----------------------------------------------------------------


def test_monthly_charge_periods_of_a_calendar_yearly_plan() -> None:
    schedule = BillingSchedule(utc(2024, 8, 10), Interval.YEARLY, C, UTC_ZONE)
    fee_period = schedule.first_period()
    assert fee_period == Period(utc(2024, 8, 10), utc(2025, 1, 1))
    assert starts(schedule.charge_periods(fee_period), UTC_ZONE) == [
        "2024-08-10", "2024-09-01", "2024-10-01", "2024-11-01", "2024-12-01"
    ]  # fmt: skip
    assert schedule.charge_periods(fee_period)[-1].end == utc(2025, 1, 1)


def test_monthly_charge_periods_of_an_anniversary_yearly_plan() -> None:
    schedule = BillingSchedule(local(PARIS, 2024, 1, 31, 9), Interval.YEARLY, A, PARIS)
    parts = schedule.charge_periods(schedule.first_period())
    assert starts(parts, PARIS) == [
        "2024-01-31", "2024-02-29", "2024-03-31", "2024-04-30", "2024-05-31", "2024-06-30",
        "2024-07-31", "2024-08-31", "2024-09-30", "2024-10-31", "2024-11-30", "2024-12-31",
    ]  # fmt: skip
    assert parts[-1].end == local(PARIS, 2025, 1, 31)


def test_monthly_charge_periods_of_a_semiannual_plan_and_a_terminated_period() -> None:
    schedule = BillingSchedule(utc(2024, 8, 31), Interval.SEMIANNUAL, A, UTC_ZONE)
    parts = schedule.charge_periods(schedule.first_period())
    assert starts(parts, UTC_ZONE) == [
        "2024-08-31", "2024-09-30", "2024-10-31", "2024-11-30", "2024-12-31", "2025-01-31"
    ]  # fmt: skip
    assert parts[-1].end == utc(2025, 2, 28)
    terminated = Period(utc(2024, 8, 31), utc(2024, 10, 16))
    assert schedule.charge_periods(terminated) == [
        Period(utc(2024, 8, 31), utc(2024, 9, 30)),
        Period(utc(2024, 9, 30), utc(2024, 10, 16)),
    ]


@pytest.mark.parametrize("interval", [Interval.WEEKLY, M, Interval.QUARTERLY])
def test_monthly_charges_need_a_yearly_or_semiannual_plan(interval: Interval) -> None:
    schedule = BillingSchedule(utc(2024, 1, 1), interval, C, UTC_ZONE)
    with pytest.raises(DomainError) as err:
        schedule.charge_periods(schedule.first_period())
    assert err.value.field == "bill_charges_monthly"


# --- proration ----------------------------------------------------------------------------

JANUARY_PARIS = Period(local(PARIS, 2024, 1, 1), local(PARIS, 2024, 2, 1))


@pytest.mark.parametrize(
    ("terminated_at", "used_days"),
    [
        (local(PARIS, 2024, 1, 1), 1),  # terminated at the first instant: that day counts
        (local(PARIS, 2024, 1, 15, 10), 15),  # Lago: Jan 1–15
        (local(PARIS, 2024, 1, 15, 23, 59), 15),
        (local(PARIS, 2024, 1, 16), 16),
        (local(PARIS, 2024, 1, 31, 23, 59), 31),
    ],
)
def test_termination_counts_its_own_day(terminated_at: datetime, used_days: int) -> None:
    used = used_until_termination(JANUARY_PARIS, terminated_at, PARIS)
    assert used.start == JANUARY_PARIS.start
    assert used.days(PARIS) == used_days
    assert proration_factor(used, JANUARY_PARIS, PARIS) == Fraction(used_days, 31)


def test_termination_outside_the_period_is_refused() -> None:
    with pytest.raises(ValueError):
        used_until_termination(JANUARY_PARIS, local(PARIS, 2024, 2, 1), PARIS)


def test_upgrade_gives_the_change_day_to_the_new_plan() -> None:
    # Lago: Plan A €100 from Jan 1, upgrade to B €200 on Jan 15.
    old, new = split_at_day(JANUARY_PARIS, local(PARIS, 2024, 1, 15, 10), PARIS)
    assert (old.days(PARIS), new.days(PARIS)) == (14, 17)
    a = proration_factor(old, JANUARY_PARIS, PARIS)
    b = proration_factor(new, JANUARY_PARIS, PARIS)
    assert to_minor_units(prorate(Decimal(100), a), EUR) == 4516  # 1400/31 = 45.161…
    assert to_minor_units(prorate(Decimal(200), b), EUR) == 10968  # 3400/31 = 109.677…
    assert a + b == 1


def test_upgrade_on_the_first_day_leaves_the_old_plan_nothing() -> None:
    old, new = split_at_day(JANUARY_PARIS, local(PARIS, 2024, 1, 1, 8), PARIS)
    assert old.is_empty and new == JANUARY_PARIS
    assert proration_factor(old, JANUARY_PARIS, PARIS) == 0


@pytest.mark.parametrize(
    ("used", "factor"),
    [
        (JANUARY_PARIS, Fraction(1)),
        (Period(local(PARIS, 2024, 1, 10), local(PARIS, 2024, 1, 20)), Fraction(10, 31)),
        # Clipped to the full period: Dec 20 → Jan 3 uses Jan 1–2 only.
        (Period(local(PARIS, 2023, 12, 20), local(PARIS, 2024, 1, 3)), Fraction(2, 31)),
        (Period(local(PARIS, 2024, 2, 1), local(PARIS, 2024, 2, 3)), Fraction(0)),
    ],
)
def test_proration_factor_table(used: Period, factor: Fraction) -> None:
    assert proration_factor(used, JANUARY_PARIS, PARIS) == factor


def test_proration_needs_a_non_empty_full_period() -> None:
    empty = Period(utc(2024, 1, 1), utc(2024, 1, 1))
    with pytest.raises(ValueError):
        proration_factor(empty, empty, UTC_ZONE)


@pytest.mark.parametrize(
    ("amount", "factor", "half_up", "half_even"),
    [
        ("50", Fraction(22, 31), 3548, 3548),  # 35.4838…
        ("0.05", Fraction(1, 2), 3, 2),  # exactly 0.025: a tie survives prorate unrounded
        ("100", Fraction(1, 3), 3333, 3333),  # 33.333…
        ("200", Fraction(2, 3), 13333, 13333),  # 133.333…
        ("0.07", Fraction(1, 2), 4, 4),  # 0.035 → half-up 4, half-even 4
        ("10", Fraction(0), 0, 0),
    ],
)
def test_prorate_then_round_once(
    amount: str, factor: Fraction, half_up: int, half_even: int
) -> None:
    precise = prorate(Decimal(amount), factor)
    assert to_minor_units(precise, USD, Rounding.HALF_UP) == half_up
    assert to_minor_units(precise, USD, Rounding.HALF_EVEN) == half_even


def test_prorate_refuses_floats() -> None:
    with pytest.raises(TypeError):
        prorate(50.0, Fraction(1, 2))  # type: ignore[arg-type]


# --- trials -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("days", "expected"),
    [
        (0, local(PARIS, 2024, 1, 3)),  # no trial: ends where the first period starts
        (1, local(PARIS, 2024, 1, 4)),
        (7, local(PARIS, 2024, 1, 10)),  # covers Jan 3–9
        (30, local(PARIS, 2024, 2, 2)),  # Jan 3 + 30 days
        (88, local(PARIS, 2024, 3, 31)),  # lands on the spring-forward day: still 00:00 local
    ],
)
def test_trial_end_is_local_midnight_n_days_later(days: int, expected: datetime) -> None:
    assert trial_end(local(PARIS, 2024, 1, 3, 10), days, PARIS) == expected


def test_trial_days_must_be_a_non_negative_int() -> None:
    with pytest.raises(DomainError) as err:
        trial_end(utc(2024, 1, 1), -1, UTC_ZONE)
    assert (err.value.code, err.value.field) == ("value_is_out_of_range", "trial_period")
    with pytest.raises(TypeError):
        trial_end(utc(2024, 1, 1), Decimal(7), UTC_ZONE)  # type: ignore[arg-type]


def test_trial_covering_part_of_the_first_period() -> None:
    schedule = BillingSchedule(local(PARIS, 2024, 1, 3, 10), M, C, PARIS)
    first = schedule.first_period()
    ends = trial_end(schedule.started_at, 7, PARIS)
    trial, paid = split_trial(first, ends)
    assert trial == Period(local(PARIS, 2024, 1, 3), local(PARIS, 2024, 1, 10))
    assert paid == Period(local(PARIS, 2024, 1, 10), local(PARIS, 2024, 2, 1))
    # Paid Jan 10..31 = 22 days of the whole January (31).
    assert paid_factor(first, schedule.full_period(first), ends, PARIS) == Fraction(22, 31)


def test_trial_longer_than_a_period() -> None:
    schedule = BillingSchedule(utc(2024, 1, 3), M, C, UTC_ZONE)
    ends = trial_end(schedule.started_at, 40, UTC_ZONE)  # Jan 3 + 40 days = Feb 12
    assert ends == utc(2024, 2, 12)
    january, february = list(schedule.periods(until=utc(2024, 2, 2)))
    assert split_trial(january, ends) == (january, None)
    assert paid_factor(january, schedule.full_period(january), ends, UTC_ZONE) == 0
    # February paid from Feb 12: 12..29 = 18 days of 29.
    assert paid_factor(february, february, ends, UTC_ZONE) == Fraction(18, 29)


def test_trial_ended_before_the_period() -> None:
    february = Period(utc(2024, 2, 1), utc(2024, 3, 1))
    assert split_trial(february, utc(2024, 1, 10)) == (None, february)
    assert paid_factor(february, february, utc(2024, 1, 10), UTC_ZONE) == 1
