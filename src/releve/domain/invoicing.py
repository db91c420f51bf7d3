"""Invoice totals: from rounded fee lines to every amount of a Lago invoice, in Lago's order.

Order (design.md §3, lago-api.md §4.3):

    fees → progressive-billing credits → coupons (pre-tax) → taxes → credit notes
         → prepaid credits (wallets, finalization only) → total

All amounts are integer minor units of the invoice currency; the rounded fee lines are the
source of truth. Nothing is rounded here except percentage coupons and one tax amount per rate
(half-up by default); every split (progressive credits, coupons, taxes, credit notes, wallets)
is allocated over fees by largest remainder, so each fee's breakdown adds up exactly to the
invoice amounts. Subtotals follow Lago's invoice version 4:
sub_total_excluding_taxes = fees − progressive credits − coupons, and
sub_total_including_taxes = sub_total_excluding_taxes + taxes.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal

from releve.domain.coupons import AppliedCoupon, CouponsResult, apply_coupons
from releve.domain.credit_notes import CreditNoteBalance, CreditNotesResult, consume_credit_notes
from releve.domain.errors import DomainError
from releve.domain.fee_lines import FeeLine, FeeType, InvalidFeeLine
from releve.domain.money import Currency, CurrencyMismatch, Rounding, allocate
from releve.domain.taxes import AppliedTax, compute_taxes, effective_taxes_rate
from releve.domain.wallets import Wallet, WalletsResult, consume_wallets


class PaymentStatus(enum.Enum):
    PENDING = "pending"
    SUCCEEDED = "succeeded"


@dataclass(frozen=True, slots=True)
class FeeBreakdown:
    """How one fee line becomes what is due on it (minor units). Each column sums exactly to
    the invoice amount of the same name; `taxes` maps tax code → this fee's share."""

    fee_id: str
    amount_cents: int
    progressive_billing_credit_amount_cents: int
    coupons_amount_cents: int
    sub_total_excluding_taxes_amount_cents: int  # the taxable base
    taxes: Mapping[str, int]
    taxes_amount_cents: int
    taxes_rate: Decimal  # Σ of the fee's tax rates, in percent
    sub_total_including_taxes_amount_cents: int
    credit_notes_amount_cents: int
    prepaid_credit_amount_cents: int
    total_amount_cents: int


@dataclass(frozen=True, slots=True)
class InvoiceTotals:
    """Every amount field of a Lago invoice, plus the per-fee explanation and the state changes
    (coupons, credit notes, wallets) the caller persists when it finalizes the invoice.

    `progressive_billing_credit_unapplied_amount_cents` is what progressive invoices billed
    beyond this invoice's usage fees: Lago refunds it with a credit note, which the caller
    issues.
    """

    currency: Currency
    fees_amount_cents: int
    progressive_billing_credit_amount_cents: int
    progressive_billing_credit_unapplied_amount_cents: int
    coupons_amount_cents: int
    sub_total_excluding_taxes_amount_cents: int
    taxes_amount_cents: int
    taxes_rate: Decimal
    sub_total_including_taxes_amount_cents: int
    credit_notes_amount_cents: int
    prepaid_credit_amount_cents: int
    prepaid_granted_credit_amount_cents: int
    prepaid_purchased_credit_amount_cents: int
    total_amount_cents: int
    payment_status: PaymentStatus
    fees: tuple[FeeBreakdown, ...]
    applied_taxes: tuple[AppliedTax, ...]
    coupons: CouponsResult
    credit_notes: CreditNotesResult
    wallets: WalletsResult

    def fee(self, fee_id: str) -> FeeBreakdown:
        for breakdown in self.fees:
            if breakdown.fee_id == fee_id:
                return breakdown
        raise KeyError(fee_id)


def _check(fees: Sequence[FeeLine], currency: Currency, progressive_cents: int) -> None:
    ids = [fee.id for fee in fees]
    if len(set(ids)) != len(ids):
        raise InvalidFeeLine("fee ids must be unique on an invoice", field="fees")
    for fee in fees:
        if fee.currency != currency:
            raise CurrencyMismatch(
                f"fee {fee.id} is in {fee.currency.code}, the invoice in {currency.code}",
                field="currency",
            )
    if progressive_cents < 0:
        raise DomainError(
            "progressive billing credit cannot be negative",
            field="progressive_billing_credit_amount_cents",
        )


def _progressive_credits(fees: Sequence[FeeLine], credit_cents: int) -> dict[str, int]:
    """Spread usage already billed by progressive invoices over this period's charge fees.

    Only `charge` fees: progressive invoices billed this period's usage, while `adjustment`
    fees correct earlier, closed periods. Capped at Σ charge fees (the excess is returned as
    unapplied); pro rata to the charge amounts, so no fee goes below 0.
    """
    charges = [f for f in fees if f.fee_type is FeeType.CHARGE]
    applied = min(credit_cents, sum(f.amount_cents for f in charges))
    shares = dict.fromkeys((f.id for f in fees), 0)
    for fee, share in zip(
        charges, allocate(applied, [f.amount_cents for f in charges]), strict=True
    ):
        shares[fee.id] = share
    return shares


