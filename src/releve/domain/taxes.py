"""Taxes: per invoice and per tax rate, on the base left after discounts, rounded once per rate.

Lago (lago-api.md §4.3 step 4): each tax amount is Σ (fee taxable base × rate / 100) over the
fees carrying that tax, rounded to the minor unit once; taxes are not compounded (a tax never
applies to another tax). Rounding once per rate instead of once per fee keeps the invoice tax
equal to what a tax authority computes on the invoice's taxable base for that rate.

Each fee also shows its own tax for display; those per-fee amounts are the invoice tax of each
rate allocated over its fees in proportion to their bases (largest remainder), so they add up
exactly to the invoice tax of that rate.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from releve.domain.fee_lines import FeeLine, InvalidFeeLine, TaxRate
from releve.domain.money import Rounding, allocate

TAXES_RATE_QUANTUM = Decimal("0.00001")  # Lago keeps the invoice taxes_rate to 5 decimals


@dataclass(frozen=True, slots=True)
class AppliedTax:
    """One tax on the invoice: its taxable base and amount (minor units), rate in percent."""

    tax_code: str
    tax_name: str
    tax_rate: Decimal
    base_amount_cents: int
    amount_cents: int


@dataclass(frozen=True, slots=True)
class TaxesResult:
    """Invoice taxes per rate, and their exact allocation per fee (fee id → tax code → cents)."""

    applied_taxes: tuple[AppliedTax, ...]
    fee_taxes: Mapping[str, Mapping[str, int]]

    @property
    def amount_cents(self) -> int:
        return sum(t.amount_cents for t in self.applied_taxes)

    def fee_amount_cents(self, fee_id: str) -> int:
        return sum(self.fee_taxes.get(fee_id, {}).values())


def compute_taxes(
    fees: Sequence[FeeLine],
    taxable_bases: Mapping[str, int],
    rounding: Rounding = Rounding.HALF_UP,
) -> TaxesResult:
    """Taxes of an invoice. `taxable_bases` maps fee id → base in minor units (after
    progressive-billing credits and coupons). Applied taxes are listed in order of first
    appearance on the fees; a tax whose base is 0 is still listed, with amount 0.
    """
    rates: dict[str, TaxRate] = {}
    fees_by_code: dict[str, list[str]] = {}
    for fee in fees:
        for tax in fee.taxes:
            known = rates.setdefault(tax.code, tax)
            if known != tax:
                # One code, one rate per invoice: otherwise "the 20 % VAT line" is ambiguous.
                raise InvalidFeeLine(
                    f"tax {tax.code!r} appears with different rates or names", field="taxes"
                )
            fees_by_code.setdefault(tax.code, []).append(fee.id)
    applied: list[AppliedTax] = []
    per_fee: dict[str, dict[str, int]] = {fee.id: {} for fee in fees}
    for code, tax in rates.items():
        fee_ids = fees_by_code[code]
        base = sum(taxable_bases[i] for i in fee_ids)
        exact = Decimal(base) * tax.rate / Decimal(100)
        amount = int(exact.quantize(Decimal(1), rounding=rounding.decimal_mode))
        applied.append(AppliedTax(code, tax.name, tax.rate, base, amount))
        for fee_id, share in zip(
            fee_ids, allocate(amount, [taxable_bases[i] for i in fee_ids]), strict=True
        ):
            per_fee[fee_id][code] = share
    return TaxesResult(applied_taxes=tuple(applied), fee_taxes=per_fee)


def effective_taxes_rate(taxes_amount_cents: int, sub_total_excluding_taxes_cents: int) -> Decimal:
    """The invoice's effective tax rate in percent, to 5 decimals (half-up); 0 on a 0 subtotal.

    Derived from the rounded amounts, so it explains the invoice as printed: with 20 % on
    one fee and 5.5 % on another it is their weighted average, not their sum.
    """
    if sub_total_excluding_taxes_cents == 0:
        return Decimal(0).quantize(TAXES_RATE_QUANTUM)
    rate = Decimal(taxes_amount_cents) * Decimal(100) / Decimal(sub_total_excluding_taxes_cents)
    return rate.quantize(TAXES_RATE_QUANTUM, rounding=ROUND_HALF_UP)
