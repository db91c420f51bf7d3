"""The API's time form (`serializers.iso`): UTC with a `Z`, sub-second digits only when
present — the same text the former strftime formats wrote, for every instant."""

from datetime import UTC, datetime, timedelta, timezone

from hypothesis import given
from hypothesis import strategies as st

from releve.entrypoints.api.serializers import iso

zones = st.sampled_from(
    [UTC, timezone(timedelta(hours=5, minutes=30)), timezone(-timedelta(hours=9))]
)


@given(st.datetimes(datetime(1001, 1, 1), datetime(9998, 12, 31)), zones)
def test_iso_is_the_lago_form(naive: datetime, zone: timezone) -> None:
    moment = naive.replace(tzinfo=zone)
    utc = moment.astimezone(UTC)
    fmt = "%Y-%m-%dT%H:%M:%S.%fZ" if utc.microsecond else "%Y-%m-%dT%H:%M:%SZ"
    assert iso(moment) == utc.strftime(fmt)


def test_none_stays_none() -> None:
    assert iso(None) is None
