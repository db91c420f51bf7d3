"""The ports billing talks to: the invoice repository and a unit of work that carries it.

`BillingUnitOfWork` is the ordinary `UnitOfWork` plus `invoices`; the SQL unit of work provides
both. Repositories never commit; a unique-key race surfaces as `StoreConflict` at commit.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import date, datetime
from typing import Protocol
from uuid import UUID

from releve.services.billing_records import AppliedTax, Fee, Invoice, InvoiceSubscription
from releve.services.pagination import PageRequest
from releve.services.ports import UnitOfWork
from releve.services.records import Subscription


@dataclass(frozen=True, slots=True)
class InvoiceFilter:
    statuses: tuple[str, ...]
    customer_id: UUID | None = None
    payment_status: str | None = None
    invoice_type: str | None = None
    issuing_date_from: date | None = None
    issuing_date_to: date | None = None


@dataclass(frozen=True, slots=True)
class FeeFilter:
    invoice_statuses: tuple[str, ...]
    fee_type: str | None = None
    customer_id: UUID | None = None
    external_subscription_id: str | None = None
    payment_status: str | None = None


class InvoiceRepository(Protocol):
    def billing_candidates(self, at: datetime) -> list[Subscription]:
        """Subscriptions (all organizations) that may have a period to bill at `at`: active
        ones started by then, and terminated ones whose end is not billed yet."""
        ...

    def billed_periods(
        self, subscription_ids: Collection[UUID]
    ) -> dict[UUID, list[InvoiceSubscription]]:
        """Every billed period of these subscriptions (one query)."""
        ...

    def period_billed(self, subscription_id: UUID, kind: str, period_start: datetime) -> bool: ...
    def add(
        self,
        invoice: Invoice,
        links: Collection[InvoiceSubscription],
        fee_rows: Collection[Fee],
        taxes: Collection[AppliedTax],
    ) -> None:
        """Insert a draft (or closed) invoice with its lines; a billed period raises
        StoreConflict at commit (or at once)."""
        ...

    def next_sequential_id(self, organization_id: UUID) -> int:
        """Take the organization's next invoice number, locked until the transaction ends
        (row lock on PostgreSQL; SQLite write transactions are serialized)."""
        ...

    def update(self, invoice: Invoice) -> None: ...
    def replace_lines(
        self, invoice: Invoice, fee_rows: Collection[Fee], taxes: Collection[AppliedTax]
    ) -> None:
        """A refreshed draft: new fees and applied taxes, updated totals."""
        ...

    def drafts(self) -> list[Invoice]:
        """Every draft invoice (all organizations), oldest first."""
        ...

    def get_for_update(self, organization_id: UUID, invoice_id: UUID) -> Invoice | None:
        """The invoice with its row locked until the transaction ends."""
        ...

    def get(self, organization_id: UUID, invoice_id: UUID) -> Invoice | None: ...
    def by_ids(self, organization_id: UUID, invoice_ids: Collection[UUID]) -> dict[UUID, Invoice]:
        """id → invoice of this organization, for those of `invoice_ids` that exist."""
        ...

    def list_invoices(
        self, organization_id: UUID, filters: InvoiceFilter, page: PageRequest
    ) -> tuple[list[Invoice], int]: ...
    def fees_for(self, invoice_ids: Collection[UUID]) -> dict[UUID, list[Fee]]: ...
    def taxes_for(self, invoice_ids: Collection[UUID]) -> dict[UUID, list[AppliedTax]]: ...
    def links_for(self, invoice_ids: Collection[UUID]) -> dict[UUID, list[InvoiceSubscription]]: ...
    def get_fee(self, organization_id: UUID, fee_id: UUID) -> Fee | None: ...
    def list_fees(
        self, organization_id: UUID, filters: FeeFilter, page: PageRequest
    ) -> tuple[list[Fee], int]: ...
    def charge_filter_ids(self, charge_ids: Collection[UUID]) -> dict[tuple[UUID, int], UUID]:
        """(charge id, filter position) → charge filter id."""
        ...


class BillingUnitOfWork(UnitOfWork, Protocol):
    @property
    def invoices(self) -> InvoiceRepository: ...

    def __enter__(self) -> BillingUnitOfWork: ...


class DeductionHolderRepository(Protocol):
    def customers_with_deductions(self, customer_ids: Collection[UUID]) -> set[UUID]:
        """Those of `customer_ids` with any applied coupon, credit note or wallet (any status)."""
        ...


class DeductionHolderUnitOfWork(Protocol):
    @property
    def deduction_holders(self) -> DeductionHolderRepository: ...


class BillingUnitOfWorkFactory(Protocol):
    def __call__(self, *, read_only: bool = False) -> BillingUnitOfWork: ...
