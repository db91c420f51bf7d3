"""Money: minor units, one rounding rule, exact allocation."""

from __future__ import annotations

from decimal import Decimal, FloatOperation
from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st

from releve.adapters.currency_catalog import UnknownCurrency, all_currencies, currency
from releve.domain.money import (
    Currency,
    CurrencyMismatch,
    Money,
    Rounding,
    allocate,
    minor_to_major,
    round_fraction,
    to_minor_units,
)

EUR = Currency("EUR", 2)
JPY = Currency("JPY", 0)
KWD = Currency("KWD", 3)


@pytest.mark.parametrize(
    ("code", "exponent"),
    [
        ("EUR", 2),
        ("USD", 2),
        ("JPY", 0),
        ("KRW", 0),
        ("KWD", 3),
        ("BHD", 3),
        ("TND", 3),
        ("CLP", 0),
        ("GBP", 2),
    ],
)
def test_catalog_exponents_come_from_cldr(code: str, exponent: int) -> None:
    assert currency(code) == Currency(code, exponent)


def test_catalog_normalizes_case_and_rejects_unknown_codes() -> None:
    assert currency("eur") == EUR
    with pytest.raises(UnknownCurrency) as err:
        currency("XYZ")
    assert err.value.field == "currency"
    assert len(all_currencies()) > 150


@pytest.mark.parametrize(
    ("amount", "cur", "mode", "expected"),
    [
        ("4.985", EUR, Rounding.HALF_UP, 499),
        ("4.985", EUR, Rounding.HALF_EVEN, 498),
        ("4.975", EUR, Rounding.HALF_EVEN, 498),
        ("4.984999", EUR, Rounding.HALF_UP, 498),
        ("-4.985", EUR, Rounding.HALF_UP, -499),  # half away from zero, symmetric
        ("0.005", EUR, Rounding.HALF_UP, 1),
        ("0.0049", EUR, Rounding.HALF_UP, 0),
        ("1234.5", JPY, Rounding.HALF_UP, 1235),
        ("1234.5", JPY, Rounding.HALF_EVEN, 1234),
        ("1.2345", KWD, Rounding.HALF_UP, 1235),
        ("1.2344", KWD, Rounding.HALF_UP, 1234),
        ("155", EUR, Rounding.HALF_UP, 15500),
    ],
)
def test_to_minor_units_rounds_once(
    amount: str, cur: Currency, mode: Rounding, expected: int
) -> None:
    assert to_minor_units(Decimal(amount), cur, mode) == expected


def test_to_minor_units_refuses_floats() -> None:
    with pytest.raises(TypeError):
        to_minor_units(4.985, EUR)  # type: ignore[arg-type]


def test_float_operation_trap_is_on() -> None:
    with pytest.raises(FloatOperation):
        Decimal(0.1)  # noqa: RUF032 — the float is the point: the trap must catch it


def test_money_arithmetic_and_currency_guard() -> None:
    a = Money(1050, EUR)
    b = Money(-50, EUR)
    assert a + b == Money(1000, EUR)
    assert a - b == Money(1100, EUR)
    assert -a == Money(-1050, EUR)
    assert a.major == Decimal("10.50")
    assert Money(1500, JPY).major == Decimal("1500")
    assert Money(1234, KWD).major == Decimal("1.234")
    assert b < a and a >= a and not Money.zero(EUR)
    with pytest.raises(CurrencyMismatch):
        _ = a + Money(1, JPY)
    with pytest.raises(CurrencyMismatch):
        _ = a < Money(1, JPY)
    with pytest.raises(TypeError):
        Money(1.5, EUR)  # type: ignore[arg-type]


def test_from_major_and_minor_to_major_round_trip() -> None:
    assert Money.from_major(Decimal("35.4838"), EUR) == Money(3548, EUR)
    assert minor_to_major(3548, EUR) == Decimal("35.48")


def test_currency_validates_its_shape() -> None:
    with pytest.raises(ValueError):
        Currency("eur", 2)
    with pytest.raises(ValueError):
        Currency("EUR", 7)
    assert EUR.quantum == Decimal("0.01") and JPY.quantum == Decimal("1")


@pytest.mark.parametrize(
    ("total", "weights", "expected"),
    [
        (100, [1, 1, 1], [34, 33, 33]),
        (1000, [Decimal("7000"), Decimal("3000")], [700, 300]),
        (1, [1, 1], [1, 0]),
        (-5, [Decimal("0.5"), Decimal("0.5")], [-3, -2]),
        (10, [0, 0], [5, 5]),
        (7, [0, 3], [0, 7]),
        (0, [1, 2], [0, 0]),
        (1000, [Decimal("1") / Decimal("3")] * 3, [334, 333, 333]),
    ],
)
def test_allocate_table(total: int, weights: list[Decimal | int], expected: list[int]) -> None:
    assert allocate(total, weights) == expected


def test_allocate_rejects_bad_weights() -> None:
    with pytest.raises(ValueError):
        allocate(5, [Decimal(-1), Decimal(2)])
    with pytest.raises(ValueError):
        allocate(5, [])
    assert allocate(0, []) == []


@given(
    total=st.integers(min_value=-(10**12), max_value=10**12),
    weights=st.lists(
        st.decimals(min_value=0, max_value=10**9, places=6, allow_nan=False, allow_infinity=False),
        min_size=1,
        max_size=30,
    ),
)
def test_allocation_parts_sum_to_the_whole_and_stay_close_to_exact(
    total: int, weights: list[Decimal]
) -> None:
    parts = allocate(total, weights)
    assert sum(parts) == total
    weight_sum = sum(weights, Decimal(0))
    if weight_sum:
        for part, w in zip(parts, weights, strict=True):
            exact = Decimal(total) * w / weight_sum
            assert abs(Decimal(part) - exact) < 1 + Decimal("1e-9")


@given(
    st.decimals(
        min_value=-(10**9), max_value=10**9, places=8, allow_nan=False, allow_infinity=False
    )
)
def test_rounding_error_is_at_most_half_a_minor_unit(amount: Decimal) -> None:
    for mode in Rounding:
        minor = to_minor_units(amount, EUR, mode)
        assert abs(Decimal(minor) / 100 - amount) <= Decimal("0.005")


@pytest.mark.parametrize(
    ("value", "mode", "expected"),
    [
        (Fraction(5000 * 22, 31), Rounding.HALF_UP, 3548),  # 3548.387… → 3548
        (Fraction(5, 2), Rounding.HALF_UP, 3),
        (Fraction(5, 2), Rounding.HALF_EVEN, 2),
        (Fraction(7, 2), Rounding.HALF_EVEN, 4),
        (Fraction(-5, 2), Rounding.HALF_UP, -3),
        (Fraction(-5, 2), Rounding.HALF_EVEN, -2),
        (Fraction(1, 3), Rounding.HALF_UP, 0),
        (Fraction(2, 3), Rounding.HALF_UP, 1),
        (7, Rounding.HALF_UP, 7),
    ],
)
def test_round_fraction_table(value: Fraction, mode: Rounding, expected: int) -> None:
    assert round_fraction(value, mode) == expected


@given(
    st.decimals(
        min_value=-(10**9), max_value=10**9, places=6, allow_nan=False, allow_infinity=False
    )
)
def test_round_fraction_agrees_with_decimal_rounding(amount: Decimal) -> None:
    # The same value as a Fraction of cents and as a Decimal of euros rounds to the same cents.
    for mode in Rounding:
        assert round_fraction(Fraction(amount) * 100, mode) == to_minor_units(amount, EUR, mode)
