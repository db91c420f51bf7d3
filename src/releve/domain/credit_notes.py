"""Credit notes: consuming available balances on an invoice, and the maths of issuing them.

All amounts are integer minor units. A credit note's `credit` part becomes a balance the
customer spends on later invoices, post-tax (lago-api.md §4.3 step 5).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from decimal import Decimal
from fractions import Fraction

from releve.domain.errors import DomainError
from releve.domain.fee_lines import TaxRate
from releve.domain.money import Currency, Rounding, round_fraction


class InvalidCreditNote(DomainError):
    code = "invalid_credit_note"


@dataclass(frozen=True, slots=True)
class CreditNoteBalance:
    """The unused credit of one credit note (minor units), in its invoice's currency."""

    id: str
    balance_amount_cents: int
    currency: Currency
    created_at: datetime

    def __post_init__(self) -> None:
        if self.balance_amount_cents < 0:
            raise InvalidCreditNote(
                "a credit note balance cannot be negative", field="balance_amount_cents"
            )
        if self.created_at.tzinfo is None or self.created_at.utcoffset() is None:
            raise ValueError("CreditNoteBalance.created_at must be timezone-aware")


@dataclass(frozen=True, slots=True)
class CreditNoteConsumption:
    credit_note_id: str
    amount_cents: int


@dataclass(frozen=True, slots=True)
class CreditNotesResult:
    """What each credit note paid, and every input balance after this invoice (oldest first)."""

    consumptions: tuple[CreditNoteConsumption, ...]
    updated: tuple[CreditNoteBalance, ...]

    @property
    def amount_cents(self) -> int:
        return sum(c.amount_cents for c in self.consumptions)


def consume_credit_notes(
    amount_due_cents: int, credit_notes: Sequence[CreditNoteBalance], currency: Currency
) -> CreditNotesResult:
    """Spend credit-note balances on `amount_due_cents` (the subtotal including taxes).

    Oldest credit note first (then by id), so balances are used in the order they were
    granted. A credit note in another currency is skipped (it cannot pay this invoice). Never
    consumes more than is due, so the invoice never goes below 0.
    """
    due = amount_due_cents
    consumptions: list[CreditNoteConsumption] = []
    updated: list[CreditNoteBalance] = []
    for note in sorted(credit_notes, key=lambda n: (n.created_at, n.id)):
        used = min(due, note.balance_amount_cents) if note.currency == currency else 0
        if used > 0:
            due -= used
            consumptions.append(CreditNoteConsumption(note.id, used))
            note = replace(note, balance_amount_cents=note.balance_amount_cents - used)
        updated.append(note)
    return CreditNotesResult(tuple(consumptions), tuple(updated))


@dataclass(frozen=True, slots=True)
class CreditableAmounts:
    """Lago's `credit_notes/estimate` maxima (minor units)."""

    max_creditable_amount_cents: int
    max_refundable_amount_cents: int
    max_offsettable_amount_cents: int


def creditable_amounts(
    *,
    total_amount_cents: int,
    prepaid_credit_amount_cents: int = 0,
    credit_notes_amount_cents: int = 0,
    paid_amount_cents: int = 0,
    credited_amount_cents: int = 0,
    refunded_amount_cents: int = 0,
    offset_amount_cents: int = 0,
) -> CreditableAmounts:
    """How much more can be credited, refunded or offset on a finalized invoice.

    Rules (the ceiling is what the customer gave for the invoice: money due plus wallet
    credits and earlier credit note balances spent on it — its sub-total including taxes, as
    Lago's fee-based creditable amount; coupons are a discount, never given back):
    - ceiling = total_amount + prepaid_credit_amount + credit_notes_amount; Σ of all credit
      notes (credit + refund + offset, already issued ones included) never exceeds it;
    - max_creditable = ceiling − already issued (credit back to a balance is always possible);
    - max_refundable ≤ money actually paid and not yet refunded (wallet credits are credited
      back, never refunded in cash — Lago);
    - max_offsettable ≤ the amount still unpaid and not yet offset.
    """
    for name, value in (
        ("total_amount_cents", total_amount_cents),
        ("prepaid_credit_amount_cents", prepaid_credit_amount_cents),
        ("credit_notes_amount_cents", credit_notes_amount_cents),
        ("paid_amount_cents", paid_amount_cents),
        ("credited_amount_cents", credited_amount_cents),
        ("refunded_amount_cents", refunded_amount_cents),
        ("offset_amount_cents", offset_amount_cents),
    ):
        if value < 0:
            raise InvalidCreditNote(f"{name} cannot be negative", field=name)
    if paid_amount_cents > total_amount_cents:
        raise InvalidCreditNote("paid more than the invoice total", field="paid_amount_cents")
    issued = credited_amount_cents + refunded_amount_cents + offset_amount_cents
    given = total_amount_cents + prepaid_credit_amount_cents + credit_notes_amount_cents
    creditable = max(0, given - issued)
    refundable = max(0, min(creditable, paid_amount_cents - refunded_amount_cents))
    unpaid = total_amount_cents - paid_amount_cents
    offsettable = max(0, min(creditable, unpaid - offset_amount_cents))
    return CreditableAmounts(creditable, refundable, offsettable)


@dataclass(frozen=True, slots=True)
class UnusedTimeCredit:
    """A credit note for the unused part of a pay-in-advance fee (minor units)."""

    amount_cents: int  # fee amount × unused fraction, before coupons
    coupons_adjustment_amount_cents: int  # the fee's coupon share × unused fraction
    sub_total_excluding_taxes_amount_cents: int
    taxes_amount_cents: int
    total_amount_cents: int


def unused_time_credit(
    *,
    fee_amount_cents: int,
    fee_coupons_amount_cents: int,
    taxes: Sequence[TaxRate],
    unused_fraction: Fraction | Decimal,
    rounding: Rounding = Rounding.HALF_UP,
) -> UnusedTimeCredit:
    """Credit for unused prepaid time on termination or upgrade.

    The customer gets back the unused fraction of what they actually paid for the fee:
    amount = round(fee × f), coupon adjustment = round(fee's coupon share × f) — a coupon is
    never refunded, so its unused part is taken back — and each tax re-computed on the
    credited base, round(base × rate / 100) per rate (same rule as the invoice). `f` is
    exact (e.g. Fraction(17, 31) unused days), between 0 and 1. Each amount is rounded once.
    """
    fraction = Fraction(unused_fraction)
    if not Fraction(0) <= fraction <= Fraction(1):
        raise InvalidCreditNote("unused fraction must be between 0 and 1", field="unused_fraction")
    if not 0 <= fee_coupons_amount_cents <= fee_amount_cents:
        raise InvalidCreditNote(
            "a fee's coupon share lies between 0 and its amount", field="fee_coupons_amount_cents"
        )
    amount = round_fraction(fee_amount_cents * fraction, rounding)
    coupons = round_fraction(fee_coupons_amount_cents * fraction, rounding)
    base = amount - coupons
    tax = sum(round_fraction(base * Fraction(t.rate) / 100, rounding) for t in taxes)
    return UnusedTimeCredit(amount, coupons, base, tax, base + tax)
