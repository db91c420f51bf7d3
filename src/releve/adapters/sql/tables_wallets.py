"""Wallets and their append-only ledger of wallet transactions.

Same `MetaData` as `tables.py`; migration 0006 creates exactly these tables (the schema test
compares, through `schema.metadata`).

The balance is never stored: it is the sum of the wallet's `settled` ledger rows (inbound +,
outbound −), read with one aggregate query, so it cannot drift from its history.

Invariants the schema enforces (migration 0006 adds triggers on both stores):
- `wallet_transactions` is append-only: a row is never deleted, and its only change is the one
  transition a payment makes, `pending` → `settled` | `failed` (columns `status`, `settled_at`,
  `failed_at`). Modelling that as an in-place status change keeps one row per top-up (Lago's
  shape, one `lago_id` the client follows) while the amounts, credits and kind stay frozen;
- an invoice consumes a wallet at most once: UNIQUE (wallet_id, invoice_id) over consumption
  rows (`transaction_status = 'invoiced'`), whatever retries;
- a wallet expires at most once: UNIQUE (wallet_id) over `source = 'expiration'` rows;
- amounts are non-negative integers of the wallet currency's minor unit, the granted part
  between 0 and the amount; credits are exact decimals.
"""

from __future__ import annotations

import sqlalchemy as sa

from releve.adapters.sql.columns import cents, created_at, id_pk, org_fk, updated_at
from releve.adapters.sql.tables import metadata
from releve.adapters.sql.types import ExactDecimal, UtcDateTime

__all__ = ["metadata", "wallet_transactions", "wallets"]


wallets = sa.Table(
    "wallets",
    metadata,
    id_pk(),
    org_fk(),
    sa.Column("customer_id", sa.Uuid, sa.ForeignKey("customers.id"), nullable=False),
    sa.Column("name", sa.String(255)),
    sa.Column("currency", sa.String(3), nullable=False),
    sa.Column("rate_amount", ExactDecimal, nullable=False),  # currency major units per credit
    sa.Column("status", sa.String(16), nullable=False),  # active | terminated
    sa.Column("priority", sa.Integer, nullable=False),  # 1 (first) … 50
    sa.Column("expiration_at", UtcDateTime),
    sa.Column("invoice_requires_successful_payment", sa.Boolean, nullable=False),
    created_at(),
    updated_at(),
    sa.Column("terminated_at", UtcDateTime),
    sa.CheckConstraint("priority BETWEEN 1 AND 50", name="priority_range"),
    sa.Index("ix_wallets_customer", "organization_id", "customer_id", "status"),
    sa.Index("ix_wallets_status_expiration", "status", "expiration_at"),
)

wallet_transactions = sa.Table(
    "wallet_transactions",
    metadata,
    id_pk(),
    org_fk(),
    sa.Column(
        "wallet_id", sa.Uuid, sa.ForeignKey("wallets.id", ondelete="CASCADE"), nullable=False
    ),
    sa.Column("transaction_type", sa.String(16), nullable=False),  # inbound | outbound
    # purchased | granted (inbound); invoiced | voided (outbound)
    sa.Column("transaction_status", sa.String(16), nullable=False),
    sa.Column("status", sa.String(16), nullable=False),  # pending | settled | failed
    sa.Column("source", sa.String(16), nullable=False),  # manual | expiration
    cents("amount_cents"),
    # The part of `amount_cents` that adds to / takes from granted (free) credits.
    cents("granted_amount_cents"),
    sa.Column("credit_amount", ExactDecimal, nullable=False),
    # The credit invoice of a purchase, or the invoice a consumption paid.
    sa.Column("invoice_id", sa.Uuid, sa.ForeignKey("invoices.id")),
    sa.Column("invoice_requires_successful_payment", sa.Boolean, nullable=False),
    sa.Column("name", sa.String(255)),
    created_at(),
    sa.Column("settled_at", UtcDateTime),
    sa.Column("failed_at", UtcDateTime),
    sa.CheckConstraint(
        "amount_cents >= 0 AND granted_amount_cents >= 0 AND granted_amount_cents <= amount_cents",
        name="amounts_range",
    ),
    sa.Index("ix_wallet_transactions_wallet", "wallet_id", "created_at"),
    sa.Index("ix_wallet_transactions_invoice_id", "invoice_id"),
    sa.Index(
        "uq_wallet_transactions_consumption",
        "wallet_id",
        "invoice_id",
        unique=True,
        sqlite_where=sa.text("transaction_status = 'invoiced'"),
        postgresql_where=sa.text("transaction_status = 'invoiced'"),
    ),
    sa.Index(
        "uq_wallet_transactions_expiration",
        "wallet_id",
        unique=True,
        sqlite_where=sa.text("source = 'expiration'"),
        postgresql_where=sa.text("source = 'expiration'"),
    ),
)
