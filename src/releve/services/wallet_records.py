"""What wallets store, and the port the wallet use cases talk to.

Field names equal the column names (`adapters/sql/tables_wallets.py`). Amounts are integer minor
units of the wallet currency; credits and `rate_amount` (currency major units per credit) are
`Decimal`; times are aware UTC datetimes.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Protocol, cast
from uuid import UUID

from releve.domain.money import Currency
from releve.services.billing_ports import BillingUnitOfWork
from releve.services.pagination import PageRequest
from releve.services.ports import UnitOfWork

WALLET_ACTIVE = "active"
WALLET_TERMINATED = "terminated"

INBOUND = "inbound"
OUTBOUND = "outbound"
PURCHASED = "purchased"
GRANTED = "granted"
INVOICED = "invoiced"
VOIDED = "voided"
TX_PENDING = "pending"
TX_SETTLED = "settled"
TX_FAILED = "failed"
SOURCE_MANUAL = "manual"
SOURCE_EXPIRATION = "expiration"  # our addition: the void that closes an expired wallet
TRANSACTION_STATUSES = (PURCHASED, GRANTED, INVOICED, VOIDED)
TRANSACTION_TYPES = (INBOUND, OUTBOUND)
STATUSES = (TX_PENDING, TX_SETTLED, TX_FAILED)


@dataclass(slots=True)
class StoredWallet:
    id: UUID
    organization_id: UUID
    customer_id: UUID
    currency: Currency  # the column holds its code
    rate_amount: Decimal
    status: str
    priority: int
    invoice_requires_successful_payment: bool
    created_at: datetime
    updated_at: datetime
    name: str | None = None
    expiration_at: datetime | None = None
    terminated_at: datetime | None = None

    def usable_at(self, at: datetime) -> bool:
        """Active and not expired at `at` (the expiry run may not have terminated it yet)."""
        return self.status == WALLET_ACTIVE and (
            self.expiration_at is None or self.expiration_at > at
        )


@dataclass(slots=True)
class WalletTransaction:
    """One ledger row. Inbound rows add to the balance, outbound rows take from it, once
    `settled`; `granted_amount_cents` is the part that concerns granted (free) credits."""

    id: UUID
    organization_id: UUID
    wallet_id: UUID
    transaction_type: str
    transaction_status: str
    status: str
    source: str
    amount_cents: int
    granted_amount_cents: int
    credit_amount: Decimal
    invoice_requires_successful_payment: bool
    created_at: datetime
    invoice_id: UUID | None = None
    name: str | None = None
    settled_at: datetime | None = None
    failed_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class LedgerBalance:
    """Sums of a wallet's settled rows: what it holds and what invoices took."""

    balance_cents: int = 0
    granted_balance_cents: int = 0
    credits: Decimal = Decimal(0)
    consumed_cents: int = 0
    consumed_credits: Decimal = Decimal(0)

    @property
    def purchased_balance_cents(self) -> int:
        return self.balance_cents - self.granted_balance_cents


@dataclass(frozen=True, slots=True)
class TransactionFilter:
    status: str | None = None
    transaction_type: str | None = None
    transaction_status: str | None = None


class WalletRepository(Protocol):
    def add(self, wallet: StoredWallet) -> None: ...
    def update(self, wallet: StoredWallet) -> None: ...
    def get(
        self, organization_id: UUID, wallet_id: UUID, *, lock: bool = False
    ) -> StoredWallet | None:
        """The wallet; `lock` holds its row until the transaction ends (PostgreSQL; SQLite
        write transactions are serialized), so balance checks and debits do not interleave."""
        ...

    def list_wallets(
        self, organization_id: UUID, customer_id: UUID | None, page: PageRequest
    ) -> tuple[list[StoredWallet], int]: ...
    def for_customer(
        self, organization_id: UUID, customer_id: UUID, *, lock: bool = False
    ) -> list[StoredWallet]:
        """The customer's active wallets, oldest first."""
        ...

    def expiring(self, at: datetime) -> list[StoredWallet]:
        """Active wallets (all organizations) whose `expiration_at` ≤ `at`."""
        ...

    def add_transaction(self, transaction: WalletTransaction) -> None: ...
    def set_transaction_status(self, transaction: WalletTransaction) -> None:
        """Record a pending row's payment outcome: `status`, `settled_at`, `failed_at` only."""
        ...

    def get_transaction(
        self, organization_id: UUID, transaction_id: UUID
    ) -> WalletTransaction | None: ...
    def transactions(
        self, organization_id: UUID, wallet_id: UUID, filters: TransactionFilter, page: PageRequest
    ) -> tuple[list[WalletTransaction], int]:
        """Newest first."""
        ...

    def for_invoice(self, organization_id: UUID, invoice_id: UUID) -> list[WalletTransaction]:
        """Every row naming this invoice (a purchase's credit invoice, or consumptions)."""
        ...

    def balances(self, wallet_ids: Collection[UUID]) -> dict[UUID, LedgerBalance]:
        """wallet id → sums of its settled rows (one query; a wallet without rows is zero)."""
        ...


class WalletUnitOfWork(BillingUnitOfWork, Protocol):
    @property
    def wallets(self) -> WalletRepository: ...

    def __enter__(self) -> WalletUnitOfWork: ...


class WalletUnitOfWorkFactory(Protocol):
    def __call__(self, *, read_only: bool = False) -> WalletUnitOfWork: ...


def wallet_uow(uow: UnitOfWork) -> WalletUnitOfWork:
    """The wallet view of a unit of work the billing code passes as a plain `UnitOfWork` (the
    SQL unit of work carries every repository)."""
    return cast(WalletUnitOfWork, uow)
