"""Wallets as read: ledger balances, and the ongoing balance computed at the moment of reading.

Ongoing balance (Lago: balance − current usage incl. taxes − draft invoices; Lago refreshes it
with a 5-minute job, we compute it on every read, so it moves with each event at once):
- what the customer owes so far in the wallet currency = Σ current usage (charges, taxes
  included; `CurrentUsageService`) of its active subscriptions on plans in that currency
  + Σ totals of its draft invoices in that currency (drafts show no wallet deduction yet);
- that amount is split over the customer's usable wallets in application order (priority,
  then age): each wallet's `ongoing_usage_balance_cents` is what it would pay if the invoice
  were finalized now — at most its balance, so no wallet counts usage another already covers;
- `ongoing_balance_cents = balance_cents − ongoing_usage_balance_cents`, hence never below 0.
  Clamping, documented: Lago may show a negative ongoing balance (it subtracts the full usage
  from every wallet); ours is never below Lago's figure and never below zero, because usage
  beyond the credits is invoiced to the customer, not owed by the wallet.
Terminated or expired wallets take no usage: their ongoing balance is their balance.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from uuid import UUID

from releve.domain.wallets import Wallet, application_order
from releve.services.billing_ports import InvoiceFilter
from releve.services.billing_records import INVOICE_DRAFT
from releve.services.errors import NotFound
from releve.services.pagination import MAX_PER_PAGE, PageRequest
from releve.services.ports import SubscriptionFilter
from releve.services.records import Customer
from releve.services.usage import CurrentUsageService
from releve.services.wallet_ledger import ongoing_usage_shares, outbound_cents
from releve.services.wallet_records import (
    LedgerBalance,
    StoredWallet,
    WalletTransaction,
    WalletUnitOfWork,
)


@dataclass(frozen=True, slots=True)
class WalletView:
    wallet: StoredWallet
    customer_external_id: str
    balance: LedgerBalance
    ongoing_usage_cents: int
    last_balance_sync_at: datetime

    @property
    def ongoing_balance_cents(self) -> int:
        return self.balance.balance_cents - self.ongoing_usage_cents

    @property
    def credits_ongoing_usage(self) -> Decimal:
        w = self.wallet
        return outbound_cents(
            self.balance, self.ongoing_usage_cents, w.rate_amount, w.currency
        ).credit_amount

    @property
    def credits_ongoing_balance(self) -> Decimal:
        return self.balance.credits - self.credits_ongoing_usage


@dataclass(frozen=True, slots=True)
class TransactionView:
    transaction: WalletTransaction
    wallet: StoredWallet


def domain_wallet(wallet: StoredWallet, balance: LedgerBalance) -> Wallet:
    return Wallet(
        id=str(wallet.id),
        currency=wallet.currency,
        created_at=wallet.created_at,
        granted_balance_cents=max(balance.granted_balance_cents, 0),
        purchased_balance_cents=max(balance.purchased_balance_cents, 0),
        priority=wallet.priority,
        rate_amount=wallet.rate_amount,
    )


def _owed_by_currency(
    uow: WalletUnitOfWork, usage: CurrentUsageService, customer: Customer
) -> dict[str, int]:
    """currency → current usage incl. taxes + draft invoice totals of the customer, now."""
    org_id = customer.organization_id
    owed: dict[str, int] = {}
    page = PageRequest(1, MAX_PER_PAGE)
    subscriptions, _ = uow.subscriptions.list(
        org_id, SubscriptionFilter(statuses=("active",), customer_id=customer.id), page
    )
    for subscription in subscriptions:
        try:
            current = usage.current_usage(org_id, customer.external_id, subscription.external_id)
        except NotFound:  # terminated since it was listed
            continue
        code = current.currency.code
        owed[code] = owed.get(code, 0) + current.total_amount_cents
    drafts, _ = uow.invoices.list_invoices(
        org_id, InvoiceFilter(statuses=(INVOICE_DRAFT,), customer_id=customer.id), page
    )
    for draft in drafts:
        owed[draft.currency] = owed.get(draft.currency, 0) + draft.total_amount_cents
    return owed


def wallet_views(
    uow: WalletUnitOfWork,
    usage: CurrentUsageService,
    wallets: Sequence[StoredWallet],
    now: datetime,
) -> list[WalletView]:
    """Views of `wallets`, each with its ongoing balance at `now` (module docstring)."""
    customers: dict[UUID, Customer] = {}
    for wallet in wallets:
        if wallet.customer_id not in customers:
            customer = uow.customers.get_by_id(wallet.customer_id)
            assert customer is not None
            customers[wallet.customer_id] = customer
    shares: dict[UUID, int] = {}
    balances = uow.wallets.balances([w.id for w in wallets])
    for customer in customers.values():
        usable = [
            w
            for w in uow.wallets.for_customer(customer.organization_id, customer.id)
            if w.usable_at(now)
        ]
        if not usable:
            continue
        all_balances = uow.wallets.balances([w.id for w in usable])
        balances.update(all_balances)
        owed = _owed_by_currency(uow, usage, customer)
        for code in {w.currency.code for w in usable}:
            ordered = application_order(
                [domain_wallet(w, all_balances[w.id]) for w in usable if w.currency.code == code]
            )
            split = ongoing_usage_shares(
                [(w.id, w.balance_cents) for w in ordered], owed.get(code, 0)
            )
            shares.update({UUID(k): v for k, v in split.items()})
    return [
        WalletView(
            wallet=w,
            customer_external_id=customers[w.customer_id].external_id,
            balance=balances[w.id],
            ongoing_usage_cents=shares.get(w.id, 0),
            last_balance_sync_at=now,
        )
        for w in wallets
    ]
