"""Issuing a credit note on a finalized invoice, inside the caller's unit of work (no commit).

Checks (Lago's, lago-api.md §4.4), each failure a 422 naming the field, nothing stored:
- the invoice is finalized (not draft, not voided) with a total > 0, else 405
  `invalid_type_or_status`;
- items: a non-empty list; each fee belongs to the invoice (else 404 `fee_not_found`), its
  amount is a non-negative integer ≤ what is left of the fee
  (`amount_cents: higher_than_remaining_fee_amount`);
- credit + refund + offset == the items' total including taxes
  (`base: does_not_match_item_amounts`);
- Σ of every credit note of the invoice ≤ its total plus the prepaid credits spent on it
  (`base: higher_than_remaining_invoice_amount`); refund ≤ paid and not yet refunded
  (`refund_amount_cents`); offset ≤ still due and not yet offset (`offset_amount_cents`) —
  maxima from `domain.credit_notes.creditable_amounts`.
The invoice row is locked first, so two concurrent issuers of one invoice are serialized and
the second sees the first's credit note (the Σ rule can never be broken by a race).
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

from releve.domain.credit_notes import CreditableAmounts, creditable_amounts
from releve.domain.periods import local_date
from releve.services import webhooks
from releve.services.billing_queries import NotAllowed
from releve.services.billing_records import (
    INVOICE_FINALIZED,
    PAYMENT_SUCCEEDED,
    Fee,
    Invoice,
)
from releve.services.credit_note_amounts import CreditLine, CreditNoteAmounts
from releve.services.credit_note_records import (
    CREDIT_AVAILABLE,
    REASONS,
    REFUND_PENDING,
    CreditNote,
    CreditNoteAppliedTax,
    CreditNoteItem,
    CreditNoteUnitOfWork,
)
from releve.services.errors import NotFound, ValidationFailed
from releve.services.subscriptions import customer_timezone
from releve.services.validation import Errors

AMOUNT_FIELDS = ("credit_amount_cents", "refund_amount_cents", "offset_amount_cents")


@dataclass(frozen=True, slots=True)
class Split:
    """How a credit note's total is given back (minor units)."""

    credit_amount_cents: int = 0
    refund_amount_cents: int = 0
    offset_amount_cents: int = 0

    @property
    def total(self) -> int:
        return self.credit_amount_cents + self.refund_amount_cents + self.offset_amount_cents


def creditable_invoice(
    uow: CreditNoteUnitOfWork, organization_id: UUID, invoice_id: UUID, *, lock: bool = True
) -> Invoice:
    """The invoice (locked unless `lock` is False) if a credit note may be issued on it."""
    if lock:
        invoice = uow.invoices.get_for_update(organization_id, invoice_id)
    else:
        invoice = uow.invoices.get(organization_id, invoice_id)
    if invoice is None or invoice.status not in ("finalized", "voided", "draft"):
        raise NotFound("invoice")
    given = (  # what the customer gave for it: money, wallet credits, credit note balances
        invoice.total_amount_cents
        + invoice.prepaid_credit_amount_cents
        + invoice.credit_notes_amount_cents
    )
    if invoice.status != INVOICE_FINALIZED or given <= 0:
        raise NotAllowed("invalid_type_or_status")
    return invoice


def maxima(uow: CreditNoteUnitOfWork, invoice: Invoice) -> CreditableAmounts:
    """What the invoice can still credit, refund and offset, given its issued credit notes."""
    notes = uow.credit_notes.for_invoice(invoice.id)
    paid = invoice.total_amount_cents if invoice.payment_status == PAYMENT_SUCCEEDED else 0
    return creditable_amounts(
        total_amount_cents=invoice.total_amount_cents,
        prepaid_credit_amount_cents=invoice.prepaid_credit_amount_cents,
        credit_notes_amount_cents=invoice.credit_notes_amount_cents,
        paid_amount_cents=paid,
        credited_amount_cents=sum(n.credit_amount_cents for n in notes),
        refunded_amount_cents=sum(n.refund_amount_cents for n in notes),
        offset_amount_cents=sum(n.offset_amount_cents for n in notes),
    )


def parse_lines(
    uow: CreditNoteUnitOfWork, invoice: Invoice, items: Any, errors: Errors
) -> list[CreditLine]:
    """The requested items as credit lines, each checked against what is left of its fee."""
    if not isinstance(items, list) or not items:
        errors.add("items", "value_is_mandatory")
        return []
    fees = {f.id: f for f in uow.invoices.fees_for([invoice.id])[invoice.id]}
    requested: list[tuple[Fee, int]] = []
    for item in items:
        if not isinstance(item, Mapping):
            errors.add("items", "value_is_invalid")
            continue
        try:
            fee = fees.get(UUID(str(item.get("fee_id"))))
        except ValueError:
            fee = None
        if fee is None:
            raise NotFound("fee")
        amount = item.get("amount_cents")
        if isinstance(amount, bool) or not isinstance(amount, int) or amount < 0:
            errors.add("amount_cents", "invalid_value")
            continue
        requested.append((fee, amount))
    credited = uow.credit_notes.credited_by_fee(list({f.id for f, _ in requested}))
    asked: dict[UUID, int] = {}
    for fee, amount in requested:
        asked[fee.id] = asked.get(fee.id, 0) + amount
        if asked[fee.id] > fee.amount_cents - credited[fee.id]:
            errors.add("amount_cents", "higher_than_remaining_fee_amount")
    return [CreditLine(fee, amount) for fee, amount in requested]


