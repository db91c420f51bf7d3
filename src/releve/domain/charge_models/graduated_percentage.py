"""Graduated percentage pricing: each tier's units × its `rate` %, plus its flat fee once entered.

Same tiering and zero-usage rule as graduated pricing (see `graduated`): units are usually an
amount of money (a transaction volume), and the rate is in percent.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from releve.domain.charge_models.breakdown import AmountDetails, flat_suffix
from releve.domain.charge_models.properties import GraduatedPercentageProperties
from releve.domain.charge_models.tiers import units_per_tier
from releve.domain.charge_models.values import plain
from releve.domain.money import Currency

HUNDRED = Decimal(100)


@dataclass(frozen=True, slots=True)
class PercentageTierLine:
    from_value: Decimal
    to_value: Decimal | None
    units: Decimal
    rate: Decimal
    flat_amount: Decimal

    @property
    def per_unit_total(self) -> Decimal:
        return self.units * self.rate / HUNDRED

    @property
    def total(self) -> Decimal:
        return self.per_unit_total + self.flat_amount

    def details(self) -> AmountDetails:
        return {
            "from_value": plain(self.from_value),
            "to_value": None if self.to_value is None else plain(self.to_value),
            "flat_unit_amount": plain(self.flat_amount),
            "rate": plain(self.rate),
            "units": plain(self.units),
            "per_unit_total_amount": plain(self.per_unit_total),
            "total_with_flat_amount": plain(self.total),
        }

    def text(self, currency: Currency) -> str:
        head = f"{plain(self.rate)}% of {plain(self.units)}"
        return head + flat_suffix(self.flat_amount, currency)


@dataclass(frozen=True, slots=True)
class GraduatedPercentageBreakdown:
    tiers: tuple[PercentageTierLine, ...]

    @property
    def amount(self) -> Decimal:
        return sum((t.total for t in self.tiers), Decimal(0))

    def amount_details(self) -> AmountDetails:
        return {"graduated_percentage_ranges": [t.details() for t in self.tiers]}

    def parts(self, currency: Currency) -> list[str]:
        return [t.text(currency) for t in self.tiers]


def price_graduated_percentage(
    properties: GraduatedPercentageProperties, units: Decimal
) -> GraduatedPercentageBreakdown:
    """Σ over entered tiers of units_in_tier × rate / 100 + flat_amount (major units)."""
    slices = units_per_tier(properties.ranges, units)
    return GraduatedPercentageBreakdown(
        tuple(
            PercentageTierLine(r.from_value, r.to_value, u, r.rate, r.flat_amount)
            for r, u in zip(properties.ranges, slices, strict=False)
        )
    )
