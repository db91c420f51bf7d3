"""Parsing one raw event (a JSON object with Decimal numbers) into a validated draft.

Timestamps (design.md §4): Unix seconds as an integer, a decimal or a numeric string, as Lago
accepts, and also ISO 8601 with an offset (our extension). A naive ISO time or anything else is
`invalid_format`. An absent timestamp means the time of reception.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import ROUND_FLOOR, Decimal, InvalidOperation
from typing import Any

from releve.services import exact_json

_NUMERIC = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$")
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
MAX_ID_LENGTH = 255
KNOWN_FIELDS = frozenset(
    {
        "transaction_id",
        "external_subscription_id",
        "code",
        "timestamp",
        "properties",
        "precise_total_amount_cents",
        # Lago clients may still send this retired field; it is ignored, never an error.
        "external_customer_id",
    }
)


@dataclass(frozen=True, slots=True)
class EventDraft:
    transaction_id: str
    external_subscription_id: str
    code: str
    timestamp: datetime
    properties: dict[str, Any]
    precise_total_amount_cents: Decimal | None
    payload_hash: str


def parse_timestamp(value: Any) -> datetime | None:
    """An aware UTC datetime from Unix seconds or offset ISO 8601; None if invalid.

    Sub-microsecond digits are truncated (the storage resolution is one microsecond).
    """
    if isinstance(value, bool):
        return None
    seconds: Decimal | None = None
    if isinstance(value, int | Decimal):
        seconds = Decimal(value)
    elif isinstance(value, str):
        text = value.strip()
        if _NUMERIC.match(text):
            try:
                seconds = Decimal(text)
            except InvalidOperation:
                return None
        else:
            return _parse_iso(text)
    else:
        return None
    if not seconds.is_finite():
        return None
    micros = int((seconds * 1_000_000).to_integral_value(rounding=ROUND_FLOOR))
    try:
        return _EPOCH + timedelta(microseconds=micros)
    except OverflowError:
        return None


def _parse_iso(text: str) -> datetime | None:
    if "T" not in text and " " not in text:
        return None  # a bare date has no time of day nor offset
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        return None
    if parsed.tzinfo is None or parsed.utcoffset() is None:
        return None
    try:
        return parsed.astimezone(UTC)
    except OverflowError:
        return None


def _decimal_amount(value: Any) -> Decimal | None:
    if isinstance(value, bool):
        raise InvalidOperation
    if isinstance(value, Decimal | int):
        number = Decimal(value)
    elif isinstance(value, str) and _NUMERIC.match(value.strip()):
        number = Decimal(value.strip())
    else:
        raise InvalidOperation
    if not number.is_finite():
        raise InvalidOperation
    return number


def parse_event(raw: Any, received_at: datetime) -> EventDraft | dict[str, list[str]]:
    """A validated draft, or field → [error codes] naming every problem of this event."""
    if not isinstance(raw, Mapping):
        return {"event": ["value_is_invalid"]}
    errors: dict[str, list[str]] = {}
    ids: dict[str, str] = {}
    for name in ("transaction_id", "external_subscription_id", "code"):
        value = raw.get(name)
        if isinstance(value, int) and not isinstance(value, bool):
            value = str(value)  # Lago accepts numeric ids and stores their text
        if value is None or (isinstance(value, str) and not value.strip()):
            errors[name] = ["value_is_mandatory"]
        elif not isinstance(value, str) or len(value) > MAX_ID_LENGTH or "\x00" in value:
            # NUL: PostgreSQL text cannot hold it, and SQLite's JSON functions (the dedup
            # lookup) cut a string there, so a retry would not be recognized: refused on both.
            errors[name] = ["value_is_invalid"]
        else:
            ids[name] = value
    raw_ts = raw.get("timestamp")
    timestamp = received_at if raw_ts is None else parse_timestamp(raw_ts)
    if timestamp is None:
        errors["timestamp"] = ["invalid_format"]
    properties = raw.get("properties")
    if properties is None:
        properties = {}
    elif not isinstance(properties, Mapping):
        errors["properties"] = ["value_is_invalid"]
    amount: Decimal | None = None
    if raw.get("precise_total_amount_cents") is not None:
        try:
            amount = _decimal_amount(raw["precise_total_amount_cents"])
        except InvalidOperation:
            errors["precise_total_amount_cents"] = ["value_is_invalid"]
    if errors:
        return errors
    assert timestamp is not None and isinstance(properties, Mapping)
    properties = dict(properties)
    fingerprint = {
        **ids,
        # The timestamp as sent (not the reception time), so a retried event without one is
        # still recognized as the same event.
        "timestamp": None if raw_ts is None else timestamp.isoformat(),
        "properties": properties,
        "precise_total_amount_cents": amount,
    }
    return EventDraft(
        transaction_id=ids["transaction_id"],
        external_subscription_id=ids["external_subscription_id"],
        code=ids["code"],
        timestamp=timestamp,
        properties=properties,
        precise_total_amount_cents=amount,
        payload_hash=hashlib.sha256(exact_json.canonical(fingerprint).encode()).hexdigest(),
    )
