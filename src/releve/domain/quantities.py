"""Usage quantities: parsing event values into Decimals, unit rounding, exact sums, Unix time.

Shared by expressions, metrics and aggregations so that the same property is read the same way
everywhere (design.md §3: `float` never touches usage).
"""

from __future__ import annotations

import enum
import re
from datetime import UTC, datetime
from decimal import (
    ROUND_CEILING,
    ROUND_FLOOR,
    ROUND_HALF_UP,
    Context,
    Decimal,
    DivisionByZero,
    FloatOperation,
    Inexact,
    InvalidOperation,
    Overflow,
)

from releve.domain.errors import DomainError
from releve.domain.usage import PropertyValue

# Aggregate states are summed across many hourly buckets; with the default 28 digits a large
# sum would round silently and make merge order-dependent. This context has room for any
# realistic usage and raises instead of rounding.
EXACT = Context(
    prec=100,
    traps=[Inexact, InvalidOperation, DivisionByZero, Overflow, FloatOperation],
)

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
# A plain decimal number as JSON or a CSV would carry it: no "NaN", "Infinity", "1_000".
_DECIMAL_TEXT = re.compile(r"[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?")


class RoundingFunction(enum.Enum):
    """Lago's `rounding_function` for aggregated units (and the expression functions)."""

    ROUND = "round"  # half-up, i.e. half away from zero, like Ruby's BigDecimal default
    CEIL = "ceil"
    FLOOR = "floor"

    @property
    def decimal_mode(self) -> str:
        return {
            RoundingFunction.ROUND: ROUND_HALF_UP,
            RoundingFunction.CEIL: ROUND_CEILING,
            RoundingFunction.FLOOR: ROUND_FLOOR,
        }[self]


def to_decimal(value: object, *, field: str) -> Decimal:
    """Read a usage quantity: a Decimal, an int or a numeric string; never a float or a bool.

    Raises `DomainError(code="invalid_value", field=field)` for anything else, including
    NaN and infinities, which no meter can report.
    """
    if isinstance(value, bool):
        number = None
    elif isinstance(value, Decimal):
        number = value
    elif isinstance(value, int):
        number = Decimal(value)
    elif isinstance(value, str) and _DECIMAL_TEXT.fullmatch(value.strip()):
        number = Decimal(value.strip())
    else:
        number = None
    if number is None or not number.is_finite():
        raise DomainError(f"{field} must be a number, got {value!r}", field=field)
    return number


def property_text(value: PropertyValue) -> str | None:
    """A property as the text Lago compares and counts (PostgreSQL `properties->>'key'`).

    Numbers keep their written form ("1.0" stays "1.0"), booleans are "true"/"false", and a
    JSON null is no value at all (None).
    """
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def unix_seconds(moment: datetime) -> Decimal:
    """Exact Unix time in seconds (microseconds kept as decimals) of an aware datetime."""
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError("datetime must be timezone-aware")
    delta = moment - _EPOCH
    seconds = Decimal(delta.days * 86_400 + delta.seconds)
    if delta.microseconds:
        seconds += Decimal(delta.microseconds) / Decimal(1_000_000)
    return seconds


def round_to(value: Decimal, function: RoundingFunction, precision: int = 0) -> Decimal:
    """Round `value` to `precision` decimals; a negative precision rounds to tens, hundreds…

    Exact (only the exponent moves). Integral results come back without an exponent, so
    round(1250, -2) is Decimal('1300'), not Decimal('1.3E+3').
    """
    rounded = (
        value.scaleb(precision, EXACT)
        .to_integral_value(rounding=function.decimal_mode)
        .scaleb(-precision, EXACT)
    )
    if precision <= 0:
        return Decimal(int(rounded))
    return rounded


def canonical(value: Decimal) -> Decimal:
    """The same number without trailing zeros (2.50 → 2.5, 1E+2 → 100), exactly.

    Used where equal numbers must also have one representation, e.g. as keys of a
    persisted multiset, so that a state's JSON does not depend on event order.
    """
    if value == value.to_integral_value():
        return Decimal(int(value))
    sign, digits, exponent = value.as_tuple()
    assert isinstance(exponent, int)  # finite by construction
    kept = list(digits)
    while kept and kept[-1] == 0 and exponent < 0:
        kept.pop()
        exponent += 1
    return Decimal((sign, tuple(kept), exponent))
