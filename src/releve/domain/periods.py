"""Billing periods: intervals, calendar and anniversary grids, customer time zones.

Rules (design.md §4, lago-api.md §4.1):

- Every period is half-open ``[start, end)`` and starts at **local midnight** in the customer's
  IANA time zone. "Local midnight of day D" is the first instant whose local date is D or later:
  when a DST gap swallows 00:00 (Asia/Tehran, America/Sao_Paulo before 2019) the day starts at
  the transition (01:00 local), and on a fall-back that repeats midnight it is the first 00:00.
- ``Period`` stores its bounds in UTC. Python compares and subtracts two datetimes that share a
  ``ZoneInfo`` by *wall clock*, which is wrong across DST; UTC makes every comparison and every
  duration an elapsed-time one.
- Calendar grids align to Monday, the 1st of the month, of Jan/Apr/Jul/Oct, of Jan/Jul, and
  Jan 1. Anniversary grids are re-derived from the anchor date for every period (anchor Jan 31 →
  Feb 28/29 → Mar 31 → Apr 30), never by adding a month to the previous end.

The subscription-level view (first partial period, past and future starts, monthly charge
periods) lives in ``releve.domain.billing_schedule``; proration and trials in
``releve.domain.proration``.
"""

from __future__ import annotations

import calendar
import enum
import functools
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from releve.domain.errors import DomainError

_ONE_MICROSECOND = timedelta(microseconds=1)


class InvalidTimezone(DomainError):
    """The customer's time zone is not an IANA zone name."""

    code = "invalid_timezone"


class Interval(enum.Enum):
    """A plan's billing interval; values are Lago's strings."""

    WEEKLY = "weekly"
    MONTHLY = "monthly"
    QUARTERLY = "quarterly"
    SEMIANNUAL = "semiannual"
    YEARLY = "yearly"

    @classmethod
    def parse(cls, value: str, *, field: str = "interval") -> Interval:
        """The interval named `value`, or a `DomainError` (code ``value_is_invalid``)."""
        try:
            return cls(value)
        except ValueError:
            raise DomainError(
                f"unknown interval {value!r}", field=field, code="value_is_invalid"
            ) from None

    @property
    def months(self) -> int | None:
        """Length in calendar months; None for weekly (weeks do not nest in months)."""
        return _MONTHS[self]


_MONTHS: dict[Interval, int | None] = {
    Interval.WEEKLY: None,
    Interval.MONTHLY: 1,
    Interval.QUARTERLY: 3,
    Interval.SEMIANNUAL: 6,
    Interval.YEARLY: 12,
}


class BillingTime(enum.Enum):
    """Calendar (Lago's default) aligns periods to the calendar; anniversary to the start day."""

    CALENDAR = "calendar"
    ANNIVERSARY = "anniversary"

    @classmethod
    def parse(cls, value: str, *, field: str = "billing_time") -> BillingTime:
        """The billing time named `value`, or a `DomainError` (code ``value_is_invalid``)."""
        try:
            return cls(value)
        except ValueError:
            raise DomainError(
                f"unknown billing_time {value!r}", field=field, code="value_is_invalid"
            ) from None


def yearly_multiplier(interval: Interval) -> int:
    """How many periods of `interval` make a year: weekly 52, monthly 12, quarterly 4,
    semiannual 2, yearly 1.

    Lago compares plans by ``amount × multiplier`` to tell an upgrade (≥) from a downgrade; it
    uses 52 weeks (not 365/7) and so do we, so that comparisons agree with Lago's.
    """
    return {
        Interval.WEEKLY: 52,
        Interval.MONTHLY: 12,
        Interval.QUARTERLY: 4,
        Interval.SEMIANNUAL: 2,
        Interval.YEARLY: 1,
    }[interval]


def parse_timezone(name: str, *, field: str = "timezone") -> ZoneInfo:
    """The IANA zone `name` (e.g. ``"Europe/Paris"``), or `InvalidTimezone`."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        # ValueError/OSError: malformed keys such as "../etc" or a directory name.
        raise InvalidTimezone(f"unknown time zone {name!r}", field=field) from None


def _require_aware(value: datetime, name: str) -> None:
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{name} must be a timezone-aware datetime, got {value!r}")


def local_date(instant: datetime, tz: tzinfo) -> date:
    """The calendar date of `instant` on the customer's wall clock."""
    _require_aware(instant, "instant")
    return instant.astimezone(tz).date()


def _wall(instant: datetime, tz: tzinfo) -> datetime:
    return instant.astimezone(tz).replace(tzinfo=None)


@functools.lru_cache(maxsize=1 << 14)
def local_midnight(day: date, tz: tzinfo) -> datetime:
    """The first instant (in UTC) whose local date in `tz` is `day` or later.

    Usually ``day 00:00`` local. If a DST gap swallows midnight the day starts at the
    transition; if a fall-back repeats midnight it starts at the first 00:00; if the whole day
    was skipped (Pacific/Kiritimati on 1994-12-31) it is the start of the next day.
    """
    naive = datetime.combine(day, time())
    first = naive.replace(tzinfo=tz, fold=0).astimezone(UTC)
    second = naive.replace(tzinfo=tz, fold=1).astimezone(UTC)
    low, high = min(first, second), max(first, second)
    if _wall(low, tz) >= naive:
        return low
    # Midnight is in a gap: `low` reads before it, `high` after it. Find the transition.
    while high - low > _ONE_MICROSECOND:
        middle = low + (high - low) // 2
        if _wall(middle, tz) >= naive:
            high = middle
        else:
            low = middle
    return high


