"""Taxes: once per rate on the invoice, never compounded, allocated exactly per fee."""

from __future__ import annotations

from decimal import Decimal

import pytest

from releve.domain.fee_lines import FeeLine, FeeType, InvalidFeeLine, TaxRate
from releve.domain.money import Currency, Rounding
from releve.domain.taxes import compute_taxes, effective_taxes_rate

EUR = Currency("EUR", 2)
VAT20 = TaxRate("vat_20", "VAT", Decimal("20"))
LOCAL = TaxRate("local_2_5", "Local", Decimal("2.5"))


def fee(id: str, amount: int, *taxes: TaxRate) -> FeeLine:
    return FeeLine(id, FeeType.CHARGE, amount, EUR, taxes=taxes)


def test_two_taxes_on_one_fee_are_not_compounded() -> None:
    # 1000 × 20 % = 200 and 1000 × 2.5 % = 25 (not 1200 × 2.5 %).
    fees = [fee("a", 1000, VAT20, LOCAL)]
    result = compute_taxes(fees, {"a": 1000})
    assert [(t.tax_code, t.base_amount_cents, t.amount_cents) for t in result.applied_taxes] == [
        ("vat_20", 1000, 200),
        ("local_2_5", 1000, 25),
    ]
    assert result.fee_taxes == {"a": {"vat_20": 200, "local_2_5": 25}}
    assert result.amount_cents == 225


def test_tax_is_on_the_base_after_discounts_not_the_fee_amount() -> None:
    # Fee 1000 discounted to 800: 800 × 20 % = 160.
    result = compute_taxes([fee("a", 1000, VAT20)], {"a": 800})
    assert result.amount_cents == 160


@pytest.mark.parametrize(
    ("bases", "rate", "mode", "expected"),
    [
        ((3, 3, 3), "25", Rounding.HALF_UP, 2),  # 9 × 25 % = 2.25 → 2 (per fee: 0.75 → 1 × 3)
        ((1, 1), "25", Rounding.HALF_UP, 1),  # 0.5 → 1
        ((1, 1), "25", Rounding.HALF_EVEN, 0),  # 0.5 → 0 (even)
        ((3,), "50", Rounding.HALF_EVEN, 2),  # 1.5 → 2 (even)
        ((0, 0), "20", Rounding.HALF_UP, 0),
        ((1234,), "5.5", Rounding.HALF_UP, 68),  # 67.87 → 68
    ],
)
def test_rounded_once_per_rate(
    bases: tuple[int, ...], rate: str, mode: Rounding, expected: int
) -> None:
    tax = TaxRate("t", "T", Decimal(rate))
    fees = [fee(f"f{i}", b, tax) for i, b in enumerate(bases)]
    result = compute_taxes(fees, {f.id: f.amount_cents for f in fees}, mode)
    assert result.amount_cents == expected
    assert sum(result.fee_amount_cents(f.id) for f in fees) == expected


def test_zero_base_tax_is_listed_with_zero_amount() -> None:
    result = compute_taxes([fee("a", 0, VAT20)], {"a": 0})
    assert [(t.tax_code, t.amount_cents) for t in result.applied_taxes] == [("vat_20", 0)]


def test_same_code_with_different_rates_is_refused() -> None:
    other = TaxRate("vat_20", "VAT", Decimal("19"))
    with pytest.raises(InvalidFeeLine) as err:
        compute_taxes([fee("a", 1, VAT20), fee("b", 1, other)], {"a": 1, "b": 1})
    assert err.value.field == "taxes"


@pytest.mark.parametrize(
    ("taxes", "subtotal", "expected"),
    [
        (302, 2733, "11.05013"),  # 11.0501280…
        (1, 3, "33.33333"),
        (2, 3, "66.66667"),
        (0, 0, "0.00000"),
        (200, 1000, "20.00000"),
    ],
)
def test_effective_taxes_rate(taxes: int, subtotal: int, expected: str) -> None:
    assert effective_taxes_rate(taxes, subtotal) == Decimal(expected)


@pytest.mark.parametrize("rate", ["-0.01", "100.01"])
def test_tax_rate_is_a_percentage(rate: str) -> None:
    with pytest.raises(InvalidFeeLine) as err:
        TaxRate("t", "T", Decimal(rate))
    assert err.value.field == "rate"


def test_credit_purchase_cannot_carry_taxes() -> None:
    with pytest.raises(InvalidFeeLine) as err:
        FeeLine("c", FeeType.CREDIT, 100, EUR, taxes=(VAT20,))
    assert err.value.field == "taxes"


def test_negative_fee_is_refused() -> None:
    with pytest.raises(InvalidFeeLine) as err:
        FeeLine("c", FeeType.CHARGE, -1, EUR)
    assert err.value.field == "amount_cents"
