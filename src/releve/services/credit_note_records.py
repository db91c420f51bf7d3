"""What a credit note stores, and the port of its repository.

Field names equal the column names (`adapters/sql/tables_credit_notes.py`). Amounts are integer
minor units of the invoice currency; times are aware UTC datetimes. Once issued, only
`balance_amount_cents`, `credit_status`, `refund_status`, `updated_at` and `voided_at` change
(the database refuses anything else).
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Protocol, cast
from uuid import UUID

from releve.domain.credit_notes import CreditNoteBalance
from releve.services.billing_ports import BillingUnitOfWork
from releve.services.billing_records import Fee
from releve.services.pagination import PageRequest

REASONS = (
    "duplicated_charge",
    "product_unsatisfactory",
    "order_change",
    "order_cancellation",
    "fraudulent_charge",
    "other",
)
CREDIT_AVAILABLE = "available"
CREDIT_CONSUMED = "consumed"
CREDIT_VOIDED = "voided"
REFUND_PENDING = "pending"
REFUND_STATUSES = ("pending", "succeeded", "failed")


@dataclass(slots=True)
class CreditNote:
    id: UUID
    organization_id: UUID
    customer_id: UUID
    invoice_id: UUID
    sequential_id: int
    number: str
    reason: str
    currency: str
    sub_total_excluding_taxes_amount_cents: int
    taxes_amount_cents: int
    taxes_rate: Decimal
    total_amount_cents: int
    credit_amount_cents: int
    refund_amount_cents: int
    offset_amount_cents: int
    coupons_adjustment_amount_cents: int
    balance_amount_cents: int
    issuing_date: date
    created_at: datetime
    updated_at: datetime
    description: str | None = None
    automatic_key: str | None = None
    credit_status: str | None = None
    refund_status: str | None = None
    voided_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class CreditNoteItem:
    id: UUID
    organization_id: UUID
    credit_note_id: UUID
    fee_id: UUID
    position: int
    amount_cents: int
    created_at: datetime


@dataclass(frozen=True, slots=True)
class CreditNoteAppliedTax:
    id: UUID
    organization_id: UUID
    credit_note_id: UUID
    position: int
    tax_code: str
    tax_name: str
    tax_rate: Decimal
    amount_cents: int
    base_amount_cents: int
    created_at: datetime
    tax_id: UUID | None = None


@dataclass(frozen=True, slots=True)
class CreditNoteConsumption:
    id: UUID
    organization_id: UUID
    credit_note_id: UUID
    invoice_id: UUID
    amount_cents: int
    created_at: datetime


@dataclass(frozen=True, slots=True)
class CreditNoteFilter:
    customer_id: UUID | None = None
    invoice_number: str | None = None
    issuing_date_from: date | None = None
    issuing_date_to: date | None = None
    reason: str | None = None
    credit_status: str | None = None
    refund_status: str | None = None


class CreditNoteRepository(Protocol):
    def add(
        self,
        note: CreditNote,
        items: Sequence[CreditNoteItem],
        taxes: Sequence[CreditNoteAppliedTax],
    ) -> None: ...
    def get(self, organization_id: UUID, credit_note_id: UUID) -> CreditNote | None: ...
    def get_for_update(self, organization_id: UUID, credit_note_id: UUID) -> CreditNote | None:
        """The credit note, its row locked until the transaction ends."""
        ...

    def for_invoice(self, invoice_id: UUID) -> list[CreditNote]:
        """Every credit note of an invoice (voided ones included), oldest first."""
        ...

    def credited_by_fee(self, fee_ids: Collection[UUID]) -> dict[UUID, int]:
        """fee id → Σ of the credit note items already issued on it."""
        ...

    def by_automatic_key(self, organization_id: UUID, key: str) -> CreditNote | None: ...
    def prepaid_fee(self, subscription_id: UUID, at: datetime) -> Fee | None:
        """The in-advance subscription fee of a finalized invoice whose period contains `at`."""
        ...

    def list_notes(
        self, organization_id: UUID, filters: CreditNoteFilter, page: PageRequest
    ) -> tuple[list[CreditNote], int]: ...
    def items_for(self, ids: Collection[UUID]) -> dict[UUID, list[CreditNoteItem]]: ...
    def taxes_for(self, ids: Collection[UUID]) -> dict[UUID, list[CreditNoteAppliedTax]]: ...
    def update_status(self, note: CreditNote) -> None:
        """Write the mutable columns (statuses, `updated_at`, `voided_at`)."""
        ...

    def available_balances(
        self, organization_id: UUID, customer_id: UUID, currency: str
    ) -> list[CreditNoteBalance]:
        """The customer's credit notes with credit left in `currency`, oldest first."""
        ...

    def consume(self, consumption: CreditNoteConsumption, at: datetime) -> bool:
        """Record it and take its amount off the balance (`consumed` at 0). False when this
        invoice already consumed this credit note; raises StoreConflict if the balance no
        longer covers it (a concurrent void or consumption)."""
        ...

    def consumptions_for_invoices(
        self, invoice_ids: Collection[UUID]
    ) -> dict[UUID, list[tuple[CreditNoteConsumption, CreditNote]]]:
        """invoice id → what it consumed, with the credit note consumed."""
        ...


class CreditNoteUnitOfWork(BillingUnitOfWork, Protocol):
    @property
    def credit_notes(self) -> CreditNoteRepository: ...

    def __enter__(self) -> CreditNoteUnitOfWork: ...


class CreditNoteUnitOfWorkFactory(Protocol):
    def __call__(self, *, read_only: bool = False) -> CreditNoteUnitOfWork: ...


def credit_note_credits_for(
    uow: BillingUnitOfWork, invoice_ids: Collection[UUID]
) -> dict[UUID, list[tuple[CreditNoteConsumption, CreditNote]]]:
    """Invoice id → what it consumed of credit notes (for Lago's invoice `credits`)."""
    repository = cast(CreditNoteUnitOfWork, uow).credit_notes  # the SQL unit of work has it
    return repository.consumptions_for_invoices(invoice_ids)
