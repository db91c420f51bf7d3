"""Charge models and their typed `properties`, parsed from Lago's JSON (lago-api.md §1.3).

Each properties class checks itself on construction, so a value built in code is as safe as
one parsed from the API. Errors carry Lago-like snake_case codes and a field path such as
`properties.graduated_ranges[1].to_value`. `pricing_group_keys` (old name `grouped_by`) is kept
on every model: it splits usage into buckets upstream, but it belongs to the charge's properties.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal

from releve.domain.charge_models.tiers import (
    GraduatedPercentageRange,
    GraduatedRange,
    check_bounds,
    parse_ranges,
)
from releve.domain.charge_models.values import (
    InvalidChargeProperties,
    read_count,
    read_non_negative,
)

P = "properties"


class ChargeModel(enum.StrEnum):
    STANDARD = "standard"
    GRADUATED = "graduated"
    GRADUATED_PERCENTAGE = "graduated_percentage"
    VOLUME = "volume"
    PACKAGE = "package"
    PERCENTAGE = "percentage"
    DYNAMIC = "dynamic"


def _non_negative(value: Decimal, name: str, code: str) -> None:
    if value < 0 or not value.is_finite():
        raise InvalidChargeProperties(
            f"{P}.{name} must be a finite number ≥ 0", field=f"{P}.{name}", code=code
        )


@dataclass(frozen=True, slots=True)
class StandardProperties:
    """`amount`: price per unit, major units."""

    amount: Decimal
    pricing_group_keys: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        _non_negative(self.amount, "amount", "invalid_amount")


@dataclass(frozen=True, slots=True)
class GraduatedProperties:
    """Tiers each billed at their own unit price, plus a flat fee once a tier is entered."""

    ranges: tuple[GraduatedRange, ...]
    pricing_group_keys: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        check_bounds(self.ranges, field=f"{P}.graduated_ranges", code="invalid_graduated_ranges")


@dataclass(frozen=True, slots=True)
class GraduatedPercentageProperties:
    """Tiers each billed at a percentage `rate` of their units, plus a flat fee when entered."""

    ranges: tuple[GraduatedPercentageRange, ...]
    pricing_group_keys: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        check_bounds(
            self.ranges,
            field=f"{P}.graduated_percentage_ranges",
            code="invalid_graduated_percentage_ranges",
        )


@dataclass(frozen=True, slots=True)
class VolumeProperties:
    """All units billed at the unit price (and flat fee) of the one tier holding the total."""

    ranges: tuple[GraduatedRange, ...]
    pricing_group_keys: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        check_bounds(self.ranges, field=f"{P}.volume_ranges", code="invalid_volume_ranges")


@dataclass(frozen=True, slots=True)
class PackageProperties:
    """`amount` per started package of `package_size` units, after `free_units` free units."""

    amount: Decimal
    package_size: int
    free_units: int = 0
    pricing_group_keys: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        _non_negative(self.amount, "amount", "invalid_amount")
        if self.package_size < 1:
            raise InvalidChargeProperties(
                f"{P}.package_size must be at least 1",
                field=f"{P}.package_size",
                code="invalid_package_size",
            )
        if self.free_units < 0:
            raise InvalidChargeProperties(
                f"{P}.free_units must not be negative",
                field=f"{P}.free_units",
                code="invalid_free_units",
            )


@dataclass(frozen=True, slots=True)
class PercentageProperties:
    """`rate` percent of the units beyond the free allowance, plus `fixed_amount` per paid event.

    Free allowance: the first `free_units_per_events` events and/or the first
    `free_units_per_total_aggregation` units, whichever runs out first. Per-transaction min/max
    clamp each paid event's amount. All amounts in major units.
    """

    rate: Decimal
    fixed_amount: Decimal = Decimal(0)
    free_units_per_events: int | None = None
    free_units_per_total_aggregation: Decimal | None = None
    per_transaction_min_amount: Decimal | None = None
    per_transaction_max_amount: Decimal | None = None
    pricing_group_keys: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        _non_negative(self.rate, "rate", "invalid_rate")
        _non_negative(self.fixed_amount, "fixed_amount", "invalid_fixed_amount")
        if self.free_units_per_events is not None and self.free_units_per_events < 0:
            raise InvalidChargeProperties(
                f"{P}.free_units_per_events must not be negative",
                field=f"{P}.free_units_per_events",
                code="invalid_free_units_per_events",
            )
        for name in (
            "free_units_per_total_aggregation",
            "per_transaction_min_amount",
            "per_transaction_max_amount",
        ):
            value = getattr(self, name)
            if value is not None:
                _non_negative(value, name, f"invalid_{name}")
        low, high = self.per_transaction_min_amount, self.per_transaction_max_amount
        if low is not None and high is not None and low > high:
            raise InvalidChargeProperties(
                f"{P}.per_transaction_max_amount must be ≥ per_transaction_min_amount",
                field=f"{P}.per_transaction_max_amount",
                code="invalid_per_transaction_max_amount",
            )

    @property
    def has_min_max(self) -> bool:
        return (
            self.per_transaction_min_amount is not None
            or self.per_transaction_max_amount is not None
        )


@dataclass(frozen=True, slots=True)
class DynamicProperties:
    """No price: each event carries its own (`precise_total_amount_cents`)."""

    pricing_group_keys: tuple[str, ...] = ()


Properties = (
    StandardProperties
    | GraduatedProperties
    | GraduatedPercentageProperties
    | VolumeProperties
    | PackageProperties
    | PercentageProperties
    | DynamicProperties
)

PROPERTIES_CLASS: Mapping[ChargeModel, type[Properties]] = {
    ChargeModel.STANDARD: StandardProperties,
    ChargeModel.GRADUATED: GraduatedProperties,
    ChargeModel.GRADUATED_PERCENTAGE: GraduatedPercentageProperties,
    ChargeModel.VOLUME: VolumeProperties,
    ChargeModel.PACKAGE: PackageProperties,
    ChargeModel.PERCENTAGE: PercentageProperties,
    ChargeModel.DYNAMIC: DynamicProperties,
}


def _required(raw: Mapping[str, object], key: str) -> object:
    value = raw.get(key)
    if value is None or value == "":
        raise InvalidChargeProperties(
            f"{P}.{key} is mandatory", field=f"{P}.{key}", code="value_is_mandatory"
        )
    return value


def _group_keys(raw: Mapping[str, object]) -> tuple[str, ...]:
    # `grouped_by` is Lago's former name; the new name wins when both are sent.
    key = "pricing_group_keys" if raw.get("pricing_group_keys") is not None else "grouped_by"
    value = raw.get(key)
    if value is None:
        return ()
    if not isinstance(value, list | tuple) or not all(isinstance(k, str) and k for k in value):
        raise InvalidChargeProperties(
            f"{P}.{key} must be a list of non-empty strings",
            field=f"{P}.{key}",
            code="invalid_type",
        )
    return tuple(value)


def _optional_decimal(raw: Mapping[str, object], key: str) -> Decimal | None:
    value = raw.get(key)
    if value is None or value == "":
        return None
    return read_non_negative(value, field=f"{P}.{key}", code=f"invalid_{key}")


def parse_properties(model: ChargeModel | str, raw: Mapping[str, object]) -> Properties:
    """Typed, validated properties for `model` from Lago's JSON `properties` object.

    Numbers may be decimal strings, integers or `Decimal`; floats are refused.
    Raises `InvalidChargeProperties` (a `DomainError`) naming the offending field.
    """
    try:
        model = ChargeModel(model)
    except ValueError:
        raise InvalidChargeProperties(
            f"unknown charge model {model!r}", field="charge_model", code="value_is_invalid"
        ) from None
    if not isinstance(raw, Mapping):
        raise InvalidChargeProperties(f"{P} must be an object", field=P, code="invalid_type")
    keys = _group_keys(raw)
    if model is ChargeModel.STANDARD:
        amount = read_non_negative(
            _required(raw, "amount"), field=f"{P}.amount", code="invalid_amount"
        )
        return StandardProperties(amount, keys)
    if model in (ChargeModel.GRADUATED, ChargeModel.VOLUME):
        name = "graduated_ranges" if model is ChargeModel.GRADUATED else "volume_ranges"
        ranges = parse_ranges(
            _required(raw, name),
            field=f"{P}.{name}",
            code=f"invalid_{name}",
            price_key="per_unit_amount",
            price_code="invalid_amount",
            build=GraduatedRange,
        )
        if model is ChargeModel.GRADUATED:
            return GraduatedProperties(ranges, keys)
        return VolumeProperties(ranges, keys)
    if model is ChargeModel.GRADUATED_PERCENTAGE:
        name = "graduated_percentage_ranges"
        pct_ranges = parse_ranges(
            _required(raw, name),
            field=f"{P}.{name}",
            code=f"invalid_{name}",
            price_key="rate",
            price_code="invalid_rate",
            build=GraduatedPercentageRange,
        )
        return GraduatedPercentageProperties(pct_ranges, keys)
    if model is ChargeModel.PACKAGE:
        return PackageProperties(
            amount=read_non_negative(
                _required(raw, "amount"), field=f"{P}.amount", code="invalid_amount"
            ),
            package_size=read_count(
                _required(raw, "package_size"),
                field=f"{P}.package_size",
                code="invalid_package_size",
                minimum=1,
            ),
            free_units=read_count(
                0 if raw.get("free_units") in (None, "") else raw["free_units"],
                field=f"{P}.free_units",
                code="invalid_free_units",
            ),
            pricing_group_keys=keys,
        )
    if model is ChargeModel.PERCENTAGE:
        free_events_raw = raw.get("free_units_per_events")
        return PercentageProperties(
            rate=read_non_negative(_required(raw, "rate"), field=f"{P}.rate", code="invalid_rate"),
            fixed_amount=_optional_decimal(raw, "fixed_amount") or Decimal(0),
            free_units_per_events=None
            if free_events_raw is None or free_events_raw == ""
            else read_count(
                free_events_raw,
                field=f"{P}.free_units_per_events",
                code="invalid_free_units_per_events",
            ),
            free_units_per_total_aggregation=_optional_decimal(
                raw, "free_units_per_total_aggregation"
            ),
            per_transaction_min_amount=_optional_decimal(raw, "per_transaction_min_amount"),
            per_transaction_max_amount=_optional_decimal(raw, "per_transaction_max_amount"),
            pricing_group_keys=keys,
        )
    return DynamicProperties(keys)
