"""Standard pricing: U × amount, rounded once, in EUR, JPY and KWD."""

from __future__ import annotations

from decimal import Decimal

import pytest

from releve.domain.charge_models.properties import StandardProperties
from releve.domain.money import Currency, Rounding
from releve.domain.pricing import price
from releve.domain.usage import UsageFacts

EUR, JPY, KWD = Currency("EUR", 2), Currency("JPY", 0), Currency("KWD", 3)
D = Decimal


@pytest.mark.parametrize(
    ("cur", "amount", "units", "expected"),
    [
        (EUR, "0.05", "0", 0),  # no usage
        (EUR, "0.05", "1", 5),  # 0.05
        (EUR, "0.05", "3", 15),  # 0.15
        (EUR, "0.05", "124", 620),  # 6.20
        (EUR, "0.05", "0.3", 2),  # 0.015 → 1.5 cents → 2 (half-up)
        (EUR, "0.0333", "7", 23),  # 0.2331 → 23.31 cents → 23
        (JPY, "2.5", "1", 3),  # 2.5 → 3
        (JPY, "2.5", "3", 8),  # 7.5 → 8
        (JPY, "2.5", "4", 10),  # 10
        (JPY, "2.5", "1000", 2500),  # 2500
        (JPY, "2.5", "0.2", 1),  # 0.5 → 1
        (KWD, "0.0125", "1", 13),  # 0.0125 → 12.5 fils → 13
        (KWD, "0.0125", "2", 25),  # 0.025
        (KWD, "0.0125", "3", 38),  # 0.0375 → 37.5 → 38
        (KWD, "0.0125", "80", 1000),  # 1.000
        (KWD, "0.0125", "1234", 15425),  # 15.425
    ],
)
def test_standard_amounts(cur: Currency, amount: str, units: str, expected: int) -> None:
    fee = price("standard", StandardProperties(D(amount)), UsageFacts(D(units)), cur)
    assert fee.amount == D(units) * D(amount)
    assert fee.amount_cents == expected


def test_half_even_rounding_is_an_option() -> None:
    # 1 × 2.5 JPY = 2.5 → 2 with half-even (3 with half-up above)
    fee = price("standard", StandardProperties(D("2.5")), UsageFacts(D(1)), JPY, Rounding.HALF_EVEN)
    assert fee.amount_cents == 2


@pytest.mark.parametrize(
    ("units", "cur", "text"),
    [
        ("0", EUR, "No usage (0 units): 0.00 EUR"),
        ("1", JPY, "1 unit: 1 × 2.5 JPY = 3 JPY"),
        ("80", KWD, "80 units: 80 × 2.5 KWD = 200.000 KWD"),
    ],
)
def test_standard_explanations(units: str, cur: Currency, text: str) -> None:
    fee = price("standard", StandardProperties(D("2.5")), UsageFacts(D(units)), cur)
    assert fee.explanation == text


def test_negative_usage_bills_nothing() -> None:
    # a sum of refunds (−3 units) is not a credit: credit notes do that
    fee = price("standard", StandardProperties(D("1")), UsageFacts(D(-3)), EUR)
    assert (fee.amount, fee.amount_cents, fee.units) == (D(0), 0, D(0))


def test_explanation_rounds_long_averages_for_people_but_amount_details_stay_exact() -> None:
    from releve.domain.charge_models.values import readable

    # A time-weighted average: 113.1306345674869500 GB at 1 EUR → 113.13 EUR.
    units = Decimal("113.1306345674869500")
    assert readable(units) == "≈113.1306"
    assert readable(Decimal("12.5000")) == "12.5"
    assert readable(Decimal("0.00005")) == "≈0.0001"  # half-up at the fourth decimal
