"""Credit notes (Lago's `credit_notes`: credit, refund, offset; estimate; void)."""

from __future__ import annotations

from datetime import datetime

from releve.domain.credit_notes import CreditNoteBalance, CreditNotesResult
from releve.services.billing_records import Invoice
from releve.services.ports import Clock, UnitOfWork, UnitOfWorkFactory
from releve.services.records import Customer, Subscription


def invoice_credit_notes(
    uow: UnitOfWork, customer: Customer, currency: str
) -> tuple[CreditNoteBalance, ...]:
    """The customer's credit notes with credit left, in `currency`, oldest first."""
    return ()


def settle_credit_notes(
    uow: UnitOfWork, invoice: Invoice, result: CreditNotesResult, now: datetime
) -> None:
    """At finalization: persist what `invoice` consumed of each credit note. No commit."""
    return None


def on_subscription_terminated(uow: UnitOfWork, subscription: Subscription, now: datetime) -> None:
    """In the terminating unit of work, after the final invoices: the credit note for the
    unused days of an in-advance plan's prepaid fee. No commit."""
    return None


class CreditNoteService:
    def __init__(self, uow: UnitOfWorkFactory, clock: Clock) -> None:
        self._uow = uow
        self._clock = clock
