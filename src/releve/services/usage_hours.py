"""Local hours and days of usage aggregates, and a memo of the local hour for the ingest path.

Aggregates are kept per hour of the customer's wall clock (stored as the UTC instant it
starts) and rolled up per local day: local, not UTC, because periods start at local midnight
and some zones are offset by 30 or 45 minutes (India, Nepal) — an hour bucket must never
straddle two periods.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, tzinfo

from releve.domain.periods import local_date, local_midnight

_QUARTER = timedelta(minutes=15)
_TICK = timedelta(microseconds=1)


def local_hour(moment: datetime, tz: tzinfo) -> datetime:
    """Start (in UTC) of the hour containing `moment` on the wall clock of `tz`."""
    local = moment.astimezone(tz)
    return local.replace(minute=0, second=0, microsecond=0).astimezone(UTC)


def local_day(hour: datetime, tz: tzinfo) -> datetime:
    """Start (in UTC) of the local day of `tz` containing the hour starting at `hour`."""
    return local_midnight(local_date(hour, tz), tz)


class LocalHours:
    """`local_hour`, memoized per (zone, quarter hour of `moment`'s clock).

    Why: two zone conversions per event were a visible part of the ingest profile, and a
    group's events fall in a few hundred quarter hours. Why quarter hours: every zone offset
    and DST change in use is a multiple of 15 minutes, so a local hour starts on a quarter
    hour of any clock. Not assumed, checked: a quarter is memoized only when its first and
    last microsecond have the same local hour (`local_hour` never decreases with time);
    otherwise each moment of it is computed.
    """

    __slots__ = ("_days", "_memo")

    def __init__(self) -> None:
        self._memo: dict[tuple[tzinfo, int, int, int], datetime | None] = {}
        self._days: dict[tuple[tzinfo, datetime], datetime] = {}

    def day(self, hour: datetime, tz: tzinfo) -> datetime:
        """`local_day`, memoized per (zone, hour): a group's hours fall in a few days."""
        key = (tz, hour)
        day = self._days.get(key)
        if day is None:
            day = self._days[key] = local_day(hour, tz)
        return day

    def __call__(self, moment: datetime, tz: tzinfo) -> datetime:
        if moment.tzinfo is not UTC:  # stored times are UTC; anything else is not memoized
            return local_hour(moment, tz)
        key = (tz, moment.toordinal(), moment.hour, moment.minute // 15)
        try:
            hour = self._memo[key]
        except KeyError:
            quarter = moment.replace(minute=key[3] * 15, second=0, microsecond=0)
            first = local_hour(quarter, tz)
            hour = first if local_hour(quarter + _QUARTER - _TICK, tz) == first else None
            self._memo[key] = hour
        return local_hour(moment, tz) if hour is None else hour
