"""Wallets (prepaid credits) and their append-only ledger (Lago's `wallets`,
`wallet_transactions`).

- Create / update / terminate wallets; add purchased or granted credits and void credits
  (`wallet_topups`); read them with an ongoing balance computed at the moment of reading
  (`wallet_views`), never by a polling job.
- Invoices draw on wallets only when finalized (`invoice_wallets`, then `settle_wallets`, both
  in the finalizing unit of work): the customer's wallets are locked, their ledger balances
  read, the domain decides what each pays (`domain.wallets.consume_wallets`), and one
  consumption row per (wallet, invoice) is appended — a retried or repeated finalization
  never debits twice (checked here, and by a unique index).
- Expiry (`expire_due`, from the billing run): a wallet past `expiration_at` is terminated and
  what it still holds is voided by one `expiration` row, once.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Mapping
from dataclasses import replace
from datetime import datetime
from typing import Any
from uuid import UUID

from releve.domain.wallets import Wallet, WalletsResult
from releve.services import webhooks
from releve.services.billing_queries import parse_id
from releve.services.billing_records import Invoice
from releve.services.errors import NotFound, StoreConflict, ValidationFailed
from releve.services.list_filters import customer_filter
from releve.services.pagination import Page, PageRequest
from releve.services.ports import Clock, CurrencyCatalog, UnitOfWork
from releve.services.records import Customer
from releve.services.transactions import retry_on_conflict
from releve.services.usage import CurrentUsageService
from releve.services.validation import Errors
from releve.services.wallet_input import transaction_input, wallet_changes, wallet_input
from releve.services.wallet_ledger import Movement, outbound_cents
from releve.services.wallet_records import (
    GRANTED,
    INBOUND,
    INVOICED,
    OUTBOUND,
    SOURCE_EXPIRATION,
    STATUSES,
    TRANSACTION_STATUSES,
    TRANSACTION_TYPES,
    VOIDED,
    WALLET_ACTIVE,
    WALLET_TERMINATED,
    StoredWallet,
    TransactionFilter,
    WalletUnitOfWork,
    WalletUnitOfWorkFactory,
    wallet_uow,
)
from releve.services.wallet_topups import apply_top_up, record
from releve.services.wallet_views import TransactionView, WalletView, domain_wallet, wallet_views

log = logging.getLogger(__name__)


def invoice_wallets(
    uow: UnitOfWork, customer: Customer, currency: str, at: datetime
) -> tuple[Wallet, ...]:
    """The customer's active wallets a finalizing invoice in `currency` at `at` may draw on,
    with their settled balances; their rows stay locked until the finalization commits."""
    repo = wallet_uow(uow).wallets
    usable = [
        w
        for w in repo.for_customer(customer.organization_id, customer.id, lock=True)
        if w.currency.code == currency and w.usable_at(at)
    ]
    balances = repo.balances([w.id for w in usable])
    return tuple(
        domain_wallet(w, balances[w.id]) for w in usable if balances[w.id].balance_cents > 0
    )


def settle_wallets(uow: UnitOfWork, invoice: Invoice, result: WalletsResult, now: datetime) -> None:
    """At finalization: record what `invoice` took from each wallet (ledger). No commit.

    Idempotent per invoice. Raises StoreConflict (the caller retries and prices again) when a
    wallet no longer holds what the invoice was priced with."""
    if not result.consumptions:
        return
    w_uow = wallet_uow(uow)
    repo = w_uow.wallets
    if any(
        t.transaction_status == INVOICED
        for t in repo.for_invoice(invoice.organization_id, invoice.id)
    ):
        return
    for consumption in result.consumptions:
        wallet = repo.get(invoice.organization_id, UUID(consumption.wallet_id), lock=True)
        assert wallet is not None
        balance = repo.balances([wallet.id])[wallet.id]
        if (
            consumption.amount_cents > balance.balance_cents
            or consumption.granted_amount_cents > balance.granted_balance_cents
        ):
            raise StoreConflict(f"wallet {wallet.id} changed while invoice {invoice.id} was priced")
        taken = outbound_cents(
            balance, consumption.amount_cents, wallet.rate_amount, wallet.currency
        )
        movement = Movement(
            consumption.amount_cents, consumption.granted_amount_cents, taken.credit_amount
        )
        record(
            w_uow, wallet, movement, kind=OUTBOUND, transaction_status=INVOICED, now=now,
            invoice_id=invoice.id,
        )  # fmt: skip


def restore_wallets(uow: UnitOfWork, invoice: Invoice, now: datetime) -> None:
    """Voiding `invoice`: what it took from each still active wallet comes back as granted
    credits, as Lago's `WalletTransactions::RecreditService` (one inbound `granted` row per
    consumption, linked to the invoice). A terminated wallet gets nothing back. Idempotent per
    invoice. No commit."""
    w_uow = wallet_uow(uow)
    repo = w_uow.wallets
    rows = repo.for_invoice(invoice.organization_id, invoice.id)
    if any(t.transaction_type == INBOUND and t.transaction_status == GRANTED for t in rows):
        return
    for taken in rows:
        if taken.transaction_type != OUTBOUND or taken.transaction_status != INVOICED:
            continue
        wallet = repo.get(invoice.organization_id, taken.wallet_id, lock=True)
        if wallet is None or wallet.status != WALLET_ACTIVE:
            continue
        movement = Movement(taken.amount_cents, taken.amount_cents, taken.credit_amount)
        record(
            w_uow, wallet, movement, kind=INBOUND, transaction_status=GRANTED, now=now,
            invoice_id=invoice.id,
        )  # fmt: skip


def expire_due(uow_factory: WalletUnitOfWorkFactory, at: datetime, errors: list[str]) -> int:
    """Terminate every active wallet whose `expiration_at` ≤ `at` and void what it holds (one
    `expiration` row), each in its own unit of work. Returns how many expired."""
    with uow_factory(read_only=True) as uow:
        due = uow.wallets.expiring(at)
    expired = 0
    for candidate in due:

        def attempt(candidate: StoredWallet = candidate) -> bool:
            with uow_factory() as uow:
                wallet = uow.wallets.get(candidate.organization_id, candidate.id, lock=True)
                if wallet is None or wallet.status != WALLET_ACTIVE:
                    return False
                balance = uow.wallets.balances([wallet.id])[wallet.id]
                if balance.balance_cents > 0 or balance.credits > 0:
                    movement = outbound_cents(
                        balance, balance.balance_cents, wallet.rate_amount, wallet.currency
                    )
                    record(
                        uow, wallet, movement, kind=OUTBOUND, transaction_status=VOIDED, now=at,
                        source=SOURCE_EXPIRATION,
                    )  # fmt: skip
                _terminate_in(uow, wallet, at)
                uow.commit()
            return True

        try:
            expired += retry_on_conflict(attempt)
        except Exception as exc:  # one broken wallet must not stop the run
            log.exception("wallets: cannot expire wallet %s", candidate.id)
            errors.append(f"wallet {candidate.id}: {exc}")
    return expired


def _terminate_in(uow: WalletUnitOfWork, wallet: StoredWallet, now: datetime) -> None:
    wallet.status = WALLET_TERMINATED
    wallet.terminated_at = now
    wallet.updated_at = now
    uow.wallets.update(wallet)
    webhooks.emit(
        uow, wallet.organization_id, "wallet.terminated", "wallet", object_id=str(wallet.id)
    )


class WalletService:
    def __init__(
        self, uow: WalletUnitOfWorkFactory, clock: Clock, currencies: CurrencyCatalog
    ) -> None:
        self._uow = uow
        self._clock = clock
        self._currencies = currencies
        self._usage = CurrentUsageService(uow, clock)

    # --- reads -------------------------------------------------------------------------------

    def _view(self, uow: WalletUnitOfWork, wallet: StoredWallet) -> WalletView:
        return wallet_views(uow, self._usage, [wallet], self._clock.now())[0]

    def _wallet(
        self, uow: WalletUnitOfWork, organization_id: UUID, lago_id: str, *, lock: bool = False
    ) -> StoredWallet:
        wallet = uow.wallets.get(organization_id, parse_id(lago_id, "wallet"), lock=lock)
        if wallet is None:
            raise NotFound("wallet")
        return wallet

    def get(self, organization_id: UUID, lago_id: str) -> WalletView:
        with self._uow(read_only=True) as uow:
            return self._view(uow, self._wallet(uow, organization_id, lago_id))

    def get_transaction(self, organization_id: UUID, lago_id: str) -> TransactionView:
        with self._uow(read_only=True) as uow:
            found = uow.wallets.get_transaction(
                organization_id, parse_id(lago_id, "wallet_transaction")
            )
            if found is None:
                raise NotFound("wallet_transaction")
            wallet = uow.wallets.get(organization_id, found.wallet_id)
            assert wallet is not None
            return TransactionView(found, wallet)

    def transactions(
        self,
        organization_id: UUID,
        lago_id: str,
        page: PageRequest,
        *,
        status: str | None = None,
        transaction_type: str | None = None,
        transaction_status: str | None = None,
    ) -> Page[TransactionView]:
        errors = Errors()
        for field, value, allowed in (
            ("status", status, STATUSES),
            ("transaction_type", transaction_type, TRANSACTION_TYPES),
            ("transaction_status", transaction_status, TRANSACTION_STATUSES),
        ):
            if value is not None and value not in allowed:
                errors.add(field, "value_is_invalid")
        if errors:
            raise ValidationFailed(errors.details)
        filters = TransactionFilter(status, transaction_type, transaction_status)
        with self._uow(read_only=True) as uow:
            wallet = self._wallet(uow, organization_id, lago_id)
            items, total = uow.wallets.transactions(organization_id, wallet.id, filters, page)
            return Page([TransactionView(t, wallet) for t in items], page, total)

    # --- writes ------------------------------------------------------------------------------

    def create(self, organization_id: UUID, values: Mapping[str, Any]) -> WalletView:
        now = self._clock.now()
        parsed = wallet_input(values, now)
        try:
            currency = self._currencies(parsed.currency)
        except Exception:
            raise ValidationFailed.one("currency", "value_is_invalid") from None

        def attempt() -> UUID:
            with self._uow() as uow:
                customer = uow.customers.get(organization_id, parsed.external_customer_id)
                if customer is None:
                    raise NotFound("customer")
                if customer.currency is None:
                    # Lago: the first wallet (or subscription, coupon) sets the customer currency.
                    customer = replace(customer, currency=currency.code, updated_at=now)
                    uow.customers.update(customer)
                elif customer.currency != currency.code:
                    raise ValidationFailed.one("currency", "currencies_does_not_match")
                wallet = StoredWallet(
                    id=uuid.uuid4(),
                    organization_id=organization_id,
                    customer_id=customer.id,
                    currency=currency,
                    rate_amount=parsed.rate_amount,
                    status=WALLET_ACTIVE,
                    priority=parsed.priority,
                    invoice_requires_successful_payment=parsed.invoice_requires_successful_payment,
                    created_at=now,
                    updated_at=now,
                    name=parsed.name,
                    expiration_at=parsed.expiration_at,
                )
                uow.wallets.add(wallet)
                webhooks.emit(
                    uow, organization_id, "wallet.created", "wallet", object_id=str(wallet.id)
                )
                apply_top_up(uow, wallet, customer, parsed.top_up, now)
                uow.commit()
            return wallet.id

        wallet_id = retry_on_conflict(attempt)
        return self.get(organization_id, str(wallet_id))

    def update(self, organization_id: UUID, lago_id: str, values: Mapping[str, Any]) -> WalletView:
        changes = wallet_changes(values, self._clock.now())

        def attempt() -> None:
            with self._uow() as uow:
                wallet = self._wallet(uow, organization_id, lago_id, lock=True)
                if wallet.status != WALLET_ACTIVE:
                    raise ValidationFailed.one("wallet", "wallet_terminated")
                for name, value in changes.items():
                    setattr(wallet, name, value)
                wallet.updated_at = self._clock.now()
                uow.wallets.update(wallet)
                webhooks.emit(
                    uow, organization_id, "wallet.updated", "wallet", object_id=str(wallet.id)
                )
                uow.commit()

        retry_on_conflict(attempt)
        return self.get(organization_id, lago_id)

    def terminate(self, organization_id: UUID, lago_id: str) -> WalletView:
        """Lago's DELETE: the wallet is terminated (kept, with its ledger); idempotent."""

        def attempt() -> None:
            with self._uow() as uow:
                wallet = self._wallet(uow, organization_id, lago_id, lock=True)
                if wallet.status == WALLET_ACTIVE:
                    _terminate_in(uow, wallet, self._clock.now())
                    uow.commit()

        retry_on_conflict(attempt)
        return self.get(organization_id, lago_id)

    def create_transactions(
        self, organization_id: UUID, values: Mapping[str, Any]
    ) -> list[TransactionView]:
        """Lago's POST /wallet_transactions: purchased, granted and voided credits at once."""
        lago_id, top_up = transaction_input(values)

        def attempt() -> list[TransactionView]:
            with self._uow() as uow:
                wallet = self._wallet(uow, organization_id, lago_id, lock=True)
                if wallet.status != WALLET_ACTIVE:
                    raise ValidationFailed.one("wallet_id", "wallet_not_active")
                customer = uow.customers.get_by_id(wallet.customer_id)
                assert customer is not None
                created = apply_top_up(uow, wallet, customer, top_up, self._clock.now())
                uow.commit()
            return [TransactionView(t, wallet) for t in created]

        return retry_on_conflict(attempt)

    def expire_due(self, at: datetime, errors: list[str]) -> int:
        return expire_due(self._uow, at, errors)

    def list(
        self, organization_id: UUID, page: PageRequest, *, external_customer_id: str | None = None
    ) -> Page[WalletView]:
        with self._uow(read_only=True) as uow:
            known, customer_id = customer_filter(
                uow.customers, organization_id, external_customer_id
            )
            if not known:
                raise NotFound("customer")
            items, total = uow.wallets.list_wallets(organization_id, customer_id, page)
            return Page(wallet_views(uow, self._usage, items, self._clock.now()), page, total)
