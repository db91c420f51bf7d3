"""Exact money: currencies, integer minor units, one rounding rule, exact splits.

Why integers: an amount that crossed the API or sits on an invoice is a whole number of the
currency's minor unit (cents for EUR, yen for JPY, fils for KWD). Everything before that point —
unit prices, usage, tier maths — is a `Decimal` in *major* units at full precision, and is turned
into minor units exactly once, by `to_minor_units`, at the places design.md §3 names.

The table of currency exponents is not typed here: the domain stays free of third-party
imports, so `Currency` values are built by `releve.adapters.currency_catalog` from CLDR data
(babel) and passed in.
"""

from __future__ import annotations

import enum
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_EVEN, ROUND_HALF_UP, Decimal
from fractions import Fraction

from releve.domain.errors import DomainError


class CurrencyMismatch(DomainError):
    """Two amounts in different currencies were combined."""

    code = "currencies_does_not_match"


@dataclass(frozen=True, slots=True)
class Currency:
    """An ISO 4217 currency: its code and the number of decimals of its minor unit."""

    code: str
    exponent: int

    def __post_init__(self) -> None:
        if len(self.code) != 3 or not self.code.isalpha() or not self.code.isupper():
            raise ValueError(f"currency code must be three upper-case letters, got {self.code!r}")
        if not 0 <= self.exponent <= 4:
            raise ValueError(f"currency exponent must be between 0 and 4, got {self.exponent}")

    @property
    def quantum(self) -> Decimal:
        """The minor unit in major units: Decimal('0.01') for EUR, Decimal('1') for JPY."""
        return Decimal(1).scaleb(-self.exponent)

    def __str__(self) -> str:
        return self.code


class Rounding(enum.Enum):
    """How a precise amount becomes minor units. Half-up is the default (design.md §3)."""

    HALF_UP = "half_up"
    HALF_EVEN = "half_even"

    @property
    def decimal_mode(self) -> str:
        return ROUND_HALF_UP if self is Rounding.HALF_UP else ROUND_HALF_EVEN


def to_minor_units(
    amount: Decimal, currency: Currency, rounding: Rounding = Rounding.HALF_UP
) -> int:
    """Round a precise amount in major units to an integer of minor units.

    >>> to_minor_units(Decimal("4.985"), Currency("EUR", 2))
    499
    >>> to_minor_units(Decimal("4.985"), Currency("EUR", 2), Rounding.HALF_EVEN)
    498
    """
    if not isinstance(amount, Decimal):
        raise TypeError(f"amount must be a Decimal, got {type(amount).__name__}")
    return int(
        amount.scaleb(currency.exponent).quantize(Decimal(1), rounding=rounding.decimal_mode)
    )


def round_fraction(value: Fraction | int, rounding: Rounding = Rounding.HALF_UP) -> int:
    """Round an exact rational number of minor units to an integer, once.

    Proration factors are Fractions (22/31 has no exact decimal form), so `cents × factor` is
    rounded here without passing through a Decimal division that could round first. Half-up
    rounds halves away from zero, symmetrically for negative values, as `to_minor_units` does.

    >>> round_fraction(Fraction(5000 * 22, 31))
    3548
    >>> round_fraction(Fraction(-5, 2)), round_fraction(Fraction(5, 2), Rounding.HALF_EVEN)
    (-3, 2)
    """
    value = Fraction(value)
    if value < 0:
        return -round_fraction(-value, rounding)
    whole, rest = divmod(value.numerator, value.denominator)
    twice_rest = 2 * rest
    if twice_rest > value.denominator or (
        twice_rest == value.denominator and (rounding is Rounding.HALF_UP or whole % 2 == 1)
    ):
        return whole + 1
    return whole


def minor_to_major(minor: int, currency: Currency) -> Decimal:
    """Minor units as an exact Decimal in major units: 1234 EUR cents → Decimal('12.34')."""
    return Decimal(minor).scaleb(-currency.exponent)


