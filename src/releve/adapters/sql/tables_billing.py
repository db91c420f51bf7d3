"""Invoices, their fees, applied taxes, subscription periods and the per-organization number.

Same `MetaData` as `tables.py` (migration 0003 creates exactly this; the schema test compares).

Invariants the schema itself enforces (so no code path, retry or second process can break them):
- `invoice_subscriptions` is UNIQUE on (subscription_id, kind, period_start): one billing
  period of one subscription is invoiced at most once, whatever runs twice or concurrently.
- `invoices.number` and `invoices.sequential_id` are UNIQUE per organization; the next number
  comes from `invoice_number_sequences` inside the finalizing transaction (gapless).
- Finalized (and voided, closed) invoices are immutable: triggers created by migration 0003
  reject changes to their amounts, fees and applied taxes (only `payment_status`, `metadata`,
  `updated_at` and the finalized → voided transition are allowed). See `IMMUTABLE_*` below.
"""

from __future__ import annotations

import sqlalchemy as sa

from releve.adapters.sql.columns import cents, created_at, id_pk, org_fk, updated_at
from releve.adapters.sql.tables import metadata
from releve.adapters.sql.types import ExactDecimal, ExactJSON, UtcDateTime

__all__ = [
    "applied_taxes",
    "fees",
    "invoice_number_sequences",
    "invoice_subscriptions",
    "invoices",
    "metadata",
]


invoices = sa.Table(
    "invoices",
    metadata,
    id_pk(),
    org_fk(),
    sa.Column("customer_id", sa.Uuid, sa.ForeignKey("customers.id"), nullable=False),
    # Organization-wide gapless sequence, set when the invoice is finalized (null on drafts).
    sa.Column("sequential_id", sa.Integer),
    sa.Column("number", sa.String(64)),
    sa.Column("invoice_type", sa.String(32), nullable=False),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("payment_status", sa.String(16), nullable=False),
    sa.Column("currency", sa.String(3), nullable=False),
    sa.Column("issuing_date", sa.Date, nullable=False),
    sa.Column("payment_due_date", sa.Date, nullable=False),
    sa.Column("net_payment_term", sa.Integer, nullable=False),
    cents("fees_amount_cents"),
    cents("coupons_amount_cents"),
    cents("progressive_billing_credit_amount_cents"),
    cents("sub_total_excluding_taxes_amount_cents"),
    cents("taxes_amount_cents"),
    cents("sub_total_including_taxes_amount_cents"),
    cents("credit_notes_amount_cents"),
    cents("prepaid_credit_amount_cents"),
    cents("prepaid_granted_credit_amount_cents"),
    cents("prepaid_purchased_credit_amount_cents"),
    cents("total_amount_cents"),
    sa.Column("taxes_rate", ExactDecimal, nullable=False),
    sa.Column("version_number", sa.Integer, nullable=False),
    sa.Column("metadata", ExactJSON, nullable=False),
    created_at(),
    updated_at(),
    sa.Column("finalized_at", UtcDateTime),
    sa.Column("voided_at", UtcDateTime),
    sa.UniqueConstraint("organization_id", "number"),
    sa.UniqueConstraint("organization_id", "sequential_id"),
    sa.Index("ix_invoices_customer", "organization_id", "customer_id", "issuing_date"),
    sa.Index("ix_invoices_issuing_date", "organization_id", "issuing_date"),
)

invoice_number_sequences = sa.Table(
    "invoice_number_sequences",
    metadata,
    sa.Column(
        "organization_id",
        sa.Uuid,
        sa.ForeignKey("organizations.id", ondelete="CASCADE"),
        primary_key=True,
    ),
    sa.Column("last_sequential_id", sa.Integer, nullable=False),
)

invoice_subscriptions = sa.Table(
    "invoice_subscriptions",
    metadata,
    sa.Column(
        "invoice_id",
        sa.Uuid,
        sa.ForeignKey("invoices.id", ondelete="CASCADE"),
        primary_key=True,
    ),
    sa.Column("subscription_id", sa.Uuid, sa.ForeignKey("subscriptions.id"), primary_key=True),
    org_fk(),
    # domain InvoiceKind: start | period_end | trial_end | termination | upgrade
    sa.Column("kind", sa.String(16), nullable=False),
    # Lago's billing_periods[].invoicing_reason
    sa.Column("invoicing_reason", sa.String(32), nullable=False),
    # The key of the billed period (see services.billing.period_key) and the instant billed at.
    sa.Column("period_start", UtcDateTime, nullable=False),
    sa.Column("boundary", UtcDateTime, nullable=False),
    sa.Column("from_datetime", UtcDateTime),
    sa.Column("to_datetime", UtcDateTime),
    sa.Column("charges_from_datetime", UtcDateTime),
    sa.Column("charges_to_datetime", UtcDateTime),
    created_at(),
    sa.UniqueConstraint("subscription_id", "kind", "period_start"),
)

