"""Dynamic pricing: each event brings its own price (`precise_total_amount_cents`).

amount = Σ precise_total_amount_cents / 10^exponent (major units), 0 when there are no units
(lago-api.md §3). The unit price is only informative: amount / units, unrounded.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from releve.domain.charge_models.breakdown import AmountDetails
from releve.domain.charge_models.values import plain
from releve.domain.money import Currency
from releve.domain.usage import UsageFacts

# Six decimals, as Lago shows dynamic unit prices (0.156818): enough to read, not a price.
_SHOWN_UNIT_PRICE = Decimal("0.000001")


@dataclass(frozen=True, slots=True)
class DynamicBreakdown:
    units: Decimal
    amount: Decimal

    @property
    def unit_amount(self) -> Decimal:
        return self.amount / self.units if self.units else Decimal(0)

    def amount_details(self) -> AmountDetails:
        return {}  # Lago sends no details for dynamic fees

    def parts(self, currency: Currency) -> list[str]:
        shown = plain(self.unit_amount.quantize(_SHOWN_UNIT_PRICE))
        return [f"priced per event (about {shown} {currency.code} per unit)"]


def price_dynamic(usage: UsageFacts, currency: Currency) -> DynamicBreakdown:
    """Σ of the events' own prices, converted from minor to major units; 0 without units."""
    if usage.units <= 0:
        return DynamicBreakdown(Decimal(0), Decimal(0))
    # A usage charge is never a credit: a negative sum of event prices bills nothing.
    amount = max(usage.total_amount_cents.scaleb(-currency.exponent), Decimal(0))
    return DynamicBreakdown(usage.units, amount)
