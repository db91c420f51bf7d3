"""Graduated pricing: each tier's units at that tier's price, plus its flat fee once entered.

A tier's `flat_amount` is added as soon as one unit (or fraction of a unit) falls in it. Zero
usage enters no tier, so it costs nothing: Lago's formula would add the first tier's flat fee at
U = 0, but Lago creates no fee for a charge without units, and a customer who used nothing
should not pay a usage fee. Subscription-like fixed amounts belong in the plan's base fee.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from releve.domain.charge_models.breakdown import AmountDetails, flat_suffix, price_text
from releve.domain.charge_models.properties import GraduatedProperties
from releve.domain.charge_models.tiers import units_per_tier
from releve.domain.charge_models.values import plain
from releve.domain.money import Currency


@dataclass(frozen=True, slots=True)
class TierLine:
    """One entered tier: `units` in it × `per_unit_amount` (+ `flat_amount`) = `total`."""

    from_value: Decimal
    to_value: Decimal | None
    units: Decimal
    per_unit_amount: Decimal
    flat_amount: Decimal

    @property
    def per_unit_total(self) -> Decimal:
        return self.units * self.per_unit_amount

    @property
    def total(self) -> Decimal:
        return self.per_unit_total + self.flat_amount

    def details(self) -> AmountDetails:
        return {
            "from_value": plain(self.from_value),
            "to_value": None if self.to_value is None else plain(self.to_value),
            "flat_unit_amount": plain(self.flat_amount),
            "per_unit_amount": plain(self.per_unit_amount),
            "units": plain(self.units),
            "per_unit_total_amount": plain(self.per_unit_total),
            "total_with_flat_amount": plain(self.total),
        }

    def text(self, currency: Currency) -> str:
        if self.per_unit_amount == 0:
            if self.flat_amount == 0:
                return f"{plain(self.units)} free"
            return f"{plain(self.units)} for {price_text(self.flat_amount, currency)} flat"
        head = f"{plain(self.units)} × {price_text(self.per_unit_amount, currency)}"
        return head + flat_suffix(self.flat_amount, currency)


@dataclass(frozen=True, slots=True)
class GraduatedBreakdown:
    tiers: tuple[TierLine, ...]

    @property
    def amount(self) -> Decimal:
        return sum((t.total for t in self.tiers), Decimal(0))

    def amount_details(self) -> AmountDetails:
        return {"graduated_ranges": [t.details() for t in self.tiers]}

    def parts(self, currency: Currency) -> list[str]:
        return [t.text(currency) for t in self.tiers]


def price_graduated(properties: GraduatedProperties, units: Decimal) -> GraduatedBreakdown:
    """Σ over entered tiers of units_in_tier × per_unit_amount + flat_amount (major units)."""
    slices = units_per_tier(properties.ranges, units)
    return GraduatedBreakdown(
        tuple(
            TierLine(r.from_value, r.to_value, u, r.per_unit_amount, r.flat_amount)
            for r, u in zip(properties.ranges, slices, strict=False)
        )
    )