fees = sa.Table(
    "fees",
    metadata,
    id_pk(),
    org_fk(),
    sa.Column(
        "invoice_id", sa.Uuid, sa.ForeignKey("invoices.id", ondelete="CASCADE"), nullable=False
    ),
    sa.Column("subscription_id", sa.Uuid, sa.ForeignKey("subscriptions.id")),
    # Charges and filters are rewritten when a plan changes: a fee keeps their ids as history,
    # without a foreign key, and carries its own copy of what it shows (item_*).
    sa.Column("charge_id", sa.Uuid),
    sa.Column("charge_filter_id", sa.Uuid),
    sa.Column("true_up_parent_fee_id", sa.Uuid, sa.ForeignKey("fees.id")),
    sa.Column("position", sa.Integer, nullable=False),
    sa.Column("fee_type", sa.String(16), nullable=False),
    sa.Column("item_type", sa.String(32), nullable=False),
    sa.Column("item_code", sa.String(255), nullable=False),
    sa.Column("item_name", sa.String(255), nullable=False),
    sa.Column("item_id", sa.String(64)),
    sa.Column("invoice_display_name", sa.String(255)),
    sa.Column("filter_invoice_display_name", sa.String(255)),
    cents("amount_cents"),
    sa.Column("amount_currency", sa.String(3), nullable=False),
    sa.Column("precise_amount", ExactDecimal, nullable=False),
    cents("progressive_billing_credit_amount_cents"),
    cents("coupons_amount_cents"),
    cents("sub_total_excluding_taxes_amount_cents"),
    cents("taxes_amount_cents"),
    sa.Column("taxes_precise_amount", ExactDecimal, nullable=False),
    sa.Column("taxes_rate", ExactDecimal, nullable=False),
    cents("total_amount_cents"),
    sa.Column("units", ExactDecimal, nullable=False),
    sa.Column("total_aggregated_units", ExactDecimal, nullable=False),
    sa.Column("events_count", sa.Integer, nullable=False),
    sa.Column("precise_unit_amount", ExactDecimal),
    sa.Column("from_datetime", UtcDateTime, nullable=False),
    sa.Column("to_datetime", UtcDateTime, nullable=False),
    sa.Column("amount_details", ExactJSON, nullable=False),
    sa.Column("explanation", sa.Text, nullable=False),
    sa.Column("grouped_by", ExactJSON, nullable=False),
    sa.Column("filter_values", ExactJSON),
    # [{tax_code, tax_name, tax_rate, amount_cents}]: this fee's share of each invoice tax.
    sa.Column("applied_taxes", ExactJSON, nullable=False),
    sa.Column("pay_in_advance", sa.Boolean, nullable=False),
    sa.Column("payment_status", sa.String(16), nullable=False),
    created_at(),
    sa.Index("ix_fees_invoice_id", "invoice_id", "position"),
    sa.Index("ix_fees_organization_type", "organization_id", "fee_type", "created_at"),
    sa.Index("ix_fees_subscription_id", "subscription_id"),
)

applied_taxes = sa.Table(
    "applied_taxes",
    metadata,
    id_pk(),
    org_fk(),
    sa.Column(
        "invoice_id", sa.Uuid, sa.ForeignKey("invoices.id", ondelete="CASCADE"), nullable=False
    ),
    sa.Column("tax_id", sa.Uuid),
    sa.Column("position", sa.Integer, nullable=False),
    sa.Column("tax_code", sa.String(255), nullable=False),
    sa.Column("tax_name", sa.String(255), nullable=False),
    sa.Column("tax_rate", ExactDecimal, nullable=False),
    cents("amount_cents"),
    cents("base_amount_cents"),
    created_at(),
    sa.Index("ix_applied_taxes_invoice_id", "invoice_id", "position"),
)

# Columns a finalized invoice may still change (Lago: payment status, metadata, voiding).
INVOICE_MUTABLE_AFTER_FINALIZATION = (
    "payment_status",
    "status",
    "metadata",
    "updated_at",
    "voided_at",
)
FEE_MUTABLE_AFTER_FINALIZATION = ("payment_status",)
