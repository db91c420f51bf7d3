"""True-ups (charge minimum, plan commitment) and prorated charges on recurring metrics."""

from __future__ import annotations

from decimal import Decimal

import pytest

from releve.domain.charge_models.properties import (
    GraduatedProperties,
    StandardProperties,
    VolumeProperties,
)
from releve.domain.charge_models.proration import (
    ProrationNotAllowed,
    UnitHolding,
    price_prorated,
)
from releve.domain.charge_models.tiers import GraduatedRange
from releve.domain.errors import DomainError
from releve.domain.money import Rounding
from releve.domain.pricing import plan_minimum_commitment_true_up, true_up_cents

D = Decimal


@pytest.mark.parametrize(
    ("amount", "minimum", "factor", "expected"),
    [
        (5000, 10000, "1", 5000),  # doc: $50 used, $100 minimum
        (10000, 10000, "1", 0),  # minimum met exactly
        (12000, 10000, "1", 0),  # above the minimum: no negative true-up
        (0, 10000, "0.5", 5000),  # half a period: minimum 50
        (1000, 10000, "0.35483870967741935483870967", 2548),  # 11/31 days: 3548.39 → 3548 − 1000
        (0, 3, "0.5", 2),  # 1.5 → 2 half-up
    ],
)
def test_charge_true_up(amount: int, minimum: int, factor: str, expected: int) -> None:
    assert true_up_cents(amount, minimum, D(factor)) == expected


def test_true_up_rounding_and_factor_checks() -> None:
    assert true_up_cents(0, 3, D("0.5"), Rounding.HALF_EVEN) == 2  # 1.5 → 2 (even)
    assert true_up_cents(0, 5, D("0.5"), Rounding.HALF_EVEN) == 2  # 2.5 → 2 (even)
    with pytest.raises(DomainError) as err:
        true_up_cents(0, 100, D("1.5"))
    assert err.value.code == "invalid_proration_factor"


@pytest.mark.parametrize(
    ("invoiced", "commitment", "factor", "expected"),
    [
        (5000 + 3 * 1000, 10000, "1", 2000),  # PR #1787: $80 → +$20
        (10000, 10000, "1", 0),
        (15000, 10000, "1", 0),
        (2000, 10000, "0.5", 3000),  # half period: 50 − 20
    ],
)
def test_plan_commitment_true_up(
    invoiced: int, commitment: int, factor: str, expected: int
) -> None:
    assert plan_minimum_commitment_true_up(invoiced, commitment, D(factor)) == expected


HALF, ALL = D("0.5"), D(1)


def test_prorated_standard() -> None:
    # 10 seats all period + 4 seats half the period = 12 seat-periods × 2 = 24
    result = price_prorated(
        "standard", StandardProperties(D(2)), [UnitHolding(D(10), ALL), UnitHolding(D(4), HALF)]
    )
    assert (result.full_units, result.prorated_units, result.amount) == (D(14), D(12), D(24))


def test_prorated_volume_uses_the_tier_of_the_full_units_and_keeps_the_flat_fee() -> None:
    props = VolumeProperties(
        (GraduatedRange(D(0), D(10), D(3), D(0)), GraduatedRange(D(11), None, D(2), D(5)))
    )
    # 14 held → tier 11+; prorated 12 × 2 + 5 flat = 29
    result = price_prorated("volume", props, [UnitHolding(D(10), ALL), UnitHolding(D(4), HALF)])
    assert result.amount == D(29)
    assert price_prorated("volume", props, []).amount == 0


def test_prorated_graduated_fills_tiers_in_order_of_addition() -> None:
    props = GraduatedProperties(
        (GraduatedRange(D(0), D(10), D(3), D(1)), GraduatedRange(D(11), None, D(2), D(5)))
    )
    # first 10 held all period in tier 1: 10 × 1 × 3 = 30; next 4 held half in tier 2:
    # 4 × 0.5 × 2 = 4; flats 1 + 5 (not prorated) → 40
    result = price_prorated("graduated", props, [UnitHolding(D(10), ALL), UnitHolding(D(4), HALF)])
    assert result.amount == D(40)
    # 8 held half, then 4 held all: tier 1 gets 8 × 0.5 × 3 = 12 and 2 × 1 × 3 = 6,
    # tier 2 gets 2 × 1 × 2 = 4; flats 6 → 28
    result = price_prorated("graduated", props, [UnitHolding(D(8), HALF), UnitHolding(D(4), ALL)])
    assert result.amount == D(28)


@pytest.mark.parametrize(
    ("model", "in_advance"),
    [("package", False), ("percentage", False), ("graduated", True), ("volume", True)],
)
def test_models_lago_does_not_prorate(model: str, in_advance: bool) -> None:
    with pytest.raises(ProrationNotAllowed) as err:
        price_prorated(model, StandardProperties(D(1)), [], pay_in_advance=in_advance)
    assert err.value.field == "prorated"


def test_standard_can_be_prorated_in_advance() -> None:
    result = price_prorated(
        "standard", StandardProperties(D(3)), [UnitHolding(D(1), HALF)], pay_in_advance=True
    )
    assert result.amount == D("1.5")
