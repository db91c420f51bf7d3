"""The SQLite text form of `UtcDateTime` reads back exactly as written, and only that form.

Reading uses `datetime.fromisoformat` (faster than `strptime`, the hot spot of current-usage
reads); these cases pin that it returns the same aware UTC value and still refuses anything
that is not the fixed-width stored form.
"""

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy.dialects import sqlite

from releve.adapters.sql.types import UtcDateTime

DIALECT = sqlite.dialect()
TYPE = UtcDateTime()


@pytest.mark.parametrize(
    "moment",
    [
        datetime(2024, 1, 31, 23, 59, 59, tzinfo=UTC),
        datetime(2024, 2, 29, 0, 0, 0, 1, tzinfo=UTC),
        datetime(2026, 3, 29, 1, 30, 0, 999_999, tzinfo=UTC),
        datetime(2024, 6, 1, 12, tzinfo=UTC) + timedelta(hours=5, minutes=45),
    ],
)
def test_round_trip_is_exact_and_utc(moment: datetime) -> None:
    text = TYPE.process_bind_param(moment, DIALECT)
    back = TYPE.process_result_value(text, DIALECT)
    assert back == moment
    assert back is not None and back.tzinfo is UTC
    assert back.strftime("%Y-%m-%dT%H:%M:%S.%fZ") == text


def test_offset_times_are_stored_in_utc() -> None:
    paris = datetime.fromisoformat("2024-03-31T03:30:00+02:00")
    text = TYPE.process_bind_param(paris, DIALECT)
    assert text == "2024-03-31T01:30:00.000000Z"


@pytest.mark.parametrize(
    "text",
    [
        "2024-01-31 23:59:59.000000Z",
        "2024-01-31T23:59:59.000000+00:00",
        "2024-01-31T23:59:59Z",
        "2024-01-31T23:59:59.000000",
        "2024-01-31",
    ],
)
def test_other_forms_are_refused(text: str) -> None:
    with pytest.raises(ValueError):
        TYPE.process_result_value(text, DIALECT)