@dataclass(frozen=True, slots=True, order=False)
class Money:
    """An exact amount: an integer number of the currency's minor unit.

    Arithmetic between different currencies raises `CurrencyMismatch` rather than guessing.
    """

    minor: int
    currency: Currency

    def __post_init__(self) -> None:
        if not isinstance(self.minor, int) or isinstance(self.minor, bool):
            raise TypeError(f"Money.minor must be an int, got {type(self.minor).__name__}")

    @classmethod
    def zero(cls, currency: Currency) -> Money:
        return cls(0, currency)

    @classmethod
    def from_major(
        cls, amount: Decimal, currency: Currency, rounding: Rounding = Rounding.HALF_UP
    ) -> Money:
        """Round a precise major-unit amount once to minor units."""
        return cls(to_minor_units(amount, currency, rounding), currency)

    @property
    def major(self) -> Decimal:
        """The exact amount in major units (Decimal('12.34') for 1234 cents)."""
        return minor_to_major(self.minor, self.currency)

    def _same(self, other: Money) -> None:
        if self.currency != other.currency:
            raise CurrencyMismatch(
                f"cannot combine {self.currency.code} and {other.currency.code} amounts"
            )

    def __add__(self, other: Money) -> Money:
        self._same(other)
        return Money(self.minor + other.minor, self.currency)

    def __sub__(self, other: Money) -> Money:
        self._same(other)
        return Money(self.minor - other.minor, self.currency)

    def __neg__(self) -> Money:
        return Money(-self.minor, self.currency)

    def __lt__(self, other: Money) -> bool:
        self._same(other)
        return self.minor < other.minor

    def __le__(self, other: Money) -> bool:
        self._same(other)
        return self.minor <= other.minor

    def __gt__(self, other: Money) -> bool:
        self._same(other)
        return self.minor > other.minor

    def __ge__(self, other: Money) -> bool:
        self._same(other)
        return self.minor >= other.minor

    def __bool__(self) -> bool:
        return self.minor != 0

    def __str__(self) -> str:
        return f"{self.major} {self.currency.code}"


def allocate(total: int, weights: Sequence[Decimal | int]) -> list[int]:
    """Split an integer `total` (minor units) in proportion to `weights`, exactly.

    Largest-remainder method: each part gets the floor of its exact share, then the units left
    over go one by one to the parts with the largest fractional remainders (ties to the earlier
    part), so the parts always sum to `total`. Negative totals are split symmetrically.
    When every weight is zero the total is split evenly.

    >>> allocate(100, [1, 1, 1])
    [34, 33, 33]
    >>> allocate(-5, [Decimal("0.5"), Decimal("0.5")])
    [-3, -2]
    """
    if not weights:
        if total != 0:
            raise ValueError("cannot allocate a non-zero total over no parts")
        return []
    ws = [Decimal(w) if isinstance(w, int) else w for w in weights]
    if any(not isinstance(w, Decimal) for w in ws):
        raise TypeError("weights must be Decimal or int")
    if any(w < 0 or not w.is_finite() for w in ws):
        raise ValueError("weights must be finite and not negative")
    if isinstance(total, bool) or not isinstance(total, int):
        raise TypeError("total must be an int (minor units)")
    if total == 0:  # every share is exactly 0 (most invoices: nothing to spread)
        return [0] * len(ws)
    if total < 0:
        return [-part for part in allocate(-total, ws)]
    # Fractions keep every share exact whatever the weights' precision.
    exact = [Fraction(w) for w in ws]
    weight_sum = sum(exact, Fraction(0))
    if weight_sum == 0:
        exact = [Fraction(1)] * len(ws)
        weight_sum = Fraction(len(ws))
    shares = [total * w / weight_sum for w in exact]
    parts = [int(s) for s in shares]  # floor: shares are non-negative
    leftover = total - sum(parts)
    by_remainder = sorted(range(len(ws)), key=lambda i: (-(shares[i] - parts[i]), i))
    for i in by_remainder[:leftover]:
        parts[i] += 1
    return parts
