"""Credit notes (Lago's `credit_notes`: credit, refund, offset; estimate; void).

A credit note is a document of its own: it never changes the invoice it credits (finalized
invoices are immutable). Its `credit` part becomes a balance that the customer's next invoices
in the same currency consume after taxes, oldest credit note first (`invoice_credit_notes`
while pricing, `settle_credit_notes` when an invoice is finalized — once per invoice and credit
note, whatever retries). Voiding a credit note drops what is left of that balance.
Issuing rules: `credit_note_issuing`; amounts: `credit_note_amounts`; automatic credit notes
on termination and upgrade: `credit_note_termination`.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast
from uuid import UUID

from releve.domain.credit_notes import CreditableAmounts, CreditNoteBalance, CreditNotesResult
from releve.services import credit_note_issuing as issuing
from releve.services import credit_note_termination
from releve.services.billing_queries import InvoiceQueries, InvoiceView, NotAllowed, parse_id
from releve.services.billing_records import Fee, Invoice
from releve.services.credit_note_amounts import CreditNoteAmounts, compute
from releve.services.credit_note_records import (
    CREDIT_AVAILABLE,
    CREDIT_CONSUMED,
    CREDIT_VOIDED,
    REASONS,
    REFUND_STATUSES,
    CreditNote,
    CreditNoteAppliedTax,
    CreditNoteConsumption,
    CreditNoteFilter,
    CreditNoteItem,
    CreditNoteUnitOfWork,
    CreditNoteUnitOfWorkFactory,
)
from releve.services.errors import NotFound, ValidationFailed
from releve.services.list_filters import customer_filter, iso_date
from releve.services.pagination import Page, PageRequest
from releve.services.ports import Clock, UnitOfWork
from releve.services.records import Customer, Subscription
from releve.services.transactions import retry_on_conflict
from releve.services.validation import Errors

CREDIT_STATUSES = (CREDIT_AVAILABLE, CREDIT_CONSUMED, CREDIT_VOIDED)


def _uow(uow: UnitOfWork) -> CreditNoteUnitOfWork:
    return cast(CreditNoteUnitOfWork, uow)  # the SQL unit of work carries `credit_notes`


def invoice_credit_notes(
    uow: UnitOfWork, customer: Customer, currency: str
) -> tuple[CreditNoteBalance, ...]:
    """The customer's credit notes with credit left, in `currency`, oldest first."""
    notes = _uow(uow).credit_notes
    return tuple(notes.available_balances(customer.organization_id, customer.id, currency))


def settle_credit_notes(
    uow: UnitOfWork, invoice: Invoice, result: CreditNotesResult, now: datetime
) -> None:
    """At finalization: persist what `invoice` consumed of each credit note. No commit.

    Idempotent per (credit note, invoice); a balance that changed since pricing (a concurrent
    void or consumption) raises StoreConflict, so the finalization is retried and re-priced.
    """
    repository = _uow(uow).credit_notes
    for consumed in result.consumptions:
        if consumed.amount_cents <= 0:
            continue
        repository.consume(
            CreditNoteConsumption(
                id=uuid.uuid4(),
                organization_id=invoice.organization_id,
                credit_note_id=UUID(consumed.credit_note_id),
                invoice_id=invoice.id,
                amount_cents=consumed.amount_cents,
                created_at=now,
            ),
            now,
        )


def restore_credit_notes(uow: UnitOfWork, invoice: Invoice, now: datetime) -> None:
    """Voiding `invoice`: give back to each credit note what the invoice consumed of it, as
    Lago's `CreditNotes::RecreditService` (balance += amount, available again), unless the
    note was voided since. The consumption rows stay (the voided invoice still shows them).
    No commit."""
    repository = _uow(uow).credit_notes
    for consumption, _ in repository.consumptions_for_invoices([invoice.id])[invoice.id]:
        note = repository.get_for_update(invoice.organization_id, consumption.credit_note_id)
        if note is None or note.credit_status == CREDIT_VOIDED:
            continue
        note.balance_amount_cents += consumption.amount_cents
        note.credit_status = CREDIT_AVAILABLE
        note.updated_at = now
        repository.update_status(note)


