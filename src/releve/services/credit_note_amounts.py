"""The amounts of a credit note from the fees it credits (pure: no I/O).

Lago's rules, on our stored fees (integer minor units, half-up, each amount rounded once):
- an item credits `amount_cents` of one fee's amount, before discounts and taxes; it can never
  exceed what is left of that fee (its amount − items already issued on it);
- the item's share of the fee's discounts (coupons and progressive-billing credits, i.e.
  amount − taxable base) is taken back pro rata: round(item × discount / fee amount) — a coupon
  is never refunded. Automatic credit notes pass the domain's own adjustment
  (`domain.credit_notes.unused_time_credit`) instead;
- taxes are re-computed per tax of the credited fees on the credited base, one rounding per
  rate for the whole credit note, exactly like an invoice's taxes;
- total = Σ items − adjustment + taxes; credit + refund + offset must equal it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction

from releve.domain.money import round_fraction
from releve.domain.taxes import effective_taxes_rate
from releve.services.billing_records import Fee


@dataclass(frozen=True, slots=True)
class CreditLine:
    fee: Fee
    amount_cents: int
    adjustment_cents: int | None = None  # None: the fee's discount share, pro rata


@dataclass(frozen=True, slots=True)
class TaxAmount:
    tax_code: str
    tax_name: str
    tax_rate: Decimal
    base_amount_cents: int
    amount_cents: int


@dataclass(frozen=True, slots=True)
class CreditNoteAmounts:
    lines: tuple[CreditLine, ...]
    coupons_adjustment_amount_cents: int
    sub_total_excluding_taxes_amount_cents: int
    taxes: tuple[TaxAmount, ...]
    taxes_amount_cents: int
    taxes_rate: Decimal
    total_amount_cents: int

    @property
    def items_amount_cents(self) -> int:
        return sum(line.amount_cents for line in self.lines)


def discount_share(fee: Fee, amount_cents: int) -> int:
    """The part of `amount_cents` of `fee` that its coupons / progressive credits took off."""
    discount = fee.amount_cents - fee.sub_total_excluding_taxes_amount_cents
    if fee.amount_cents <= 0 or discount <= 0:
        return 0
    return round_fraction(Fraction(amount_cents * discount, fee.amount_cents))


def compute(lines: Sequence[CreditLine]) -> CreditNoteAmounts:
    """Every amount of a credit note crediting `lines` (rules in the module docstring)."""
    resolved: list[CreditLine] = []
    bases: dict[str, int] = {}
    names: dict[str, tuple[str, Decimal]] = {}
    adjustment = 0
    for line in lines:
        share = line.adjustment_cents
        if share is None:
            share = discount_share(line.fee, line.amount_cents)
        resolved.append(CreditLine(line.fee, line.amount_cents, share))
        adjustment += share
        for tax in line.fee.applied_taxes:
            code = str(tax["tax_code"])
            names.setdefault(code, (str(tax["tax_name"]), Decimal(str(tax["tax_rate"]))))
            bases[code] = bases.get(code, 0) + line.amount_cents - share
    taxes = tuple(
        TaxAmount(
            code,
            names[code][0],
            names[code][1],
            base,
            round_fraction(Fraction(base) * Fraction(names[code][1]) / 100),
        )
        for code, base in sorted(bases.items())
    )
    sub_total = sum(line.amount_cents for line in resolved) - adjustment
    taxes_amount = sum(t.amount_cents for t in taxes)
    return CreditNoteAmounts(
        lines=tuple(resolved),
        coupons_adjustment_amount_cents=adjustment,
        sub_total_excluding_taxes_amount_cents=sub_total,
        taxes=taxes,
        taxes_amount_cents=taxes_amount,
        taxes_rate=effective_taxes_rate(taxes_amount, sub_total),
        total_amount_cents=sub_total + taxes_amount,
    )
