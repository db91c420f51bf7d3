"""Graduated percentage pricing at every tier edge, in USD, EUR, JPY and KWD."""

from __future__ import annotations

from decimal import Decimal

import pytest

from releve.domain.charge_models.properties import GraduatedPercentageProperties
from releve.domain.charge_models.tiers import GraduatedPercentageRange
from releve.domain.money import Currency
from releve.domain.pricing import price
from releve.domain.usage import UsageFacts

USD, EUR, JPY, KWD = (Currency(c, e) for c, e in (("USD", 2), ("EUR", 2), ("JPY", 0), ("KWD", 3)))
D = Decimal


def tiers(*rows: tuple[str, str | None, str, str]) -> GraduatedPercentageProperties:
    return GraduatedPercentageProperties(
        tuple(
            GraduatedPercentageRange(D(f), None if t is None else D(t), D(r), D(x))
            for f, t, r, x in rows
        )
    )


# Lago's doc tiers: 0–1000 @1% + 200; 1001–10000 @2% + 300; 10001+ @3% + 400
DOC = tiers(("0", "1000", "1", "200"), ("1001", "10000", "2", "300"), ("10001", None, "3", "400"))
# 0–100 @1.5%; 101+ @0.5% + 1 flat
EUR_T = tiers(("0", "100", "1.5", "0"), ("101", None, "0.5", "1"))
# 0–10000 @2.5%; 10001+ @1% + 100 flat
JPY_T = tiers(("0", "10000", "2.5", "0"), ("10001", None, "1", "100"))
# 0–1000 @0.75% + 0.5 flat; 1001+ @0.25%
KWD_T = tiers(("0", "1000", "0.75", "0.5"), ("1001", None, "0.25", "0"))


@pytest.mark.parametrize(
    ("props", "cur", "units", "expected"),
    [
        (DOC, USD, "0", 0),  # no usage, no flat fee
        (DOC, USD, "999", 20999),  # 9.99 + 200
        (DOC, USD, "1000", 21000),  # 10 + 200
        (DOC, USD, "1001", 51002),  # 210 + 1 × 2% + 300 = 510.02
        (DOC, USD, "10000", 69000),  # 210 + 9000 × 2% + 300 = 690
        (DOC, USD, "10001", 109003),  # 690 + 0.03 + 400 = 1090.03
        (EUR_T, EUR, "10", 15),  # 0.15
        (EUR_T, EUR, "33.3", 50),  # 0.4995 → 49.95 cents → 50
        (EUR_T, EUR, "100", 150),  # 1.50
        (EUR_T, EUR, "101", 251),  # 1.5 + 0.005 + 1 = 2.505 → 250.5 → 251
        (EUR_T, EUR, "1100", 750),  # 1.5 + 1000 × 0.5% + 1 = 7.50
        (JPY_T, JPY, "100", 3),  # 2.5 → 3
        (JPY_T, JPY, "9999", 250),  # 249.975 → 250
        (JPY_T, JPY, "10000", 250),  # 250
        (JPY_T, JPY, "10001", 350),  # 250 + 0.01 + 100 = 350.01 → 350
        (JPY_T, JPY, "20000", 450),  # 250 + 10000 × 1% + 100
        (KWD_T, KWD, "0", 0),
        (KWD_T, KWD, "1", 508),  # 0.0075 + 0.5 = 0.5075 → 507.5 → 508
        (KWD_T, KWD, "1000", 8000),  # 7.5 + 0.5
        (KWD_T, KWD, "1001", 8003),  # 8 + 0.0025 → 8002.5 → 8003
        (KWD_T, KWD, "2000", 10500),  # 8 + 1000 × 0.25% = 10.5
    ],
)
def test_graduated_percentage_amounts(
    props: GraduatedPercentageProperties, cur: Currency, units: str, expected: int
) -> None:
    assert price("graduated_percentage", props, UsageFacts(D(units)), cur).amount_cents == expected


def test_explanation_and_amount_details() -> None:
    fee = price("graduated_percentage", EUR_T, UsageFacts(D(150)), EUR)
    # 100 × 1.5% = 1.5; 50 × 0.5% = 0.25 + 1 flat → 2.75
    assert fee.amount_cents == 275
    assert fee.explanation == "150 units: 1.5% of 100, 0.5% of 50 + 1 EUR flat = 2.75 EUR"
    assert fee.amount_details()["graduated_percentage_ranges"] == [
        {
            "from_value": "0",
            "to_value": "100",
            "flat_unit_amount": "0",
            "rate": "1.5",
            "units": "100",
            "per_unit_total_amount": "1.5",
            "total_with_flat_amount": "1.5",
        },
        {
            "from_value": "101",
            "to_value": None,
            "flat_unit_amount": "1",
            "rate": "0.5",
            "units": "50",
            "per_unit_total_amount": "0.25",
            "total_with_flat_amount": "1.25",
        },
    ]