def on_subscription_terminated(uow: UnitOfWork, subscription: Subscription, now: datetime) -> None:
    """In the terminating unit of work, after the final invoices: the credit note for the
    unused days of an in-advance plan's prepaid fee. No commit."""
    credit_note_termination.credit_unused_time(_uow(uow), subscription, now)


@dataclass(frozen=True, slots=True)
class CreditNoteView:
    note: CreditNote
    items: tuple[tuple[CreditNoteItem, Fee], ...]
    applied_taxes: tuple[CreditNoteAppliedTax, ...]
    invoice: InvoiceView


@dataclass(frozen=True, slots=True)
class CreditNoteEstimate:
    invoice: Invoice
    amounts: CreditNoteAmounts
    maxima: CreditableAmounts

    def max_amount(self, kind: str) -> int:
        """Lago's estimate maxima: the estimated total, capped by what the invoice allows."""
        limit = {
            "creditable": self.maxima.max_creditable_amount_cents,
            "refundable": self.maxima.max_refundable_amount_cents,
            "offsettable": self.maxima.max_offsettable_amount_cents,
        }[kind]
        return min(self.amounts.total_amount_cents, limit)


def _text(errors: Errors, field: str, value: Any) -> str | None:
    if value is not None and not isinstance(value, str):
        errors.add(field, "value_is_invalid")
        return None
    return value


