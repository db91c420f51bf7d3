"""What every charge model returns besides its amount: a structured, explainable breakdown.

A breakdown is the evidence behind a fee: the invoice shows its `amount_details()` (Lago's fee
`amount_details` shape, decimals as strings) and the portal shows the sentence built from its
`parts()`. Explanations use ISO codes, not symbols: the domain holds no locale data, and the
portal localizes from the structured fields.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from typing import Protocol

from releve.domain.charge_models.values import plain, readable
from releve.domain.money import Currency, minor_to_major

AmountDetails = dict[str, object]


class Breakdown(Protocol):
    """The per-model detail of a priced charge; `amount` is precise, in major units."""

    @property
    def amount(self) -> Decimal: ...

    def amount_details(self) -> AmountDetails: ...

    def parts(self, currency: Currency) -> list[str]: ...


def price_text(value: Decimal, currency: Currency) -> str:
    """A unit price as typed by the operator (full precision): "0.0005 EUR"."""
    return f"{plain(value)} {currency.code}"


def total_text(amount_cents: int, currency: Currency) -> str:
    """A rounded amount with the currency's decimals: "4.98 EUR", "155 JPY", "1.250 KWD"."""
    return f"{minor_to_major(amount_cents, currency)} {currency.code}"


def units_text(units: Decimal) -> str:
    return f"{readable(units)} unit" + ("" if units == 1 else "s")


def sentence(units: Decimal, parts: Sequence[str], amount_cents: int, currency: Currency) -> str:
    """ "124 units: 10 free, 90 × 0.05 EUR, 24 × 0.02 EUR = 4.98 EUR"."""
    if units == 0 or not parts:
        return f"No usage ({units_text(units)}): {total_text(amount_cents, currency)}"
    return f"{units_text(units)}: {', '.join(parts)} = {total_text(amount_cents, currency)}"


def flat_suffix(flat: Decimal, currency: Currency) -> str:
    return f" + {price_text(flat, currency)} flat" if flat else ""
