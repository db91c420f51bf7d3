"""Lago's worked examples (lago-api.md §3), reproduced to the cent, with explanations."""

from __future__ import annotations

from decimal import Decimal
from itertools import pairwise

from releve.domain.charge_models.dynamic import DynamicBreakdown
from releve.domain.charge_models.properties import (
    GraduatedPercentageProperties,
    PercentageProperties,
    parse_properties,
)
from releve.domain.money import Currency
from releve.domain.pricing import (
    plan_minimum_commitment_true_up,
    price,
    price_in_advance,
    true_up_cents,
)
from releve.domain.usage import UsageFacts

USD = Currency("USD", 2)
D = Decimal


def test_standard_005_per_call_times_1000_calls_is_50_dollars() -> None:
    props = parse_properties("standard", {"amount": "0.05"})
    fee = price("standard", props, UsageFacts(D(1000), events_count=1000), USD)
    # 1000 × 0.05 = 50.00
    assert fee.amount == D("50.00")
    assert fee.amount_cents == 5000
    assert fee.explanation == "1000 units: 1000 × 0.05 USD = 50.00 USD"
    assert fee.amount_details() == {}


def test_graduated_250_units_is_155_dollars() -> None:
    props = parse_properties(
        "graduated",
        {
            "graduated_ranges": [
                {"from_value": 0, "to_value": 100, "per_unit_amount": "1", "flat_amount": "0"},
                {"from_value": 101, "to_value": 200, "per_unit_amount": "0.5", "flat_amount": "0"},
                {"from_value": 201, "to_value": None, "per_unit_amount": "0.1", "flat_amount": "0"},
            ]
        },
    )
    fee = price("graduated", props, UsageFacts(D(250)), USD)
    # 100 × 1 + 100 × 0.5 + 50 × 0.1 = 100 + 50 + 5 = 155
    assert fee.amount_cents == 15500
    assert fee.explanation == "250 units: 100 × 1 USD, 100 × 0.5 USD, 50 × 0.1 USD = 155.00 USD"


DOC_GRADUATED_PERCENTAGE = {
    "graduated_percentage_ranges": [
        {"from_value": 0, "to_value": 1000, "rate": "1", "flat_amount": "200"},
        {"from_value": 1001, "to_value": 10000, "rate": "2", "flat_amount": "300"},
        {"from_value": 10001, "to_value": None, "rate": "3", "flat_amount": "400"},
    ]
}


def test_graduated_percentage_pay_in_advance_205_306_80() -> None:
    props = parse_properties("graduated_percentage", DOC_GRADUATED_PERCENTAGE)
    assert isinstance(props, GraduatedPercentageProperties)
    totals = [D(0), D(500), D(1050), D(5050)]  # transactions $500, $550, $4,000
    fees = [
        price_in_advance("graduated_percentage", props, UsageFacts(before), UsageFacts(after), USD)
        for before, after in pairwise(totals)
    ]
    # f(500) = 500 × 1% + 200 = 205
    # f(1050) = 1000 × 1% + 200 + 50 × 2% + 300 = 511 → 511 − 205 = 306
    # f(5050) = 210 + 4050 × 2% + 300 = 591 → 591 − 511 = 80
    assert [f.amount_cents for f in fees] == [20500, 30600, 8000]
    assert [f.units for f in fees] == [D(500), D(550), D(4000)]
    assert fees[1].explanation == (
        "1050 units so far cost 511.00 USD; 205.00 USD of it was already billed for "
        "500 units: this event costs 306.00 USD"
    )


def test_package_201_units_is_10_dollars() -> None:
    props = parse_properties("package", {"amount": "5", "package_size": 100, "free_units": 100})
    fee = price("package", props, UsageFacts(D(201)), USD)
    # 100 free; 101 paid → ceil(101 / 100) = 2 packages × 5 = 10
    assert fee.amount_cents == 1000
    assert (
        fee.explanation == "201 units: 100 free, 101 paid → 2 packages of 100 × 5 USD = 10.00 USD"
    )
    assert fee.amount_details() == {
        "free_units": "100",
        "paid_units": "101",
        "per_package_size": 100,
        "per_package_unit_amount": "5",
    }


