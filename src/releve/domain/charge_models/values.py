"""Reading Lago's JSON numbers exactly, and writing decimals back as plain strings.

Why a module of its own: every charge model reads prices, rates and counts from the same
loosely typed `properties` JSON, and writes them back into `amount_details` and explanations.
One reader means one rule: decimal strings, integers or `Decimal` are accepted; floats, booleans,
NaN and infinities are refused, because a float has already lost the price the operator typed.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from releve.domain.errors import DomainError


class InvalidChargeProperties(DomainError):
    """A charge's `properties` do not describe a valid price (code and field name the input)."""

    code = "invalid_properties"


def read_decimal(raw: object, *, field: str, code: str) -> Decimal:
    """A finite `Decimal` from a decimal string, an int or a Decimal; never from a float."""
    if isinstance(raw, bool | float):
        # bool is an int subclass and a float is already inexact: both are input mistakes.
        raise InvalidChargeProperties(
            f"{field} must be a decimal string or an integer, got {type(raw).__name__}",
            field=field,
            code=code,
        )
    if isinstance(raw, Decimal):
        value = raw
    elif isinstance(raw, int):
        value = Decimal(raw)
    elif isinstance(raw, str):
        try:
            value = Decimal(raw.strip())
        except InvalidOperation:
            raise InvalidChargeProperties(
                f"{field} must be a decimal number, got {raw!r}", field=field, code=code
            ) from None
    else:
        raise InvalidChargeProperties(
            f"{field} must be a decimal string or an integer", field=field, code=code
        )
    if not value.is_finite():
        raise InvalidChargeProperties(f"{field} must be a finite number", field=field, code=code)
    return value


def read_non_negative(raw: object, *, field: str, code: str) -> Decimal:
    """`read_decimal`, refusing negative values (prices, rates and allowances are ≥ 0)."""
    value = read_decimal(raw, field=field, code=code)
    if value < 0:
        raise InvalidChargeProperties(f"{field} must not be negative", field=field, code=code)
    return value


def read_count(raw: object, *, field: str, code: str, minimum: int = 0) -> int:
    """A whole number ≥ `minimum` (package sizes, free units, free events): "100", 100 or 100.0."""
    value = read_decimal(raw, field=field, code=code)
    if value != value.to_integral_value() or value < minimum:
        raise InvalidChargeProperties(
            f"{field} must be a whole number of at least {minimum}", field=field, code=code
        )
    return int(value)


def plain(value: Decimal) -> str:
    """A decimal as a plain string without exponent or trailing zeros: 1E+2 → "100", 0.50 → "0.5".

    Used for `amount_details` and explanations, where "1E+2" would confuse people and clients.
    """
    text = format(value.normalize(), "f")
    return "0" if text in ("-0", "0") else text


READABLE_PLACES = 4


def readable(value: Decimal) -> str:
    """A quantity for a sentence people read: exact when it has at most four decimals, else
    "≈" and the value rounded half-up to four (a time-weighted average such as
    113.13063456748695… GB). The exact value stays in `amount_details`.

    >>> readable(Decimal("12.50")), readable(Decimal("113.1306345674869500"))
    ('12.5', '≈113.1306')
    """
    exponent = value.normalize().as_tuple().exponent
    if isinstance(exponent, int) and exponent >= -READABLE_PLACES:
        return plain(value)
    return "≈" + plain(value.quantize(Decimal(1).scaleb(-READABLE_PLACES), rounding=ROUND_HALF_UP))
