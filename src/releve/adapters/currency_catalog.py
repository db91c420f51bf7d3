"""ISO 4217 currencies from CLDR (babel), so the exponent table is maintained upstream.

The domain's `Currency` is a plain value; this adapter is the one place that knows where the
list of currencies and their minor-unit exponents come from.
"""

from __future__ import annotations

from functools import cache

from babel.numbers import get_currency_precision, list_currencies

from releve.domain.errors import DomainError
from releve.domain.money import Currency


class UnknownCurrency(DomainError):
    code = "value_is_invalid"


@cache
def _codes() -> frozenset[str]:
    return frozenset(c for c in list_currencies() if len(c) == 3 and c.isalpha() and c.isupper())


@cache
def currency(code: str) -> Currency:
    """The `Currency` for an ISO 4217 code, e.g. currency("JPY") → Currency("JPY", 0).

    Raises `UnknownCurrency` (code `value_is_invalid`) for anything CLDR does not know.
    """
    normalized = code.strip().upper() if isinstance(code, str) else ""
    if normalized not in _codes():
        raise UnknownCurrency(f"unknown ISO 4217 currency {code!r}", field="currency")
    return Currency(normalized, get_currency_precision(normalized))


def all_currencies() -> list[Currency]:
    """Every currency CLDR lists, sorted by code."""
    return [currency(c) for c in sorted(_codes())]
