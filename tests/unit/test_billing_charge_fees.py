"""Charge fees: buckets per filter, default and pricing group; explanations; true-ups."""

from __future__ import annotations

from decimal import Decimal
from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st

from releve.domain.billing.charge_fees import ChargeFeeKind, price_charge, prorated_cents
from releve.domain.charge_models.properties import ChargeModel, parse_properties
from releve.domain.errors import DomainError
from releve.domain.filters import BucketKey
from releve.domain.money import Rounding
from releve.domain.plans import Charge, ChargeFilterPrice
from releve.domain.usage import UsageFacts
from tests.unit.test_billing_factories import CALLS, EUR, charge, standard

ROAMING_TIERS = parse_properties(
    "graduated",
    {
        "graduated_ranges": [
            {"from_value": 0, "to_value": 10, "per_unit_amount": "0", "flat_amount": "0"},
            {"from_value": 11, "to_value": 100, "per_unit_amount": "0.05", "flat_amount": "0"},
            {"from_value": 101, "to_value": None, "per_unit_amount": "0.02", "flat_amount": "0"},
        ]
    },
)


def calls_charge(*group_keys: str, min_amount_cents: int = 0) -> Charge:
    return charge(
        "ch_calls",
        metric=CALLS,
        model=ChargeModel.GRADUATED,
        properties=parse_properties(
            "graduated",
            {
                "graduated_ranges": [
                    {
                        "from_value": 0,
                        "to_value": None,
                        "per_unit_amount": "0.01",
                        "flat_amount": "0",
                    }
                ],
                "pricing_group_keys": list(group_keys),
            },
        ),
        filters=(ChargeFilterPrice({"zone": ("roaming",)}, ROAMING_TIERS, None),),
        min_amount_cents=min_amount_cents,
    )


def u(units: int | str, events: int = 1) -> UsageFacts:
    return UsageFacts(Decimal(units), events)


def test_a_charge_without_filters_or_groups_has_one_fee_even_without_usage() -> None:
    (fee,) = price_charge(charge(), {}, EUR)
    assert (fee.units, fee.amount_cents, fee.bucket) == (Decimal(0), 0, BucketKey())
    assert not fee.invoiceable_on_period_invoice  # Lago: no invoice fee for 0 units
    assert fee.explanation == "API calls: No usage (0 units): 0.00 EUR"


def test_filters_plus_default_bucket() -> None:
    fees = price_charge(
        calls_charge(),
        {BucketKey(0): u(124, 5), BucketKey(None): u(300, 7)},
        EUR,
    )
    roaming, default = fees
    # roaming: 10 free, 90 × 0.05 = 4.50, 24 × 0.02 = 0.48 → 4.98
    assert roaming.amount_cents == 498 and roaming.filter_values == {"zone": ("roaming",)}
    assert roaming.explanation == (
        "Calls — roaming: 124 units: 10 free, 90 × 0.05 EUR, 24 × 0.02 EUR = 4.98 EUR"
    )
    assert roaming.events_count == 5
    assert roaming.amount_details["graduated_ranges"][1]["units"] == "90"  # type: ignore[index]
    # default (no filter matched): the charge's own price, 300 × 0.01 = 3.00
    assert (default.amount_cents, default.filter_values) == (300, None)
    assert default.explanation.startswith("Calls — other: 300 units")


def test_filter_without_usage_still_listed() -> None:
    roaming, default = price_charge(calls_charge(), {BucketKey(None): u(5)}, EUR)
    assert roaming.units == 0 and not roaming.invoiceable_on_period_invoice
    assert default.amount_cents == 5  # 5 × 0.01


