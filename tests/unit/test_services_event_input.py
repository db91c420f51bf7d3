"""Event timestamps and validation (design.md §4): Unix seconds and offset ISO 8601 only."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal

import pytest

from releve.services import exact_json
from releve.services.event_input import EventDraft, parse_event, parse_timestamp

RECEIVED = datetime(2024, 5, 1, 10, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (1651240791, datetime(2022, 4, 29, 13, 59, 51, tzinfo=UTC)),
        ("1651240791", datetime(2022, 4, 29, 13, 59, 51, tzinfo=UTC)),
        ("1651240791.123", datetime(2022, 4, 29, 13, 59, 51, 123000, tzinfo=UTC)),
        (Decimal("1651240791.1234567"), datetime(2022, 4, 29, 13, 59, 51, 123456, tzinfo=UTC)),
        (0, datetime(1970, 1, 1, tzinfo=UTC)),
        ("2024-02-29T23:30:00+02:00", datetime(2024, 2, 29, 21, 30, tzinfo=UTC)),
        ("2024-02-29T23:30:00Z", datetime(2024, 2, 29, 23, 30, tzinfo=UTC)),
    ],
)
def test_accepted_timestamps(value: object, expected: datetime) -> None:
    parsed = parse_timestamp(value)
    assert parsed == expected
    assert parsed is not None and parsed.utcoffset() == timedelta(0)


@pytest.mark.parametrize(
    "value",
    ["2024-02-29T23:30:00", "2024-02-29", "yesterday", "", "1e400000", True, [1], {"a": 1}],
)
def test_rejected_timestamps(value: object) -> None:
    assert parse_timestamp(value) is None


def _raw(**over: object) -> dict[str, object]:
    return {"transaction_id": "tx", "external_subscription_id": "s", "code": "c", **over}


def test_absent_timestamp_is_reception_time_and_hash_ignores_it() -> None:
    first = parse_event(_raw(), RECEIVED)
    later = parse_event(_raw(), RECEIVED + timedelta(hours=1))
    assert isinstance(first, EventDraft) and isinstance(later, EventDraft)
    assert first.timestamp == RECEIVED
    assert first.payload_hash == later.payload_hash  # a retry is recognized as the same event


def test_equal_payloads_hash_equal_whatever_the_number_spelling() -> None:
    a = parse_event(_raw(timestamp=1700000000, properties={"gb": Decimal("1.50")}), RECEIVED)
    b = parse_event(_raw(timestamp="1700000000", properties={"gb": Decimal("1.5")}), RECEIVED)
    c = parse_event(_raw(timestamp="1700000000", properties={"gb": Decimal("1.51")}), RECEIVED)
    assert isinstance(a, EventDraft) and isinstance(b, EventDraft) and isinstance(c, EventDraft)
    assert a.payload_hash == b.payload_hash != c.payload_hash


def test_every_problem_is_named() -> None:
    errors = parse_event(
        {"code": "", "timestamp": "2024-01-01T00:00:00", "properties": [1]}, RECEIVED
    )
    assert errors == {
        "transaction_id": ["value_is_mandatory"],
        "external_subscription_id": ["value_is_mandatory"],
        "code": ["value_is_mandatory"],
        "timestamp": ["invalid_format"],
        "properties": ["value_is_invalid"],
    }


def test_ids_with_a_nul_character_are_refused() -> None:
    # PostgreSQL text cannot hold NUL and SQLite's json_each (the dedup lookup) cuts at it.
    errors = parse_event(
        _raw(transaction_id="a\x00b", external_subscription_id="s\x00", code="\x00"), RECEIVED
    )
    assert errors == {
        "transaction_id": ["value_is_invalid"],
        "external_subscription_id": ["value_is_invalid"],
        "code": ["value_is_invalid"],
    }


def test_exact_json_round_trips_decimal_text() -> None:
    text = '{"gb":0.1,"n":10,"big":123456789012345678901234567890.000000000000000001}'
    value = exact_json.loads(text)
    assert value["gb"] == Decimal("0.1") and isinstance(value["n"], int)
    assert exact_json.dumps(value) == text
    with pytest.raises(ValueError):
        exact_json.loads('{"x": NaN}')
    with pytest.raises(TypeError):
        exact_json.dumps({"x": 0.1})


def test_offset_is_applied() -> None:
    tz = timezone(timedelta(hours=-5))
    parsed = parse_timestamp(datetime(2024, 1, 1, 19, tzinfo=tz).isoformat())
    assert parsed == datetime(2024, 1, 2, 0, tzinfo=UTC)
