"""Graduated pricing at every tier edge, classic and adjacent tiers, in EUR, JPY and KWD."""

from __future__ import annotations

from decimal import Decimal

import pytest

from releve.domain.charge_models.graduated import GraduatedBreakdown
from releve.domain.charge_models.properties import GraduatedProperties
from releve.domain.charge_models.tiers import GraduatedRange
from releve.domain.money import Currency
from releve.domain.pricing import price
from releve.domain.usage import UsageFacts

EUR, JPY, KWD = Currency("EUR", 2), Currency("JPY", 0), Currency("KWD", 3)
D = Decimal


def tiers(*rows: tuple[str, str | None, str, str]) -> GraduatedProperties:
    return GraduatedProperties(
        tuple(GraduatedRange(D(f), None if t is None else D(t), D(p), D(x)) for f, t, p, x in rows)
    )


# classic: 0–100 @0.10, 101–200 @0.05 + 1 flat, 201+ @0.02 + 2 flat
EUR_CLASSIC = tiers(
    ("0", "100", "0.10", "0"), ("101", "200", "0.05", "1"), ("201", None, "0.02", "2")
)
# adjacent decimal tiers: 0–10 @1, 10–20 @0.5 + 2 flat, 20+ @0.25
EUR_ADJACENT = tiers(("0", "10", "1", "0"), ("10", "20", "0.5", "2"), ("20", None, "0.25", "0"))
# 0–100 @3, 101–200 @2 + 50 flat, 201+ @1
JPY_CLASSIC = tiers(("0", "100", "3", "0"), ("101", "200", "2", "50"), ("201", None, "1", "0"))
# 0–100 @0.005 + 0.1 flat, 101+ @0.0025
KWD_CLASSIC = tiers(("0", "100", "0.005", "0.1"), ("101", None, "0.0025", "0"))


@pytest.mark.parametrize(
    ("props", "cur", "units", "expected"),
    [
        (EUR_CLASSIC, EUR, "0", 0),  # nothing used: no tier entered, no flat fee
        (EUR_CLASSIC, EUR, "1", 10),  # 1 × 0.10
        (EUR_CLASSIC, EUR, "99", 990),  # 99 × 0.10 = 9.90
        (EUR_CLASSIC, EUR, "100", 1000),  # 100 × 0.10 = 10
        (EUR_CLASSIC, EUR, "101", 1105),  # 10 + 1 × 0.05 + 1 = 11.05
        (EUR_CLASSIC, EUR, "100.5", 1103),  # 10 + 0.5 × 0.05 + 1 = 11.025 → 1102.5 → 1103
        (EUR_CLASSIC, EUR, "199", 1595),  # 10 + 99 × 0.05 + 1 = 15.95
        (EUR_CLASSIC, EUR, "200", 1600),  # 10 + 5 + 1 = 16
        (EUR_CLASSIC, EUR, "201", 1802),  # 16 + 0.02 + 2 = 18.02
        (EUR_ADJACENT, EUR, "9", 900),  # 9 × 1
        (EUR_ADJACENT, EUR, "10", 1000),  # boundary belongs to the lower tier: 10 × 1
        (EUR_ADJACENT, EUR, "10.5", 1225),  # 10 + 0.5 × 0.5 + 2 = 12.25
        (EUR_ADJACENT, EUR, "20", 1700),  # 10 + 10 × 0.5 + 2 = 17
        (EUR_ADJACENT, EUR, "20.1", 1703),  # 17 + 0.1 × 0.25 = 17.025 → 1703
        (JPY_CLASSIC, JPY, "0.5", 2),  # 1.5 → 2
        (JPY_CLASSIC, JPY, "99", 297),  # 99 × 3
        (JPY_CLASSIC, JPY, "100", 300),  # 100 × 3
        (JPY_CLASSIC, JPY, "101", 352),  # 300 + 2 + 50
        (JPY_CLASSIC, JPY, "200", 550),  # 300 + 200 + 50
        (JPY_CLASSIC, JPY, "201", 551),  # 550 + 1
        (KWD_CLASSIC, KWD, "0", 0),  # nothing used
        (KWD_CLASSIC, KWD, "1", 105),  # 0.005 + 0.1 = 0.105
        (KWD_CLASSIC, KWD, "100", 600),  # 0.5 + 0.1 = 0.6
        (KWD_CLASSIC, KWD, "101", 603),  # 0.6 + 0.0025 = 0.6025 → 602.5 → 603
        (KWD_CLASSIC, KWD, "300", 1100),  # 0.6 + 200 × 0.0025 = 1.1
    ],
)
def test_graduated_amounts(
    props: GraduatedProperties, cur: Currency, units: str, expected: int
) -> None:
    fee = price("graduated", props, UsageFacts(D(units)), cur)
    assert fee.amount_cents == expected
    assert isinstance(fee.breakdown, GraduatedBreakdown)
    assert sum((t.units for t in fee.breakdown.tiers), D(0)) == D(units)


def test_explanation_names_free_and_paid_tiers() -> None:
    props = tiers(("0", "10", "0", "0"), ("11", "100", "0.05", "0"), ("101", None, "0.02", "0"))
    fee = price("graduated", props, UsageFacts(D(124)), EUR)
    # 10 free + 90 × 0.05 (4.50) + 24 × 0.02 (0.48) = 4.98
    assert fee.explanation == "124 units: 10 free, 90 × 0.05 EUR, 24 × 0.02 EUR = 4.98 EUR"


def test_flat_fee_and_amount_details() -> None:
    fee = price("graduated", EUR_CLASSIC, UsageFacts(D(150)), EUR)
    # 100 × 0.10 = 10; 50 × 0.05 = 2.5 + 1 flat = 3.5 → 13.50
    assert fee.amount_cents == 1350
    assert fee.explanation == "150 units: 100 × 0.1 EUR, 50 × 0.05 EUR + 1 EUR flat = 13.50 EUR"
    assert fee.amount_details() == {
        "graduated_ranges": [
            {
                "from_value": "0",
                "to_value": "100",
                "flat_unit_amount": "0",
                "per_unit_amount": "0.1",
                "units": "100",
                "per_unit_total_amount": "10",
                "total_with_flat_amount": "10",
            },
            {
                "from_value": "101",
                "to_value": "200",
                "flat_unit_amount": "1",
                "per_unit_amount": "0.05",
                "units": "50",
                "per_unit_total_amount": "2.5",
                "total_with_flat_amount": "3.5",
            },
        ]
    }


def test_first_tier_flat_fee_is_not_billed_without_usage() -> None:
    props = tiers(("0", None, "1", "5"))
    assert price("graduated", props, UsageFacts(D(0)), EUR).amount_cents == 0
    # the first fraction of a unit enters the tier: 0.01 × 1 + 5 = 5.01
    assert price("graduated", props, UsageFacts(D("0.01")), EUR).amount_cents == 501