def test_pricing_groups_within_filters() -> None:
    c = calls_charge("region")
    usage = {
        BucketKey(None, ("us",)): u(200),
        BucketKey(0, ("eu",)): u(11),
        BucketKey(None, ("eu",)): u(100),
        BucketKey(None, (None,)): u(1),
    }
    fees = price_charge(c, usage, EUR)
    assert [(f.bucket, f.amount_cents) for f in fees] == [
        (BucketKey(0, ("eu",)), 5),  # 10 free + 1 × 0.05
        (BucketKey(None, (None,)), 1),  # 1 × 0.01 (events without a region)
        (BucketKey(None, ("eu",)), 100),  # 100 × 0.01
        (BucketKey(None, ("us",)), 200),  # 200 × 0.01
    ]
    assert fees[2].grouped_by == {"region": "eu"}
    assert fees[0].display_name == "Calls — roaming, region=eu"


def test_grouped_charge_without_usage_keeps_one_empty_fee() -> None:
    (fee,) = price_charge(charge(properties=standard("1", "region")), {}, EUR)
    assert fee.bucket == BucketKey(None, (None,)) and fee.amount_cents == 0


def test_usage_of_another_charge_is_refused() -> None:
    with pytest.raises(DomainError):
        price_charge(charge(), {BucketKey(3): u(1)}, EUR)


@pytest.mark.parametrize(
    ("usage", "minimum", "factor", "true_up"),
    [
        (500, 10000, Fraction(1), 5000),  # Lago docs: 500 × 0.10 = 50 €, minimum 100 € → 50 €
        (1000, 10000, Fraction(1), 0),  # exactly the minimum: no true-up
        (1001, 10000, Fraction(1), 0),  # above
        (0, 10000, Fraction(1), 10000),  # nothing used: the whole minimum
        (100, 10000, Fraction(22, 31), 6097),  # 10000 × 22/31 = 7096.77 → 7097 − 1000
    ],
)
def test_charge_minimum_true_up(usage: int, minimum: int, factor: Fraction, true_up: int) -> None:
    c = charge(min_amount_cents=minimum)
    fees = price_charge(c, {BucketKey(): u(usage)}, EUR, period_factor=factor)
    ups = [f for f in fees if f.kind is ChargeFeeKind.TRUE_UP]
    assert sum(f.amount_cents for f in ups) == true_up
    if ups:
        assert ups[0].charge_id == c.id and ups[0].invoiceable_on_period_invoice


def test_true_up_explanation() -> None:
    fees = price_charge(
        charge(min_amount_cents=10000), {BucketKey(): u(100)}, EUR, period_factor=Fraction(22, 31)
    )
    assert fees[-1].explanation == (
        "API calls: minimum 100.00 EUR × 22/31 = 70.97 EUR; usage 10.00 EUR → true-up 60.97 EUR"
    )


@pytest.mark.parametrize(
    ("cents", "factor", "rounding", "expected"),
    [
        (5000, Fraction(22, 31), Rounding.HALF_UP, 3548),  # 3548.387…
        (100, Fraction(1, 8), Rounding.HALF_UP, 13),  # 12.5 → 13
        (100, Fraction(1, 8), Rounding.HALF_EVEN, 12),  # 12.5 → 12
        (0, Fraction(1, 3), Rounding.HALF_UP, 0),
    ],
)
def test_prorated_cents(cents: int, factor: Fraction, rounding: Rounding, expected: int) -> None:
    assert prorated_cents(cents, factor, rounding) == expected


@given(
    st.dictionaries(
        st.sampled_from([BucketKey(0, ("a",)), BucketKey(None, ("a",)), BucketKey(None, ("b",))]),
        st.integers(0, 10**6).map(lambda n: UsageFacts(Decimal(n) / 100, 1)),
    ),
    st.integers(0, 10**5),
)
def test_fees_never_below_the_minimum_and_never_negative(
    usage: dict[BucketKey, UsageFacts], minimum: int
) -> None:
    c = calls_charge("region", min_amount_cents=minimum)
    fees = price_charge(c, usage, EUR)
    assert all(f.amount_cents >= 0 for f in fees)
    assert sum(f.amount_cents for f in fees) >= minimum
    usage_only = [f for f in fees if f.kind is ChargeFeeKind.USAGE]
    assert sum(f.amount_cents for f in fees) == max(
        minimum, sum(f.amount_cents for f in usage_only)
    )