class CreditNoteService:
    def __init__(self, uow: CreditNoteUnitOfWorkFactory, clock: Clock) -> None:
        self._uow = uow
        self._clock = clock
        self._invoices = InvoiceQueries(uow, clock)

    # --- views -------------------------------------------------------------------------------

    def _views(self, uow: CreditNoteUnitOfWork, notes: list[CreditNote]) -> list[CreditNoteView]:
        ids = [n.id for n in notes]
        items = uow.credit_notes.items_for(ids)
        taxes = uow.credit_notes.taxes_for(ids)
        invoices: dict[UUID, InvoiceView] = {}
        views = []
        for note in notes:
            if note.invoice_id not in invoices:
                invoice = uow.invoices.get(note.organization_id, note.invoice_id)
                assert invoice is not None
                invoices[note.invoice_id] = self._invoices.views_in(uow, [invoice])[0]
            invoice_view = invoices[note.invoice_id]
            fees = {f.id: f for f in invoice_view.fees}
            views.append(
                CreditNoteView(
                    note,
                    tuple((item, fees[item.fee_id]) for item in items[note.id]),
                    tuple(taxes[note.id]),
                    invoice_view,
                )
            )
        return views

    def _get(self, uow: CreditNoteUnitOfWork, organization_id: UUID, lago_id: str) -> CreditNote:
        note = uow.credit_notes.get_for_update(organization_id, parse_id(lago_id, "credit_note"))
        if note is None:
            raise NotFound("credit_note")
        return note

    def get(self, organization_id: UUID, lago_id: str) -> CreditNoteView:
        with self._uow(read_only=True) as uow:
            note = uow.credit_notes.get(organization_id, parse_id(lago_id, "credit_note"))
            if note is None:
                raise NotFound("credit_note")
            return self._views(uow, [note])[0]

    def list_notes(
        self,
        organization_id: UUID,
        page: PageRequest,
        *,
        external_customer_id: str | None = None,
        invoice_number: str | None = None,
        issuing_date_from: str | None = None,
        issuing_date_to: str | None = None,
        reason: str | None = None,
        credit_status: str | None = None,
        refund_status: str | None = None,
    ) -> Page[CreditNoteView]:
        errors = Errors()
        start = iso_date(errors, "issuing_date_from", issuing_date_from)
        end = iso_date(errors, "issuing_date_to", issuing_date_to)
        if reason is not None and reason not in REASONS:
            errors.add("reason", "value_is_invalid")
        if credit_status is not None and credit_status not in CREDIT_STATUSES:
            errors.add("credit_status", "value_is_invalid")
        if refund_status is not None and refund_status not in REFUND_STATUSES:
            errors.add("refund_status", "value_is_invalid")
        if errors:
            raise ValidationFailed(errors.details)
        with self._uow(read_only=True) as uow:
            known, customer_id = customer_filter(
                uow.customers, organization_id, external_customer_id
            )
            if not known:
                return Page([], page, 0)
            filters = CreditNoteFilter(
                customer_id=customer_id,
                invoice_number=invoice_number,
                issuing_date_from=start,
                issuing_date_to=end,
                reason=reason,
                credit_status=credit_status,
                refund_status=refund_status,
            )
            notes, total = uow.credit_notes.list_notes(organization_id, filters, page)
            return Page(self._views(uow, notes), page, total)

    # --- issuing -----------------------------------------------------------------------------

    def _priced(
        self,
        uow: CreditNoteUnitOfWork,
        organization_id: UUID,
        values: Mapping[str, Any],
        *,
        lock: bool = True,
    ) -> tuple[Invoice, CreditNoteAmounts, Errors]:
        errors = Errors()
        invoice_id = values.get("invoice_id")
        if invoice_id is None:
            raise ValidationFailed.one("invoice_id", "value_is_mandatory")
        invoice = issuing.creditable_invoice(
            uow, organization_id, parse_id(str(invoice_id), "invoice"), lock=lock
        )
        lines = issuing.parse_lines(uow, invoice, values.get("items"), errors)
        amounts = compute(lines)
        if not errors and amounts.total_amount_cents <= 0:
            errors.add("amount_cents", "invalid_value")
        return invoice, amounts, errors

    def estimate(self, organization_id: UUID, values: Mapping[str, Any]) -> CreditNoteEstimate:
        """Lago's POST /credit_notes/estimate: the amounts a credit note of these items would
        have, and how much of it could be credited, refunded or offset. Stores nothing."""
        with self._uow(read_only=True) as uow:
            invoice, amounts, errors = self._priced(uow, organization_id, values, lock=False)
            if errors:
                raise ValidationFailed(errors.details)
            return CreditNoteEstimate(invoice, amounts, issuing.maxima(uow, invoice))

    def create(self, organization_id: UUID, values: Mapping[str, Any]) -> CreditNoteView:
        def attempt() -> CreditNoteView:
            with self._uow() as uow:
                invoice, amounts, errors = self._priced(uow, organization_id, values)
                split = issuing.parse_split(values, errors)
                issuing.check_reason(values.get("reason"), errors)
                description = _text(errors, "description", values.get("description"))
                if errors:
                    raise ValidationFailed(errors.details)
                issuing.check_split(split, amounts, issuing.maxima(uow, invoice))
                note = issuing.issue_in(
                    uow,
                    invoice,
                    amounts,
                    split,
                    reason=str(values["reason"]),
                    description=description,
                    now=self._clock.now(),
                )
                view = self._views(uow, [note])[0]
                uow.commit()
            return view

        return retry_on_conflict(attempt)

    # --- changes -----------------------------------------------------------------------------

    def update(
        self, organization_id: UUID, lago_id: str, values: Mapping[str, Any]
    ) -> CreditNoteView:
        """Lago's PUT /credit_notes/{id}: the refund status of a credit note with a refund."""
        refund_status = values.get("refund_status")
        if refund_status not in REFUND_STATUSES:
            raise ValidationFailed.one("refund_status", "value_is_invalid")

        def attempt() -> CreditNoteView:
            with self._uow() as uow:
                note = self._get(uow, organization_id, lago_id)
                if note.refund_amount_cents == 0:
                    raise ValidationFailed.one("refund_status", "no_refund_amount")
                note.refund_status = str(refund_status)
                note.updated_at = self._clock.now()
                uow.credit_notes.update_status(note)
                view = self._views(uow, [note])[0]
                uow.commit()
            return view

        return retry_on_conflict(attempt)

    def void(self, organization_id: UUID, lago_id: str) -> CreditNoteView:
        """Lago's PUT /credit_notes/{id}/void: what is left of the credit balance is dropped
        (405 `no_voidable_amount` when nothing is left). Consumed amounts stay consumed."""

        def attempt() -> CreditNoteView:
            with self._uow() as uow:
                note = self._get(uow, organization_id, lago_id)
                if note.credit_status != CREDIT_AVAILABLE or note.balance_amount_cents <= 0:
                    raise NotAllowed("no_voidable_amount")
                now = self._clock.now()
                note.balance_amount_cents = 0
                note.credit_status = CREDIT_VOIDED
                note.voided_at = now
                note.updated_at = now
                uow.credit_notes.update_status(note)
                view = self._views(uow, [note])[0]
                uow.commit()
            return view

        return retry_on_conflict(attempt)