def compute_invoice_totals(
    fees: Sequence[FeeLine],
    currency: Currency,
    *,
    finalizing: bool,
    progressive_billing_credit_amount_cents: int = 0,
    applied_coupons: Sequence[AppliedCoupon] = (),
    credit_notes: Sequence[CreditNoteBalance] = (),
    wallets: Sequence[Wallet] = (),
    rounding: Rounding = Rounding.HALF_UP,
) -> InvoiceTotals:
    """Compute every amount of an invoice from its rounded fee lines.

    `finalizing=False` (a draft) shows no wallet consumption, as Lago does: credits are only
    spent by a finalized invoice. Coupons and credit notes are shown on drafts too; the caller
    persists the returned states (`coupons.updated`, `credit_notes.updated`, `wallets.updated`)
    only when it finalizes.
    """
    _check(fees, currency, progressive_billing_credit_amount_cents)
    progressive = _progressive_credits(fees, progressive_billing_credit_amount_cents)
    after_progressive = {f.id: f.amount_cents - progressive[f.id] for f in fees}
    coupons = apply_coupons(fees, after_progressive, applied_coupons, currency, rounding)
    bases = {i: after_progressive[i] - coupons.fee_discounts[i] for i in after_progressive}
    taxes = compute_taxes(fees, bases, rounding)
    with_taxes = {i: bases[i] + taxes.fee_amount_cents(i) for i in bases}

    sub_total_incl = sum(with_taxes.values())
    notes = consume_credit_notes(sub_total_incl, credit_notes, currency)
    # Credit notes are customer-wide, not tied to a fee: they reduce every fee pro rata, so
    # a scoped wallet afterwards pays only what is really left on its fees.
    note_shares = dict(
        zip(with_taxes, allocate(notes.amount_cents, list(with_taxes.values())), strict=True)
    )
    dues = {i: with_taxes[i] - note_shares[i] for i in with_taxes}
    paid = consume_wallets(fees, dues, wallets if finalizing else (), currency)

    breakdowns = tuple(
        FeeBreakdown(
            fee_id=f.id,
            amount_cents=f.amount_cents,
            progressive_billing_credit_amount_cents=progressive[f.id],
            coupons_amount_cents=coupons.fee_discounts[f.id],
            sub_total_excluding_taxes_amount_cents=bases[f.id],
            taxes=dict(taxes.fee_taxes[f.id]),
            taxes_amount_cents=taxes.fee_amount_cents(f.id),
            taxes_rate=sum((t.rate for t in f.taxes), Decimal(0)),
            sub_total_including_taxes_amount_cents=with_taxes[f.id],
            credit_notes_amount_cents=note_shares[f.id],
            prepaid_credit_amount_cents=paid.fee_payments[f.id],
            total_amount_cents=dues[f.id] - paid.fee_payments[f.id],
        )
        for f in fees
    )
    fees_amount = sum(f.amount_cents for f in fees)
    progressive_amount = sum(progressive.values())
    sub_total_excl = fees_amount - progressive_amount - coupons.amount_cents
    total = sub_total_incl - notes.amount_cents - paid.amount_cents
    return InvoiceTotals(
        currency=currency,
        fees_amount_cents=fees_amount,
        progressive_billing_credit_amount_cents=progressive_amount,
        progressive_billing_credit_unapplied_amount_cents=progressive_billing_credit_amount_cents
        - progressive_amount,
        coupons_amount_cents=coupons.amount_cents,
        sub_total_excluding_taxes_amount_cents=sub_total_excl,
        taxes_amount_cents=taxes.amount_cents,
        taxes_rate=effective_taxes_rate(taxes.amount_cents, sub_total_excl),
        sub_total_including_taxes_amount_cents=sub_total_incl,
        credit_notes_amount_cents=notes.amount_cents,
        prepaid_credit_amount_cents=paid.amount_cents,
        prepaid_granted_credit_amount_cents=paid.granted_amount_cents,
        prepaid_purchased_credit_amount_cents=paid.purchased_amount_cents,
        total_amount_cents=total,
        payment_status=PaymentStatus.SUCCEEDED if total == 0 else PaymentStatus.PENDING,
        fees=breakdowns,
        applied_taxes=taxes.applied_taxes,
        coupons=coupons,
        credit_notes=notes,
        wallets=paid,
    )


class ZeroAmountInvoicePolicy(enum.Enum):
    """`finalize_zero_amount_invoice` at customer or organization level."""

    INHERIT = "inherit"
    FINALIZE = "finalize"
    SKIP = "skip"


def finalize_zero_amount_invoice(
    total_amount_cents: int,
    customer: ZeroAmountInvoicePolicy,
    organization: ZeroAmountInvoicePolicy,
) -> bool:
    """Whether to finalize (True) or skip (False) an invoice.

    A non-zero invoice is always finalized. For a zero total, the customer's setting wins
    unless it is `inherit`; the organization's `inherit` (it has no parent) means Lago's
    default, `finalize` — users complain when $0 invoices silently vanish (lago#704).
    """
    if total_amount_cents != 0:
        return True
    for policy in (customer, organization):
        if policy is not ZeroAmountInvoicePolicy.INHERIT:
            return policy is ZeroAmountInvoicePolicy.FINALIZE
    return True
