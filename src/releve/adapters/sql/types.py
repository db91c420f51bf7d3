"""Column types that keep money exact and time aware on both stores.

Decisions (design.md §3, §4):
- `ExactDecimal`: NUMERIC (arbitrary precision) on PostgreSQL, so SQL can sum it exactly later;
  TEXT on SQLite, whose NUMERIC affinity would silently turn `0.1` into a binary float. Values
  are bound as `Decimal` and always read back as `Decimal`; a float is refused.
- `UtcDateTime`: TIMESTAMP WITH TIME ZONE on PostgreSQL; on SQLite a fixed-width UTC text
  (`2024-01-31T23:59:59.000000Z`) that sorts chronologically. Naive datetimes are refused,
  results are always aware and in UTC.
- `ExactJSON`: JSONB on PostgreSQL (numbers kept as exact numerics), TEXT JSON on SQLite. The
  engine's JSON codec (`releve.services.exact_json`) writes and reads numbers as `Decimal`.
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator, TypeEngine

_SQLITE_WIDTH = 27  # len("2024-01-31T23:59:59.000000Z")


def sqlite_time(value: datetime) -> str:
    """The fixed-width UTC text SQLite stores (`2024-01-31T23:59:59.000000Z`). `isoformat` is
    several times faster than `strftime` (ingest formats two per event) and always writes
    four-digit years; naive datetimes are refused."""
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError("naive datetimes are not allowed; pass an aware datetime")
    if value.tzinfo is not UTC:
        value = value.astimezone(UTC)
    return value.isoformat(timespec="microseconds")[:26] + "Z"  # without "+00:00"


class ExactDecimal(TypeDecorator[Decimal]):
    """A Decimal that never passes through float (NUMERIC on PostgreSQL, TEXT on SQLite)."""

    impl = sa.Numeric
    cache_ok = True

    def load_dialect_impl(self, dialect: Dialect) -> TypeEngine[Any]:
        if dialect.name == "sqlite":
            return dialect.type_descriptor(sa.Text())
        return dialect.type_descriptor(sa.Numeric(asdecimal=True))

    def process_bind_param(self, value: Any, dialect: Dialect) -> Any:
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, Decimal | int):
            raise TypeError(f"ExactDecimal takes Decimal or int, got {type(value).__name__}")
        value = Decimal(value)
        if not value.is_finite():
            raise ValueError("ExactDecimal must be finite")
        return str(value) if dialect.name == "sqlite" else value

    def process_result_value(self, value: Any, dialect: Dialect) -> Decimal | None:
        if value is None:
            return None
        if isinstance(value, float):  # pragma: no cover - a driver misconfiguration
            raise TypeError("a float came back from the database for an exact decimal")
        return value if isinstance(value, Decimal) else Decimal(str(value))


class UtcDateTime(TypeDecorator[datetime]):
    """An aware datetime stored in UTC; naive values are a programming error."""

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def load_dialect_impl(self, dialect: Dialect) -> TypeEngine[Any]:
        if dialect.name == "sqlite":
            return dialect.type_descriptor(sa.String(27))
        return dialect.type_descriptor(sa.DateTime(timezone=True))

    def process_bind_param(self, value: Any, dialect: Dialect) -> Any:
        if value is None:
            return None
        if not isinstance(value, datetime):
            raise TypeError(f"UtcDateTime takes datetime, got {type(value).__name__}")
        if dialect.name == "sqlite":
            return sqlite_time(value)
        if value.tzinfo is None or value.utcoffset() is None:
            raise ValueError("naive datetimes are not allowed; pass an aware datetime")
        return value.astimezone(UTC)

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if isinstance(value, str):
            # Only the fixed-width form we write is accepted; `fromisoformat` parses it 4×
            # faster than `strptime` (40 % of a current-usage read in the profile).
            if len(value) != _SQLITE_WIDTH or value[10] != "T" or value[-1] != "Z":
                raise ValueError(f"not a stored UTC time: {value!r}")
            return datetime.fromisoformat(value)
        if value.tzinfo is None:  # pragma: no cover - TIMESTAMPTZ always carries an offset
            raise ValueError("the database returned a naive datetime")
        return value.astimezone(UTC)


ExactJSON = sa.JSON().with_variant(JSONB(), "postgresql")
"""JSON column: JSONB on PostgreSQL, JSON text on SQLite, numbers as Decimal on both."""
