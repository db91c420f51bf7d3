"""Wallets and wallet transactions as Lago's JSON. Credits, rates and `amount` are decimal
strings (exact, never floats); `*_cents` are integers of the wallet currency's minor unit."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from releve.domain.money import minor_to_major
from releve.entrypoints.api.serializers import iso
from releve.services.wallet_ledger import CREDIT_QUANTUM
from releve.services.wallet_views import TransactionView, WalletView


def credits_text(value: Decimal) -> str:
    """Credits to 5 decimals, trailing zeros dropped but one kept: "15.0", "0.33333"."""
    text = format(value.quantize(CREDIT_QUANTUM).normalize(), "f")
    return text if "." in text else f"{text}.0"


def rate_text(value: Decimal) -> str:
    text = format(value.normalize(), "f")
    return text if "." in text else f"{text}.0"


def wallet(view: WalletView) -> dict[str, Any]:
    w, b = view.wallet, view.balance
    return {
        "lago_id": str(w.id),
        "lago_customer_id": str(w.customer_id),
        "external_customer_id": view.customer_external_id,
        "status": w.status,
        "currency": w.currency.code,
        "name": w.name,
        "code": None,
        "priority": w.priority,
        "rate_amount": rate_text(w.rate_amount),
        "credits_balance": credits_text(b.credits),
        "balance_cents": b.balance_cents,
        "consumed_credits": credits_text(b.consumed_credits),
        "consumed_amount_cents": b.consumed_cents,
        "ongoing_balance_cents": view.ongoing_balance_cents,
        "ongoing_usage_balance_cents": view.ongoing_usage_cents,
        "credits_ongoing_balance": credits_text(view.credits_ongoing_balance),
        "credits_ongoing_usage_balance": credits_text(view.credits_ongoing_usage),
        "created_at": iso(w.created_at),
        "expiration_at": iso(w.expiration_at),
        "terminated_at": iso(w.terminated_at),
        # Computed at the moment of reading: always in sync (Lago refreshes every 5 minutes).
        "last_balance_sync_at": iso(view.last_balance_sync_at),
        "last_consumed_credit_at": None,
        "invoice_requires_successful_payment": w.invoice_requires_successful_payment,
        "recurring_transaction_rules": [],
        "applies_to": {"fee_types": [], "billable_metric_codes": []},
        "paid_top_up_min_amount_cents": None,
        "paid_top_up_max_amount_cents": None,
        "metadata": None,
    }


def wallet_transaction(view: TransactionView) -> dict[str, Any]:
    t, w = view.transaction, view.wallet
    return {
        "lago_id": str(t.id),
        "lago_wallet_id": str(t.wallet_id),
        "lago_invoice_id": None if t.invoice_id is None else str(t.invoice_id),
        "lago_credit_note_id": None,
        "lago_voided_invoice_id": None,
        "status": t.status,
        "source": t.source,
        "transaction_status": t.transaction_status,
        "transaction_type": t.transaction_type,
        "amount": format(minor_to_major(t.amount_cents, w.currency), "f"),
        "amount_cents": t.amount_cents,
        "granted_amount_cents": t.granted_amount_cents,
        "credit_amount": credits_text(t.credit_amount),
        "currency": w.currency.code,
        "remaining_amount_cents": None,
        "remaining_credit_amount": None,
        "priority": None,
        "settled_at": iso(t.settled_at),
        "failed_at": iso(t.failed_at),
        "created_at": iso(t.created_at),
        "invoice_requires_successful_payment": t.invoice_requires_successful_payment,
        "metadata": [],
        "name": t.name,
    }