def parse_split(values: Mapping[str, Any], errors: Errors) -> Split:
    amounts = {}
    for name in AMOUNT_FIELDS:
        value = values.get(name, 0)
        if value is None:
            value = 0
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            errors.add(name, "value_is_invalid")
            value = 0
        amounts[name] = value
    return Split(**amounts)


def check_split(split: Split, amounts: CreditNoteAmounts, limits: CreditableAmounts) -> None:
    errors = Errors()
    if split.total != amounts.total_amount_cents:
        errors.add("base", "does_not_match_item_amounts")
    if split.total > limits.max_creditable_amount_cents:
        errors.add("base", "higher_than_remaining_invoice_amount")
    if split.refund_amount_cents > limits.max_refundable_amount_cents:
        errors.add("refund_amount_cents", "higher_than_remaining_invoice_amount")
    if split.offset_amount_cents > limits.max_offsettable_amount_cents:
        errors.add("offset_amount_cents", "higher_than_remaining_invoice_amount")
    if errors:
        raise ValidationFailed(errors.details)


def check_reason(reason: Any, errors: Errors) -> None:
    if reason is None:
        errors.add("reason", "value_is_mandatory")
    elif reason not in REASONS:
        errors.add("reason", "value_is_invalid")


def issue_in(
    uow: CreditNoteUnitOfWork,
    invoice: Invoice,
    amounts: CreditNoteAmounts,
    split: Split,
    *,
    reason: str,
    description: str | None,
    now: datetime,
    automatic_key: str | None = None,
) -> CreditNote:
    """Store the credit note (checked by the caller) and emit `credit_note.created`."""
    customer = uow.customers.get_by_id(invoice.customer_id)
    assert customer is not None
    tz = customer_timezone(uow, invoice.organization_id, customer)
    sequential_id = len(uow.credit_notes.for_invoice(invoice.id)) + 1
    note = CreditNote(
        id=uuid.uuid4(),
        organization_id=invoice.organization_id,
        customer_id=invoice.customer_id,
        invoice_id=invoice.id,
        sequential_id=sequential_id,
        number=f"{invoice.number}-CN{sequential_id}",
        reason=reason,
        description=description,
        automatic_key=automatic_key,
        credit_status=CREDIT_AVAILABLE if split.credit_amount_cents > 0 else None,
        refund_status=REFUND_PENDING if split.refund_amount_cents > 0 else None,
        currency=invoice.currency,
        sub_total_excluding_taxes_amount_cents=amounts.sub_total_excluding_taxes_amount_cents,
        taxes_amount_cents=amounts.taxes_amount_cents,
        taxes_rate=amounts.taxes_rate,
        total_amount_cents=amounts.total_amount_cents,
        credit_amount_cents=split.credit_amount_cents,
        refund_amount_cents=split.refund_amount_cents,
        offset_amount_cents=split.offset_amount_cents,
        coupons_adjustment_amount_cents=amounts.coupons_adjustment_amount_cents,
        balance_amount_cents=split.credit_amount_cents,
        issuing_date=local_date(now, tz),
        created_at=now,
        updated_at=now,
    )
    items = [
        CreditNoteItem(
            id=uuid.uuid4(),
            organization_id=note.organization_id,
            credit_note_id=note.id,
            fee_id=line.fee.id,
            position=position,
            amount_cents=line.amount_cents,
            created_at=now,
        )
        for position, line in enumerate(amounts.lines)
    ]
    tax_ids = {}
    for tax in amounts.taxes:
        stored = uow.taxes.get(invoice.organization_id, tax.tax_code)
        tax_ids[tax.tax_code] = stored.id if stored else None
    taxes = [
        CreditNoteAppliedTax(
            id=uuid.uuid4(),
            organization_id=note.organization_id,
            credit_note_id=note.id,
            position=position,
            tax_code=tax.tax_code,
            tax_name=tax.tax_name,
            tax_rate=tax.tax_rate,
            amount_cents=tax.amount_cents,
            base_amount_cents=tax.base_amount_cents,
            created_at=now,
            tax_id=tax_ids[tax.tax_code],
        )
        for position, tax in enumerate(amounts.taxes)
    ]
    uow.credit_notes.add(note, items, taxes)
    webhooks.emit(
        uow, note.organization_id, "credit_note.created", "credit_note", object_id=str(note.id)
    )
    return note