def test_percentage_free_events_then_4th_transaction_is_070() -> None:
    props = parse_properties(
        "percentage",
        {
            "rate": "1.2",
            "fixed_amount": "0.10",
            "free_units_per_events": 3,
            "free_units_per_total_aggregation": "500",
        },
    )
    values = (D(200), D(100), D(100), D(50))
    fee = price("percentage", props, UsageFacts(D(450), 4, values), USD)
    # 3 free events use 400 < 500; the 4th is paid: 50 × 1.2% + 1 × 0.10 = 0.60 + 0.10
    assert fee.amount == D("0.70")
    assert fee.amount_cents == 70
    assert fee.amount_details() == {
        "units": "450",
        "free_units": "400",
        "free_events": 3,
        "paid_units": "50",
        "paid_events": 1,
        "rate": "1.2",
        "per_unit_total_amount": "0.6",
        "fixed_fee_unit_amount": "0.1",
        "fixed_fee_total_amount": "0.1",
        "min_max_adjustment_total_amount": "0",
    }
    assert fee.explanation == (
        "450 units: 400 free (3 free events), 1.2% of 50, 1 paid event × 0.1 USD = 0.70 USD"
    )


def test_percentage_with_per_transaction_min_max_is_760() -> None:
    props = PercentageProperties(
        rate=D(1),
        fixed_amount=D("0.10"),
        per_transaction_min_amount=D("1.75"),
        per_transaction_max_amount=D("3.75"),
    )
    values = (D(50), D(1000), D(200))
    fee = price("percentage", props, UsageFacts(D(1250), 3, values), USD)
    # tx 50 → 0.50 + 0.10 = 0.60 → 1.75; tx 1000 → 10.10 → 3.75; tx 200 → 2.10
    # 1.75 + 3.75 + 2.10 = 7.60; unclamped 12.50 + 0.30 = 12.80 → adjustment −5.20
    assert fee.amount_cents == 760
    assert fee.breakdown.amount_details()["min_max_adjustment_total_amount"] == "-5.2"


def test_volume_65000_calls_is_49_dollars() -> None:
    props = parse_properties(
        "volume",
        {
            "volume_ranges": [
                {"from_value": 0, "to_value": 10000, "per_unit_amount": "0.001", "flat_amount": 10},
                {
                    "from_value": 10001,
                    "to_value": 50000,
                    "per_unit_amount": "0.0008",
                    "flat_amount": 10,
                },
                {
                    "from_value": 50001,
                    "to_value": 100000,
                    "per_unit_amount": "0.0006",
                    "flat_amount": 10,
                },
                {
                    "from_value": 100001,
                    "to_value": None,
                    "per_unit_amount": "0.0004",
                    "flat_amount": 10,
                },
            ]
        },
    )
    fee = price("volume", props, UsageFacts(D(65000)), USD)
    # 65,000 × 0.0006 + 10 = 39 + 10 = 49
    assert fee.amount_cents == 4900
    assert fee.amount_details() == {
        "flat_unit_amount": "10",
        "per_unit_amount": "0.0006",
        "per_unit_total_amount": "39",
    }
    assert (
        fee.explanation
        == "65000 units: all in tier 50001–100000 at 0.0006 USD + 10 USD flat = 49.00 USD"
    )


def test_dynamic_three_events_is_345() -> None:
    props = parse_properties("dynamic", {})
    # events (7 units, 70 cents), (5, 55), (10, 220) → 22 units, 345 cents
    usage = UsageFacts(D(22), events_count=3, total_amount_cents=D(70 + 55 + 220))
    fee = price("dynamic", props, usage, USD)
    assert fee.amount_cents == 345
    # 3.45 / 22 = 0.15681818…
    assert isinstance(fee.breakdown, DynamicBreakdown)
    assert fee.breakdown.unit_amount.quantize(D("0.000001")) == D("0.156818")
    assert fee.explanation == "22 units: priced per event (about 0.156818 USD per unit) = 3.45 USD"


def test_charge_minimum_true_up_50_dollars() -> None:
    # usage $50 against a $100 minimum → true-up $50
    assert true_up_cents(5000, 10000) == 5000


def test_plan_minimum_commitment_true_up_20_dollars() -> None:
    # $50 base + 3 × $10 charges = $80 against $100 → +$20
    assert plan_minimum_commitment_true_up(5000 + 3 * 1000, 10000) == 2000