def add_months(anchor: date, months: int) -> date:
    """`anchor` moved by `months` calendar months, its day clamped to the month's length.

    Always computed from the anchor (Jan 31 + 1 → Feb 28/29, + 2 → Mar 31), never chained.
    """
    index = anchor.year * 12 + anchor.month - 1 + months
    year, month = divmod(index, 12)
    last = calendar.monthrange(year, month + 1)[1]
    return date(year, month + 1, min(anchor.day, last))


def _months_between(earlier: date, later: date) -> int:
    return (later.year - earlier.year) * 12 + later.month - earlier.month


@dataclass(frozen=True, slots=True)
class Period:
    """A half-open interval of time ``[start, end)``, stored in UTC (see the module docstring).

    Empty periods (start == end) are allowed: they are what clipping returns.
    """

    start: datetime
    end: datetime

    def __post_init__(self) -> None:
        _require_aware(self.start, "Period.start")
        _require_aware(self.end, "Period.end")
        object.__setattr__(self, "start", self.start.astimezone(UTC))
        object.__setattr__(self, "end", self.end.astimezone(UTC))
        if self.end < self.start:
            raise ValueError(f"Period ends before it starts: {self.start} > {self.end}")

    @property
    def is_empty(self) -> bool:
        return self.start == self.end

    @property
    def duration(self) -> timedelta:
        """Elapsed time (a DST spring-forward month is one hour shorter than its days)."""
        return self.end - self.start

    def contains(self, instant: datetime) -> bool:
        """Whether ``start <= instant < end`` (half-open)."""
        _require_aware(instant, "instant")
        return self.start <= instant < self.end

    def intersection(self, other: Period) -> Period | None:
        """The overlap of two periods, or None when they share no instant."""
        start, end = max(self.start, other.start), min(self.end, other.end)
        return Period(start, end) if start < end else None

    def days(self, tz: tzinfo) -> int:
        """How many local calendar days in `tz` the period touches.

        A period from local midnight to local midnight counts its days exactly (a DST month
        still has 31 days). A period that ends mid-day counts that day as used — this is how a
        termination at 10:00 on Jan 15 uses Jan 1–15 = 15 days. Empty periods have 0 days.
        """
        if self.is_empty:
            return 0
        first = local_date(self.start, tz)
        last = local_date(self.end - _ONE_MICROSECOND, tz)
        return (last - first).days + 1

    def local_bounds(self, tz: tzinfo) -> tuple[datetime, datetime]:
        """Start and end on the customer's wall clock (for display, never for arithmetic)."""
        return self.start.astimezone(tz), self.end.astimezone(tz)


@dataclass(frozen=True, slots=True)
class PeriodGrid:
    """The infinite sequence of period boundaries of one interval in one time zone.

    Boundary k is the local midnight of `boundary_date(k)`. With ``anchor=None`` the grid is the
    calendar one; otherwise it is the anniversary grid of that anchor date (k = 0 is the anchor).
    """

    interval: Interval
    tz: tzinfo
    anchor: date | None = None

    def boundary_date(self, k: int) -> date:
        """The local date on which period k starts."""
        months = self.interval.months
        if self.anchor is None:
            if months is None:
                return date.fromordinal(1 + 7 * k)  # 0001-01-01 is a Monday
            year, month = divmod(k * months, 12)
            return date(year, month + 1, 1)
        if months is None:
            return self.anchor + timedelta(weeks=k)
        return add_months(self.anchor, k * months)

    def boundary(self, k: int) -> datetime:
        """The instant (UTC) at which period k starts."""
        return local_midnight(self.boundary_date(k), self.tz)

    def _estimate(self, day: date) -> int:
        months = self.interval.months
        if self.anchor is None:
            if months is None:
                return (day.toordinal() - 1) // 7
            return (day.year * 12 + day.month - 1) // months
        if months is None:
            return (day - self.anchor).days // 7
        return _months_between(self.anchor, day) // months

    def index_of(self, instant: datetime) -> int:
        """The k such that ``boundary(k) <= instant < boundary(k + 1)``."""
        k = self._estimate(local_date(instant, self.tz))
        # The estimate comes from the local date; the instants decide (clamped month ends,
        # DST gaps at midnight).
        while instant < self.boundary(k):
            k -= 1
        while instant >= self.boundary(k + 1):
            k += 1
        return k

    def period(self, k: int) -> Period:
        return Period(self.boundary(k), self.boundary(k + 1))

    def period_containing(self, instant: datetime) -> Period:
        """The grid period that contains `instant`."""
        return self.period(self.index_of(instant))


def calendar_period_containing(instant: datetime, interval: Interval, tz: tzinfo) -> Period:
    """The whole calendar week/month/quarter/half-year/year containing `instant`, in `tz`."""
    return PeriodGrid(interval, tz).period_containing(instant)


def anniversary_period_containing(
    instant: datetime, anchor: date, interval: Interval, tz: tzinfo
) -> Period:
    """The anniversary period of `anchor` (a local date) that contains `instant`, in `tz`."""
    return PeriodGrid(interval, tz, anchor).period_containing(instant)
