"""Volume pricing: all units at the price of the one tier that holds the total, plus its flat fee.

The tier holding U is the one whose (previous to_value, to_value] contains U (see `tiers`):
for classic integer tiers this is Lago's `from_value <= ceil(U) and U <= to_value`. Zero usage
costs nothing (no flat fee), as Lago creates no fee without units. Volume pricing has cliffs:
one more unit can lower the bill; that is the model, not a bug.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from releve.domain.charge_models.breakdown import AmountDetails, flat_suffix, price_text
from releve.domain.charge_models.properties import VolumeProperties
from releve.domain.charge_models.tiers import tier_of
from releve.domain.charge_models.values import plain
from releve.domain.money import Currency


@dataclass(frozen=True, slots=True)
class VolumeBreakdown:
    """`tier_index` is None when there is no usage (no tier applies)."""

    units: Decimal
    tier_index: int | None
    from_value: Decimal
    to_value: Decimal | None
    per_unit_amount: Decimal
    flat_amount: Decimal

    @property
    def per_unit_total(self) -> Decimal:
        return self.units * self.per_unit_amount

    @property
    def amount(self) -> Decimal:
        return self.per_unit_total + self.flat_amount

    def amount_details(self) -> AmountDetails:
        return {
            "flat_unit_amount": plain(self.flat_amount),
            "per_unit_amount": plain(self.per_unit_amount),
            "per_unit_total_amount": plain(self.per_unit_total),
        }

    def parts(self, currency: Currency) -> list[str]:
        if self.tier_index is None:
            return []
        top = "∞" if self.to_value is None else plain(self.to_value)
        return [
            f"all in tier {plain(self.from_value)}–{top} at "
            f"{price_text(self.per_unit_amount, currency)}"
            f"{flat_suffix(self.flat_amount, currency)}"
        ]


def price_volume(properties: VolumeProperties, units: Decimal) -> VolumeBreakdown:
    """U × per_unit_amount(tier(U)) + flat_amount(tier(U)); 0 for U = 0 (major units)."""
    if units <= 0:
        return VolumeBreakdown(Decimal(0), None, Decimal(0), None, Decimal(0), Decimal(0))
    index = tier_of(properties.ranges, units)
    tier = properties.ranges[index]
    return VolumeBreakdown(
        units, index, tier.from_value, tier.to_value, tier.per_unit_amount, tier.flat_amount
    )
