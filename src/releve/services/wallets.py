"""Wallets (prepaid credits) and their append-only ledger (Lago's `wallets`,
`wallet_transactions`)."""

from __future__ import annotations

from datetime import datetime

from releve.domain.wallets import Wallet, WalletsResult
from releve.services.billing_records import Invoice
from releve.services.ports import Clock, UnitOfWork, UnitOfWorkFactory
from releve.services.records import Customer


def invoice_wallets(
    uow: UnitOfWork, customer: Customer, currency: str, at: datetime
) -> tuple[Wallet, ...]:
    """The customer's active wallets a finalizing invoice in `currency` at `at` may draw on."""
    return ()


def settle_wallets(uow: UnitOfWork, invoice: Invoice, result: WalletsResult, now: datetime) -> None:
    """At finalization: record what `invoice` took from each wallet (ledger). No commit."""
    return None


class WalletService:
    def __init__(self, uow: UnitOfWorkFactory, clock: Clock) -> None:
        self._uow = uow
        self._clock = clock
