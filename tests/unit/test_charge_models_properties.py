"""Parsing Lago's `properties` JSON: exact numbers, Lago-like codes and field paths."""

from __future__ import annotations

from decimal import Decimal

import pytest

from releve.domain.charge_models.properties import (
    GraduatedProperties,
    PackageProperties,
    PercentageProperties,
    StandardProperties,
    parse_properties,
)
from releve.domain.errors import DomainError
from releve.domain.money import Currency
from releve.domain.pricing import price
from releve.domain.usage import UsageFacts

D = Decimal


def r(f: object, t: object, p: object = "1", x: object = "0") -> dict[str, object]:
    return {"from_value": f, "to_value": t, "per_unit_amount": p, "flat_amount": x}


def test_standard_reads_strings_ints_and_group_keys() -> None:
    assert parse_properties("standard", {"amount": "0.0005"}) == StandardProperties(D("0.0005"))
    assert parse_properties("standard", {"amount": 3, "grouped_by": ["region"]}) == (
        StandardProperties(D(3), ("region",))
    )
    both = {"amount": "1", "pricing_group_keys": ["a"], "grouped_by": ["b"]}
    assert parse_properties("standard", both).pricing_group_keys == ("a",)


def test_package_and_percentage_parse() -> None:
    assert parse_properties("package", {"amount": "5", "package_size": "100"}) == (
        PackageProperties(D(5), 100, 0)
    )
    parsed = parse_properties(
        "percentage",
        {
            "rate": "1.2",
            "fixed_amount": "0.1",
            "free_units_per_events": 3,
            "per_transaction_min_amount": "1",
            "per_transaction_max_amount": "2",
        },
    )
    assert parsed == PercentageProperties(D("1.2"), D("0.1"), 3, None, D(1), D(2))


def test_adjacent_and_classic_tiers_are_both_valid() -> None:
    adjacent = parse_properties("graduated", {"graduated_ranges": [r(0, "10.5"), r("10.5", None)]})
    classic = parse_properties("volume", {"volume_ranges": [r(0, 100), r(101, None)]})
    assert isinstance(adjacent, GraduatedProperties)
    assert adjacent.ranges[1].from_value == D("10.5")
    assert classic.ranges[1].to_value is None  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("model", "raw", "code", "field"),
    [
        ("standard", {}, "value_is_mandatory", "properties.amount"),
        ("standard", {"amount": 0.05}, "invalid_amount", "properties.amount"),  # float refused
        ("standard", {"amount": True}, "invalid_amount", "properties.amount"),
        ("standard", {"amount": "abc"}, "invalid_amount", "properties.amount"),
        ("standard", {"amount": "NaN"}, "invalid_amount", "properties.amount"),
        ("standard", {"amount": "-1"}, "invalid_amount", "properties.amount"),
        (
            "standard",
            {"amount": "1", "grouped_by": "region"},
            "invalid_type",
            "properties.grouped_by",
        ),
        (
            "package",
            {"amount": "5", "package_size": 0},
            "invalid_package_size",
            "properties.package_size",
        ),
        (
            "package",
            {"amount": "5", "package_size": "2.5"},
            "invalid_package_size",
            "properties.package_size",
        ),
        (
            "package",
            {"amount": "5", "package_size": 1, "free_units": -1},
            "invalid_free_units",
            "properties.free_units",
        ),
        ("percentage", {}, "value_is_mandatory", "properties.rate"),
        ("percentage", {"rate": "-1"}, "invalid_rate", "properties.rate"),
        (
            "percentage",
            {"rate": "1", "fixed_amount": 0.1},
            "invalid_fixed_amount",
            "properties.fixed_amount",
        ),
        (
            "percentage",
            {"rate": "1", "free_units_per_events": "1.5"},
            "invalid_free_units_per_events",
            "properties.free_units_per_events",
        ),
        (
            "percentage",
            {"rate": "1", "per_transaction_min_amount": "3", "per_transaction_max_amount": "2"},
            "invalid_per_transaction_max_amount",
            "properties.per_transaction_max_amount",
        ),
        ("graduated", {}, "value_is_mandatory", "properties.graduated_ranges"),
        (
            "graduated",
            {"graduated_ranges": []},
            "invalid_graduated_ranges",
            "properties.graduated_ranges",
        ),
        (
            "graduated",
            {"graduated_ranges": [r(1, None)]},
            "invalid_graduated_ranges",
            "properties.graduated_ranges",
        ),  # must start at 0
        (
            "graduated",
            {"graduated_ranges": [r(0, 100)]},
            "invalid_graduated_ranges",
            "properties.graduated_ranges",
        ),  # last must be unbounded
        (
            "graduated",
            {"graduated_ranges": [r(0, 100), r(102, None)]},
            "invalid_graduated_ranges",
            "properties.graduated_ranges",
        ),  # gap
        (
            "graduated",
            {"graduated_ranges": [r(0, 100), r(99, None)]},
            "invalid_graduated_ranges",
            "properties.graduated_ranges",
        ),  # overlap
        (
            "graduated",
            {"graduated_ranges": [r(0, 0), r(1, None)]},
            "invalid_graduated_ranges",
            "properties.graduated_ranges",
        ),  # empty tier
        (
            "graduated",
            {"graduated_ranges": [r(0, None, 0.5)]},
            "invalid_amount",
            "properties.graduated_ranges[0].per_unit_amount",
        ),
        (
            "graduated",
            {"graduated_ranges": [r(0, None, "1", "-2")]},
            "invalid_amount",
            "properties.graduated_ranges[0].flat_amount",
        ),
        (
            "volume",
            {"volume_ranges": [r(0, 10), r(12, None)]},
            "invalid_volume_ranges",
            "properties.volume_ranges",
        ),
        (
            "graduated_percentage",
            {"graduated_percentage_ranges": [{"from_value": 0, "to_value": None, "rate": "x"}]},
            "invalid_rate",
            "properties.graduated_percentage_ranges[0].rate",
        ),
        (
            "graduated_percentage",
            {"graduated_percentage_ranges": [{"from_value": 0, "to_value": None}]},
            "value_is_mandatory",
            "properties.graduated_percentage_ranges[0].rate",
        ),
        ("custom", {}, "value_is_invalid", "charge_model"),
    ],
)
def test_invalid_properties(model: str, raw: dict[str, object], code: str, field: str) -> None:
    with pytest.raises(DomainError) as err:
        parse_properties(model, raw)
    assert (err.value.code, err.value.field) == (code, field)


def test_properties_must_match_the_model() -> None:
    with pytest.raises(DomainError) as err:
        price("graduated", StandardProperties(D(1)), UsageFacts(D(1)), Currency("EUR", 2))
    assert err.value.code == "invalid_properties"
