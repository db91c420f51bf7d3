"""Coupons, applied coupons, the coupon credits invoices consumed, add-ons and add-on fees.

Same `MetaData` as `tables.py`; migration 0005 creates exactly these tables (the schema test
compares, through `schema.metadata`).

Invariants the schema enforces:
- a live coupon / add-on code is unique per organization (a deleted one may be re-created);
- `coupon_credits` is UNIQUE on (invoice_id, applied_coupon_id): an invoice consumes an applied
  coupon at most once, whatever retries or runs twice.
Amounts are integer minor units; rates are exact decimals (percent).
"""

from __future__ import annotations

import sqlalchemy as sa

from releve.adapters.sql.columns import cents, created_at, id_pk, org_fk, updated_at
from releve.adapters.sql.tables import metadata
from releve.adapters.sql.types import ExactDecimal, ExactJSON, UtcDateTime

__all__ = ["add_on_fees", "add_ons", "applied_coupons", "coupon_credits", "coupons", "metadata"]


def _live_code(table: str) -> sa.Index:
    return sa.Index(
        f"uq_{table}_live_code",
        "organization_id",
        "code",
        unique=True,
        sqlite_where=sa.text("deleted_at IS NULL"),
        postgresql_where=sa.text("deleted_at IS NULL"),
    )


coupons = sa.Table(
    "coupons",
    metadata,
    id_pk(),
    org_fk(),
    sa.Column("code", sa.String(255), nullable=False),
    sa.Column("name", sa.String(255), nullable=False),
    sa.Column("description", sa.Text),
    sa.Column("coupon_type", sa.String(16), nullable=False),
    sa.Column("amount_cents", sa.BigInteger),
    sa.Column("amount_currency", sa.String(3)),
    sa.Column("percentage_rate", ExactDecimal),
    sa.Column("frequency", sa.String(16), nullable=False),
    sa.Column("frequency_duration", sa.Integer),
    sa.Column("reusable", sa.Boolean, nullable=False),
    sa.Column("expiration", sa.String(16), nullable=False),
    sa.Column("expiration_at", UtcDateTime),
    # Lago's applies_to: codes, as the API names them (one kind of limit per coupon).
    sa.Column("plan_codes", ExactJSON, nullable=False),
    sa.Column("billable_metric_codes", ExactJSON, nullable=False),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("terminated_at", UtcDateTime),
    created_at(),
    updated_at(),
    sa.Column("deleted_at", UtcDateTime),
    _live_code("coupons"),
)

applied_coupons = sa.Table(
    "applied_coupons",
    metadata,
    id_pk(),
    org_fk(),
    sa.Column("coupon_id", sa.Uuid, sa.ForeignKey("coupons.id"), nullable=False),
    sa.Column("customer_id", sa.Uuid, sa.ForeignKey("customers.id"), nullable=False),
    # The effective terms: the coupon's, with the overrides given when it was applied.
    sa.Column("amount_cents", sa.BigInteger),
    sa.Column("amount_currency", sa.String(3)),
    sa.Column("percentage_rate", ExactDecimal),
    sa.Column("frequency", sa.String(16), nullable=False),
    sa.Column("frequency_duration", sa.Integer),
    # Consumption state, written only by finalized invoices.
    sa.Column("amount_cents_remaining", sa.BigInteger),
    sa.Column("frequency_duration_remaining", sa.Integer),
    sa.Column("status", sa.String(16), nullable=False),
    created_at(),
    updated_at(),
    sa.Column("terminated_at", UtcDateTime),
    sa.Index("ix_applied_coupons_customer", "organization_id", "customer_id", "status"),
    sa.Index("ix_applied_coupons_coupon_id", "coupon_id"),
)

coupon_credits = sa.Table(
    "coupon_credits",
    metadata,
    id_pk(),
    org_fk(),
    sa.Column(
        "invoice_id", sa.Uuid, sa.ForeignKey("invoices.id", ondelete="CASCADE"), nullable=False
    ),
    sa.Column("applied_coupon_id", sa.Uuid, sa.ForeignKey("applied_coupons.id"), nullable=False),
    sa.Column("coupon_code", sa.String(255), nullable=False),
    sa.Column("coupon_name", sa.String(255), nullable=False),
    cents("amount_cents"),
    sa.Column("amount_currency", sa.String(3), nullable=False),
    created_at(),
    sa.UniqueConstraint("invoice_id", "applied_coupon_id"),
    sa.Index("ix_coupon_credits_applied_coupon_id", "applied_coupon_id"),
)

add_ons = sa.Table(
    "add_ons",
    metadata,
    id_pk(),
    org_fk(),
    sa.Column("code", sa.String(255), nullable=False),
    sa.Column("name", sa.String(255), nullable=False),
    sa.Column("invoice_display_name", sa.String(255)),
    sa.Column("description", sa.Text),
    cents("amount_cents"),
    sa.Column("amount_currency", sa.String(3), nullable=False),
    sa.Column("tax_codes", ExactJSON, nullable=False),
    created_at(),
    updated_at(),
    sa.Column("deleted_at", UtcDateTime),
    _live_code("add_ons"),
)

# What a one-off invoice's add-on fee carries beyond the fee row (fees are frozen by 0003).
add_on_fees = sa.Table(
    "add_on_fees",
    metadata,
    sa.Column("fee_id", sa.Uuid, sa.ForeignKey("fees.id", ondelete="CASCADE"), primary_key=True),
    org_fk(),
    sa.Column(
        "invoice_id", sa.Uuid, sa.ForeignKey("invoices.id", ondelete="CASCADE"), nullable=False
    ),
    sa.Column("add_on_id", sa.Uuid, sa.ForeignKey("add_ons.id"), nullable=False),
    sa.Column("description", sa.Text),
    sa.Index("ix_add_on_fees_invoice_id", "invoice_id"),
)
