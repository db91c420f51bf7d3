"""Wallets and their ledger, stored per organization (never commits; the unit of work does).

Balances are read, never stored: one aggregate over the settled ledger rows.
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime
from decimal import Decimal
from typing import Any
from uuid import UUID

import sqlalchemy as sa

from releve.adapters.currency_catalog import currency
from releve.adapters.sql.repositories.base import count_and_page, to_record, to_row
from releve.adapters.sql.tables_wallets import wallet_transactions, wallets
from releve.services.pagination import PageRequest
from releve.services.wallet_records import (
    INBOUND,
    INVOICED,
    OUTBOUND,
    TX_SETTLED,
    WALLET_ACTIVE,
    LedgerBalance,
    StoredWallet,
    TransactionFilter,
    WalletTransaction,
)

_TX = wallet_transactions


def _wallet(row: sa.Row[Any]) -> StoredWallet:
    values = dict(row._mapping)
    values["currency"] = currency(values["currency"])
    return StoredWallet(**values)


def _wallet_row(wallet: StoredWallet) -> dict[str, Any]:
    values = to_row(wallet)
    values["currency"] = wallet.currency.code
    return values


class SqlWalletRepository:
    def __init__(self, connection: sa.Connection) -> None:
        self._c = connection

    # --- wallets -----------------------------------------------------------------------------

    def add(self, wallet: StoredWallet) -> None:
        self._c.execute(wallets.insert().values(**_wallet_row(wallet)))

    def update(self, wallet: StoredWallet) -> None:
        values = _wallet_row(wallet)
        for frozen in ("id", "organization_id", "customer_id", "currency", "created_at"):
            del values[frozen]
        self._c.execute(wallets.update().where(wallets.c.id == wallet.id).values(**values))

    def get(
        self, organization_id: UUID, wallet_id: UUID, *, lock: bool = False
    ) -> StoredWallet | None:
        query = wallets.select().where(
            wallets.c.organization_id == organization_id, wallets.c.id == wallet_id
        )
        row = self._c.execute(query.with_for_update() if lock else query).first()
        return _wallet(row) if row else None

    def list_wallets(
        self, organization_id: UUID, customer_id: UUID | None, page: PageRequest
    ) -> tuple[list[StoredWallet], int]:
        query = wallets.select().where(wallets.c.organization_id == organization_id)
        if customer_id is not None:
            query = query.where(wallets.c.customer_id == customer_id)
        query = query.order_by(wallets.c.created_at.desc(), wallets.c.id)
        rows, total = count_and_page(self._c, query, page.offset, page.per_page)
        return [_wallet(r) for r in rows], total

    def for_customer(
        self, organization_id: UUID, customer_id: UUID, *, lock: bool = False
    ) -> list[StoredWallet]:
        query = (
            wallets.select()
            .where(
                wallets.c.organization_id == organization_id,
                wallets.c.customer_id == customer_id,
                wallets.c.status == WALLET_ACTIVE,
            )
            .order_by(wallets.c.created_at, wallets.c.id)
        )
        rows = self._c.execute(query.with_for_update() if lock else query)
        return [_wallet(r) for r in rows]

    def expiring(self, at: datetime) -> list[StoredWallet]:
        rows = self._c.execute(
            wallets.select()
            .where(
                wallets.c.status == WALLET_ACTIVE,
                wallets.c.expiration_at.is_not(None),
                wallets.c.expiration_at <= at,
            )
            .order_by(wallets.c.expiration_at, wallets.c.id)
        )
        return [_wallet(r) for r in rows]

    # --- ledger ------------------------------------------------------------------------------

    def add_transaction(self, transaction: WalletTransaction) -> None:
        self._c.execute(_TX.insert().values(**to_row(transaction)))

    def set_transaction_status(self, transaction: WalletTransaction) -> None:
        # The only update the ledger allows (migration 0006 triggers): a pending row's outcome.
        self._c.execute(
            _TX.update()
            .where(_TX.c.id == transaction.id)
            .values(
                status=transaction.status,
                settled_at=transaction.settled_at,
                failed_at=transaction.failed_at,
            )
        )

    def get_transaction(
        self, organization_id: UUID, transaction_id: UUID
    ) -> WalletTransaction | None:
        row = self._c.execute(
            _TX.select().where(_TX.c.organization_id == organization_id, _TX.c.id == transaction_id)
        ).first()
        return to_record(WalletTransaction, row) if row else None

    def transactions(
        self, organization_id: UUID, wallet_id: UUID, filters: TransactionFilter, page: PageRequest
    ) -> tuple[list[WalletTransaction], int]:
        query = _TX.select().where(
            _TX.c.organization_id == organization_id, _TX.c.wallet_id == wallet_id
        )
        if filters.status is not None:
            query = query.where(_TX.c.status == filters.status)
        if filters.transaction_type is not None:
            query = query.where(_TX.c.transaction_type == filters.transaction_type)
        if filters.transaction_status is not None:
            query = query.where(_TX.c.transaction_status == filters.transaction_status)
        query = query.order_by(_TX.c.created_at.desc(), _TX.c.id)
        rows, total = count_and_page(self._c, query, page.offset, page.per_page)
        return [to_record(WalletTransaction, r) for r in rows], total

    def for_invoice(self, organization_id: UUID, invoice_id: UUID) -> list[WalletTransaction]:
        rows = self._c.execute(
            _TX.select()
            .where(_TX.c.organization_id == organization_id, _TX.c.invoice_id == invoice_id)
            .order_by(_TX.c.created_at, _TX.c.id)
        )
        return [to_record(WalletTransaction, r) for r in rows]

    def balances(self, wallet_ids: Collection[UUID]) -> dict[UUID, LedgerBalance]:
        found = {w: LedgerBalance() for w in wallet_ids}
        if not found:
            return found
        # Credits are summed in Python: SQLite stores exact decimals as text (types.py), so a
        # SQL SUM would go through float there. Amounts are integers and summed in SQL.
        rows = self._c.execute(
            sa.select(
                _TX.c.wallet_id,
                _TX.c.transaction_type,
                _TX.c.transaction_status,
                sa.func.sum(_TX.c.amount_cents),
                sa.func.sum(_TX.c.granted_amount_cents),
            )
            .where(_TX.c.wallet_id.in_(sorted(found)), _TX.c.status == TX_SETTLED)
            .group_by(_TX.c.wallet_id, _TX.c.transaction_type, _TX.c.transaction_status)
        )
        cents: dict[UUID, list[int]] = {w: [0, 0, 0] for w in found}
        for wallet_id, kind, status, amount, granted in rows:
            sign = 1 if kind == INBOUND else -1
            totals = cents[wallet_id]
            totals[0] += sign * int(amount)
            totals[1] += sign * int(granted)
            if kind == OUTBOUND and status == INVOICED:
                totals[2] += int(amount)
        credits: dict[UUID, list[Decimal]] = {w: [Decimal(0), Decimal(0)] for w in found}
        for wallet_id, kind, status, credit in self._c.execute(
            sa.select(
                _TX.c.wallet_id,
                _TX.c.transaction_type,
                _TX.c.transaction_status,
                _TX.c.credit_amount,
            ).where(_TX.c.wallet_id.in_(sorted(found)), _TX.c.status == TX_SETTLED)
        ):
            credits[wallet_id][0] += credit if kind == INBOUND else -credit
            if kind == OUTBOUND and status == INVOICED:
                credits[wallet_id][1] += credit
        return {
            w: LedgerBalance(
                balance_cents=cents[w][0],
                granted_balance_cents=cents[w][1],
                credits=credits[w][0],
                consumed_cents=cents[w][2],
                consumed_credits=credits[w][1],
            )
            for w in found
        }
