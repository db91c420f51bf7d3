"""Credit notes: consumption oldest first, estimate maxima, unused-time credits."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from fractions import Fraction

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from releve.domain.credit_notes import (
    CreditableAmounts,
    CreditNoteBalance,
    InvalidCreditNote,
    consume_credit_notes,
    creditable_amounts,
    unused_time_credit,
)
from releve.domain.fee_lines import TaxRate
from releve.domain.money import Currency, Rounding

USD = Currency("USD", 2)
EUR = Currency("EUR", 2)
T0 = datetime(2025, 1, 1, tzinfo=UTC)
VAT20 = TaxRate("vat_20", "VAT", Decimal("20"))
VAT55 = TaxRate("vat_5_5", "VAT", Decimal("5.5"))


def note(id: str, cents: int, day: int, currency: Currency = USD) -> CreditNoteBalance:
    return CreditNoteBalance(id, cents, currency, T0 + timedelta(days=day))


@pytest.mark.parametrize(
    ("due", "expected", "left"),
    [
        (0, [], [100, 200]),
        (50, [("a", 50)], [50, 200]),
        (100, [("a", 100)], [0, 200]),
        (101, [("a", 100), ("b", 1)], [0, 199]),
        (300, [("a", 100), ("b", 200)], [0, 0]),
        (1000, [("a", 100), ("b", 200)], [0, 0]),  # never more than the balances
    ],
)
def test_consumed_oldest_first(due: int, expected: list[tuple[str, int]], left: list[int]) -> None:
    result = consume_credit_notes(due, [note("b", 200, 2), note("a", 100, 1)], USD)
    assert [(c.credit_note_id, c.amount_cents) for c in result.consumptions] == expected
    assert [n.balance_amount_cents for n in result.updated] == left


def test_other_currency_note_is_skipped() -> None:
    result = consume_credit_notes(100, [note("eur", 500, 0, EUR)], USD)
    assert result.amount_cents == 0
    assert result.updated[0].balance_amount_cents == 500


@pytest.mark.parametrize(
    ("kwargs", "expected"),
    [
        # Unpaid invoice of 1000: everything creditable or offsettable, nothing refundable.
        ({"total_amount_cents": 1000}, (1000, 0, 1000)),
        # Paid: refundable up to what was paid; nothing left to offset.
        ({"total_amount_cents": 1000, "paid_amount_cents": 1000}, (1000, 1000, 0)),
        # 300 paid by wallet credits: creditable back, never refunded in cash.
        (
            {
                "total_amount_cents": 700,
                "prepaid_credit_amount_cents": 300,
                "paid_amount_cents": 700,
            },
            (1000, 700, 0),
        ),
        # Earlier notes: 200 credited + 100 refunded → 700 left; refundable 1000 − 100 capped.
        (
            {
                "total_amount_cents": 1000,
                "paid_amount_cents": 1000,
                "credited_amount_cents": 200,
                "refunded_amount_cents": 100,
            },
            (700, 700, 0),
        ),
        # Half paid, 200 already offset: offsettable = 500 unpaid − 200.
        (
            {"total_amount_cents": 1000, "paid_amount_cents": 500, "offset_amount_cents": 200},
            (800, 500, 300),
        ),
        # Fully credited already.
        ({"total_amount_cents": 1000, "credited_amount_cents": 1000}, (0, 0, 0)),
    ],
)
def test_creditable_amounts(kwargs: dict[str, int], expected: tuple[int, int, int]) -> None:
    assert creditable_amounts(**kwargs) == CreditableAmounts(*expected)


def test_creditable_amounts_refuses_overpayment_and_negatives() -> None:
    with pytest.raises(InvalidCreditNote) as err:
        creditable_amounts(total_amount_cents=100, paid_amount_cents=101)
    assert err.value.field == "paid_amount_cents"
    with pytest.raises(InvalidCreditNote) as err:
        creditable_amounts(total_amount_cents=-1)
    assert err.value.field == "total_amount_cents"


def test_unused_time_on_upgrade_with_coupon_and_tax() -> None:
    # Fee $100 (10000), coupon share 1000, 17 of 31 days unused, VAT 20 %.
    # amount = 10000 × 17/31 = 5483.87 → 5484; coupons = 1000 × 17/31 = 548.39 → 548;
    # base 4936; tax 987.2 → 987; total 5923.
    credit = unused_time_credit(
        fee_amount_cents=10000,
        fee_coupons_amount_cents=1000,
        taxes=[VAT20],
        unused_fraction=Fraction(17, 31),
    )
    assert (
        credit.amount_cents,
        credit.coupons_adjustment_amount_cents,
        credit.sub_total_excluding_taxes_amount_cents,
        credit.taxes_amount_cents,
        credit.total_amount_cents,
    ) == (5484, 548, 4936, 987, 5923)


@pytest.mark.parametrize(
    ("fraction", "rounding", "expected_amount"),
    [
        (Fraction(0), Rounding.HALF_UP, 0),
        (Fraction(1), Rounding.HALF_UP, 5),
        (Fraction(1, 2), Rounding.HALF_UP, 3),  # 2.5 → 3
        (Fraction(1, 2), Rounding.HALF_EVEN, 2),  # 2.5 → 2
        (Decimal("0.3"), Rounding.HALF_UP, 2),  # 1.5 → 2
        (Decimal("0.7"), Rounding.HALF_EVEN, 4),  # 3.5 → 4
    ],
)
def test_unused_time_rounding(
    fraction: Fraction | Decimal, rounding: Rounding, expected_amount: int
) -> None:
    credit = unused_time_credit(
        fee_amount_cents=5,
        fee_coupons_amount_cents=0,
        taxes=[],
        unused_fraction=fraction,
        rounding=rounding,
    )
    assert credit.amount_cents == expected_amount


def test_unused_time_two_rates_rounded_each() -> None:
    # base 999: 20 % = 199.8 → 200; 5.5 % = 54.945 → 55.
    credit = unused_time_credit(
        fee_amount_cents=999,
        fee_coupons_amount_cents=0,
        taxes=[VAT20, VAT55],
        unused_fraction=Fraction(1),
    )
    assert credit.taxes_amount_cents == 255
    assert credit.total_amount_cents == 1254


@pytest.mark.parametrize("fraction", [Fraction(-1, 10), Fraction(11, 10)])
def test_unused_fraction_must_be_between_0_and_1(fraction: Fraction) -> None:
    with pytest.raises(InvalidCreditNote) as err:
        unused_time_credit(
            fee_amount_cents=1, fee_coupons_amount_cents=0, taxes=[], unused_fraction=fraction
        )
    assert err.value.field == "unused_fraction"


@settings(max_examples=200, deadline=None)
@given(
    amount=st.integers(0, 10**9),
    coupon_part=st.fractions(0, 1),
    unused=st.fractions(0, 1),
)
def test_unused_time_never_credits_more_than_was_paid(
    amount: int, coupon_part: Fraction, unused: Fraction
) -> None:
    coupons = int(amount * coupon_part)
    credit = unused_time_credit(
        fee_amount_cents=amount,
        fee_coupons_amount_cents=coupons,
        taxes=[VAT20],
        unused_fraction=unused,
    )
    # What the fee cost after its coupon, with its tax, at most.
    paid_base = amount - coupons
    assert 0 <= credit.sub_total_excluding_taxes_amount_cents <= paid_base
    assert credit.coupons_adjustment_amount_cents <= coupons
    assert credit.total_amount_cents == (
        credit.sub_total_excluding_taxes_amount_cents + credit.taxes_amount_cents
    )
