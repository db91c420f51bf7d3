"""Standard pricing: every unit at the same price (lago-api.md §3: U × amount)."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from releve.domain.charge_models.breakdown import AmountDetails, price_text
from releve.domain.charge_models.properties import StandardProperties
from releve.domain.charge_models.values import readable
from releve.domain.money import Currency


@dataclass(frozen=True, slots=True)
class StandardBreakdown:
    units: Decimal
    unit_amount: Decimal
    amount: Decimal

    def amount_details(self) -> AmountDetails:
        return {}  # Lago sends no details for standard fees: units × unit price says it all

    def parts(self, currency: Currency) -> list[str]:
        return [f"{readable(self.units)} × {price_text(self.unit_amount, currency)}"]


def price_standard(properties: StandardProperties, units: Decimal) -> StandardBreakdown:
    """U × amount, precise, major units."""
    return StandardBreakdown(units, properties.amount, units * properties.amount)
