"""`LocalHours` (the ingest's memo of the local hour) always agrees with `local_hour`, across
DST changes in both directions and in zones offset by 30 or 45 minutes; `sqlite_time` writes
the stored text form exactly as `strftime` did, faster."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

from hypothesis import given, settings
from hypothesis import strategies as st

from releve.adapters.sql.types import sqlite_time
from releve.services.usage_hours import LocalHours, local_day, local_hour

ZONES = [
    UTC,
    ZoneInfo("Europe/Paris"),
    ZoneInfo("America/New_York"),
    ZoneInfo("Asia/Kolkata"),  # +05:30
    ZoneInfo("Asia/Kathmandu"),  # +05:45
    ZoneInfo("Australia/Lord_Howe"),  # DST of 30 minutes
    ZoneInfo("America/St_Johns"),  # -03:30 with DST
    timezone(timedelta(hours=-9, minutes=-30)),
]
# Around DST changes of 2026 (Paris 29 Mar / 25 Oct, New York 8 Mar / 1 Nov, Lord Howe 5 Apr)
# and anywhere in 2024–2027.
moments = st.one_of(
    st.sampled_from(
        [
            datetime(2026, 3, 29, 0, 45, tzinfo=UTC),
            datetime(2026, 10, 25, 0, 59, 59, 999_999, tzinfo=UTC),
            datetime(2026, 3, 8, 6, 59, tzinfo=UTC),
            datetime(2026, 11, 1, 5, 30, tzinfo=UTC),
            datetime(2026, 4, 4, 14, 45, tzinfo=UTC),
        ]
    ).flatmap(
        lambda at: st.integers(-3 * 3600 * 10**6, 3 * 3600 * 10**6).map(
            lambda us: at + timedelta(microseconds=us)
        )
    ),
    st.datetimes(datetime(2024, 1, 1), datetime(2027, 12, 31)).map(lambda d: d.replace(tzinfo=UTC)),
)


@settings(max_examples=400)
@given(st.lists(st.tuples(moments, st.sampled_from(ZONES)), min_size=1, max_size=40))
def test_memo_equals_local_hour_for_every_moment(pairs: list) -> None:
    hours = LocalHours()
    for moment, zone in pairs + pairs:  # the second pass reads the memo
        assert hours(moment, zone) == local_hour(moment, zone)
        hour = local_hour(moment, zone)
        assert hours.day(hour, zone) == local_day(hour, zone)
        paris = moment.astimezone(ZoneInfo("Europe/Paris"))  # not memoized, still right
        assert hours(paris, zone) == local_hour(moment, zone)


def test_the_two_utc_hours_of_a_repeated_local_hour_stay_apart() -> None:
    # New York, 1 Nov 2026: 01:00–02:00 local happens twice (05:00 and 06:00 UTC).
    hours, zone = LocalHours(), ZoneInfo("America/New_York")
    first = hours(datetime(2026, 11, 1, 5, 30, tzinfo=UTC), zone)
    second = hours(datetime(2026, 11, 1, 6, 30, tzinfo=UTC), zone)
    assert (first, second) == (
        datetime(2026, 11, 1, 5, tzinfo=UTC),
        datetime(2026, 11, 1, 6, tzinfo=UTC),
    )


def test_half_hour_zones_start_hours_on_the_half_hour() -> None:
    hours = LocalHours()
    at = datetime(2026, 1, 1, 10, 20, tzinfo=UTC)  # 15:50 in Kolkata
    assert hours(at, ZoneInfo("Asia/Kolkata")) == datetime(2026, 1, 1, 9, 30, tzinfo=UTC)
    assert hours(at, ZoneInfo("Asia/Kathmandu")) == datetime(2026, 1, 1, 10, 15, tzinfo=UTC)


@given(st.datetimes(datetime(1000, 1, 1), datetime(9999, 12, 31), timezones=st.just(UTC)))
def test_sqlite_time_is_the_strftime_form(moment: datetime) -> None:
    assert sqlite_time(moment) == moment.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def test_sqlite_time_converts_offsets_to_utc() -> None:
    paris = datetime.fromisoformat("2024-03-31T03:30:00.5+02:00")
    assert sqlite_time(paris) == "2024-03-31T01:30:00.500000Z"
