"""Prorated charges on recurring metrics: units billed for the share of the period they were held.

Lago allows proration only for recurring metrics and only for: arrears charges priced
standard, volume or graduated; pay-in-advance charges priced standard (lago-api.md §3).
Other combinations raise `ProrationNotAllowed`.

Input: `UnitHolding`s, in the order the units were added: `units` held for `fraction` of the
period (days held / days in the period, customer time zone, computed by the caller). A unit
removed early is a holding with a shorter fraction, never negative units.

Rules, all in major units and precise (the caller rounds once):
- standard: Σ units × fraction × amount.
- volume: the tier is chosen by the *full* units (Σ units: the size the customer reached); the
  prorated units are billed at that tier's unit price; the tier's flat fee is not prorated
  (it is the price of reaching the tier, as in Lago).
- graduated: holdings fill the tiers in the order they were added, by full units; each slice is
  billed slice × its holding's fraction × the tier's price; each entered tier's flat fee is
  added once, not prorated.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

from releve.domain.charge_models.properties import (
    ChargeModel,
    GraduatedProperties,
    Properties,
    StandardProperties,
    VolumeProperties,
)
from releve.domain.charge_models.tiers import lower_bound, tier_of, units_per_tier
from releve.domain.errors import DomainError

ZERO = Decimal(0)


class ProrationNotAllowed(DomainError):
    code = "invalid_prorated_charge_model"


@dataclass(frozen=True, slots=True)
class UnitHolding:
    """`units` (≥ 0) held during `fraction` (0..1) of the billing period."""

    units: Decimal
    fraction: Decimal

    def __post_init__(self) -> None:
        if self.units < 0:
            raise DomainError("held units must not be negative", field="units")
        if not 0 <= self.fraction <= 1:
            raise DomainError("fraction must be between 0 and 1", field="fraction")

    @property
    def prorated_units(self) -> Decimal:
        return self.units * self.fraction


@dataclass(frozen=True, slots=True)
class ProratedAmount:
    """Full units (Σ held), prorated units (Σ held × fraction) and the precise amount."""

    full_units: Decimal
    prorated_units: Decimal
    amount: Decimal


def check_prorated(model: ChargeModel | str, *, pay_in_advance: bool) -> ChargeModel:
    """Refuse a model Lago does not prorate (`prorated` field)."""
    model = ChargeModel(model)
    allowed = (
        {ChargeModel.STANDARD}
        if pay_in_advance
        else {ChargeModel.STANDARD, ChargeModel.VOLUME, ChargeModel.GRADUATED}
    )
    if model not in allowed:
        timing = "pay-in-advance" if pay_in_advance else "arrears"
        raise ProrationNotAllowed(
            f"{model.value} {timing} charges cannot be prorated", field="prorated"
        )
    return model


def price_prorated(
    model: ChargeModel | str,
    properties: Properties,
    holdings: Sequence[UnitHolding],
    *,
    pay_in_advance: bool = False,
) -> ProratedAmount:
    """Precise prorated amount in major units (rules in the module docstring)."""
    model = check_prorated(model, pay_in_advance=pay_in_advance)
    full = sum((h.units for h in holdings), ZERO)
    prorated = sum((h.prorated_units for h in holdings), ZERO)
    if isinstance(properties, StandardProperties) and model is ChargeModel.STANDARD:
        return ProratedAmount(full, prorated, prorated * properties.amount)
    if isinstance(properties, VolumeProperties) and model is ChargeModel.VOLUME:
        if full == 0:
            return ProratedAmount(full, prorated, ZERO)
        tier = properties.ranges[tier_of(properties.ranges, full)]
        return ProratedAmount(full, prorated, prorated * tier.per_unit_amount + tier.flat_amount)
    if isinstance(properties, GraduatedProperties) and model is ChargeModel.GRADUATED:
        ranges = properties.ranges
        amount = sum(
            (ranges[i].flat_amount for i in range(len(units_per_tier(ranges, full)))), ZERO
        )
        reached = ZERO
        for holding in holdings:
            start, end = reached, reached + holding.units
            for i, tier in enumerate(ranges):
                low = max(start, lower_bound(ranges, i))
                high = end if tier.to_value is None else min(end, tier.to_value)
                if high > low:
                    amount += (high - low) * holding.fraction * tier.per_unit_amount
            reached = end
        return ProratedAmount(full, prorated, amount)
    raise DomainError(
        f"properties do not match the {model.value} charge model",
        field="properties",
        code="invalid_properties",
    )
