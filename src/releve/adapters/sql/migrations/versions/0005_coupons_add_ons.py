"""Coupons, applied coupons, coupon credits, add-ons, add-on fees.

A frozen snapshot: columns are defined here, never imported from `tables_coupons`.
`coupon_credits` is UNIQUE on (invoice_id, applied_coupon_id) so an invoice consumes an applied
coupon once; live coupon and add-on codes are unique per organization (partial indexes).

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-26
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from releve.adapters.sql.types import ExactDecimal, ExactJSON, UtcDateTime

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def _fk(table: str, column: str, target: str, ondelete: str | None = None) -> sa.ForeignKey:
    return sa.ForeignKey(f"{target}.id", ondelete=ondelete, name=f"fk_{table}_{column}_{target}")


def _org(table: str) -> sa.Column[object]:
    return sa.Column(
        "organization_id",
        sa.Uuid,
        _fk(table, "organization_id", "organizations", "CASCADE"),
        nullable=False,
    )


def _live_code(table: str) -> None:
    op.create_index(
        f"uq_{table}_live_code",
        table,
        ["organization_id", "code"],
        unique=True,
        sqlite_where=sa.text("deleted_at IS NULL"),
        postgresql_where=sa.text("deleted_at IS NULL"),
    )


def upgrade() -> None:
    op.create_table(
        "coupons",
        sa.Column("id", sa.Uuid, nullable=False),
        _org("coupons"),
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
        sa.Column("plan_codes", ExactJSON, nullable=False),
        sa.Column("billable_metric_codes", ExactJSON, nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("terminated_at", UtcDateTime),
        sa.Column("created_at", UtcDateTime, nullable=False),
        sa.Column("updated_at", UtcDateTime, nullable=False),
        sa.Column("deleted_at", UtcDateTime),
        sa.PrimaryKeyConstraint("id", name="pk_coupons"),
    )
    _live_code("coupons")
    op.create_table(
        "applied_coupons",
        sa.Column("id", sa.Uuid, nullable=False),
        _org("applied_coupons"),
        sa.Column(
            "coupon_id", sa.Uuid, _fk("applied_coupons", "coupon_id", "coupons"), nullable=False
        ),
        sa.Column(
            "customer_id",
            sa.Uuid,
            _fk("applied_coupons", "customer_id", "customers"),
            nullable=False,
        ),
        sa.Column("amount_cents", sa.BigInteger),
        sa.Column("amount_currency", sa.String(3)),
        sa.Column("percentage_rate", ExactDecimal),
        sa.Column("frequency", sa.String(16), nullable=False),
        sa.Column("frequency_duration", sa.Integer),
        sa.Column("amount_cents_remaining", sa.BigInteger),
        sa.Column("frequency_duration_remaining", sa.Integer),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("created_at", UtcDateTime, nullable=False),
        sa.Column("updated_at", UtcDateTime, nullable=False),
        sa.Column("terminated_at", UtcDateTime),
        sa.PrimaryKeyConstraint("id", name="pk_applied_coupons"),
    )
    op.create_index(
        "ix_applied_coupons_customer",
        "applied_coupons",
        ["organization_id", "customer_id", "status"],
    )
    op.create_index("ix_applied_coupons_coupon_id", "applied_coupons", ["coupon_id"])
    op.create_table(
        "coupon_credits",
        sa.Column("id", sa.Uuid, nullable=False),
        _org("coupon_credits"),
        sa.Column(
            "invoice_id",
            sa.Uuid,
            _fk("coupon_credits", "invoice_id", "invoices", "CASCADE"),
            nullable=False,
        ),
        sa.Column(
            "applied_coupon_id",
            sa.Uuid,
            _fk("coupon_credits", "applied_coupon_id", "applied_coupons"),
            nullable=False,
        ),
        sa.Column("coupon_code", sa.String(255), nullable=False),
        sa.Column("coupon_name", sa.String(255), nullable=False),
        sa.Column("amount_cents", sa.BigInteger, nullable=False),
        sa.Column("amount_currency", sa.String(3), nullable=False),
        sa.Column("created_at", UtcDateTime, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_coupon_credits"),
        sa.UniqueConstraint(
            "invoice_id",
            "applied_coupon_id",
            name="uq_coupon_credits_invoice_id_applied_coupon_id",
        ),
    )
    op.create_index("ix_coupon_credits_applied_coupon_id", "coupon_credits", ["applied_coupon_id"])
    op.create_table(
        "add_ons",
        sa.Column("id", sa.Uuid, nullable=False),
        _org("add_ons"),
        sa.Column("code", sa.String(255), nullable=False),
        sa.Column("name", sa.String(255), nullable=False),
        sa.Column("invoice_display_name", sa.String(255)),
        sa.Column("description", sa.Text),
        sa.Column("amount_cents", sa.BigInteger, nullable=False),
        sa.Column("amount_currency", sa.String(3), nullable=False),
        sa.Column("tax_codes", ExactJSON, nullable=False),
        sa.Column("created_at", UtcDateTime, nullable=False),
        sa.Column("updated_at", UtcDateTime, nullable=False),
        sa.Column("deleted_at", UtcDateTime),
        sa.PrimaryKeyConstraint("id", name="pk_add_ons"),
    )
    _live_code("add_ons")
    op.create_table(
        "add_on_fees",
        sa.Column(
            "fee_id", sa.Uuid, _fk("add_on_fees", "fee_id", "fees", "CASCADE"), nullable=False
        ),
        _org("add_on_fees"),
        sa.Column(
            "invoice_id",
            sa.Uuid,
            _fk("add_on_fees", "invoice_id", "invoices", "CASCADE"),
            nullable=False,
        ),
        sa.Column("add_on_id", sa.Uuid, _fk("add_on_fees", "add_on_id", "add_ons"), nullable=False),
        sa.Column("description", sa.Text),
        sa.PrimaryKeyConstraint("fee_id", name="pk_add_on_fees"),
    )
    op.create_index("ix_add_on_fees_invoice_id", "add_on_fees", ["invoice_id"])


def downgrade() -> None:
    op.drop_table("add_on_fees")
    op.drop_table("add_ons")
    op.drop_table("coupon_credits")
    op.drop_table("applied_coupons")
    op.drop_table("coupons")
