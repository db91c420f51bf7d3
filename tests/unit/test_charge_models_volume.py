"""Volume pricing: the tier holding U prices every unit; edges on both sides of each cliff."""

from __future__ import annotations

from decimal import Decimal

import pytest

from releve.domain.charge_models.properties import VolumeProperties
from releve.domain.charge_models.tiers import GraduatedRange
from releve.domain.errors import DomainError
from releve.domain.money import Currency
from releve.domain.pricing import price, price_in_advance
from releve.domain.usage import UsageFacts

USD, EUR, JPY, KWD = (Currency(c, e) for c, e in (("USD", 2), ("EUR", 2), ("JPY", 0), ("KWD", 3)))
D = Decimal


def tiers(*rows: tuple[str, str | None, str, str]) -> VolumeProperties:
    return VolumeProperties(
        tuple(GraduatedRange(D(f), None if t is None else D(t), D(p), D(x)) for f, t, p, x in rows)
    )


DOC = tiers(
    ("0", "10000", "0.001", "10"),
    ("10001", "50000", "0.0008", "10"),
    ("50001", "100000", "0.0006", "10"),
    ("100001", None, "0.0004", "10"),
)
EUR_T = tiers(("0", "100", "1", "0"), ("101", None, "0.8", "5"))
JPY_T = tiers(("0", "10", "100", "0"), ("10", "20", "90", "0"), ("20", None, "80", "50"))
KWD_T = tiers(("0", "1000", "0.001", "0.25"), ("1001", None, "0.0005", "0.25"))


@pytest.mark.parametrize(
    ("props", "cur", "units", "expected"),
    [
        (DOC, USD, "0", 0),  # no usage: no flat fee either
        (DOC, USD, "9999", 2000),  # 9.999 + 10 = 19.999 → 20.00
        (DOC, USD, "10000", 2000),  # 10 + 10
        (DOC, USD, "10000.5", 1800),  # ceil = 10001 → tier 2: 8.0004 + 10 → 18.00
        (DOC, USD, "10001", 1800),  # 8.0008 + 10 → 18.00
        (DOC, USD, "50000", 5000),  # 40 + 10
        (DOC, USD, "50001", 4000),  # 30.0006 + 10 → 40.00
        (DOC, USD, "100001", 5000),  # 40.0004 + 10 → 50.00
        (EUR_T, EUR, "1", 100),  # 1 × 1
        (EUR_T, EUR, "99", 9900),
        (EUR_T, EUR, "100", 10000),
        (EUR_T, EUR, "101", 8580),  # 101 × 0.8 + 5 = 85.80
        (EUR_T, EUR, "250.5", 20540),  # 200.4 + 5 = 205.40
        (JPY_T, JPY, "10", 1000),  # adjacent: 10 stays in the first tier
        (JPY_T, JPY, "10.5", 945),  # 10.5 × 90
        (JPY_T, JPY, "20", 1800),  # 20 × 90
        (JPY_T, JPY, "20.01", 1651),  # 20.01 × 80 + 50 = 1650.8 → 1651
        (JPY_T, JPY, "30", 2450),  # 2400 + 50
        (KWD_T, KWD, "1", 251),  # 0.001 + 0.25
        (KWD_T, KWD, "999", 1249),  # 0.999 + 0.25
        (KWD_T, KWD, "1000", 1250),  # 1 + 0.25
        (KWD_T, KWD, "1001", 751),  # 0.5005 + 0.25 = 0.7505 → 750.5 → 751
        (KWD_T, KWD, "4000", 2250),  # 2 + 0.25
    ],
)
def test_volume_amounts(props: VolumeProperties, cur: Currency, units: str, expected: int) -> None:
    assert price("volume", props, UsageFacts(D(units)), cur).amount_cents == expected


def test_decimal_classic_bounds_still_find_a_tier() -> None:
    # to 100.5 then from 101.5: Lago's ceil test matches no tier for 100.7; (100.5, ∞) holds it
    props = tiers(("0", "100.5", "1", "0"), ("101.5", None, "0.5", "0"))
    assert price("volume", props, UsageFacts(D("100.7")), EUR).amount_cents == 5035  # 50.35


def test_volume_zero_usage_explanation() -> None:
    fee = price("volume", EUR_T, UsageFacts(D(0)), EUR)
    assert fee.explanation == "No usage (0 units): 0.00 EUR"
    assert fee.amount_details() == {
        "flat_unit_amount": "0",
        "per_unit_amount": "0",
        "per_unit_total_amount": "0",
    }


def test_volume_cannot_be_paid_in_advance() -> None:
    with pytest.raises(DomainError) as err:
        price_in_advance("volume", EUR_T, UsageFacts(D(0)), UsageFacts(D(1)), EUR)
    assert err.value.code == "invalid_pay_in_advance"
    assert err.value.field == "pay_in_advance"
