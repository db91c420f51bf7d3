"""Late-event adjustments on finalized periods: the ledger of credited (negative) adjustments.

Frozen snapshot: columns are defined inline, never imported from tables_adjustments.py.

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-26
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from releve.adapters.sql.types import ExactDecimal, UtcDateTime

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None

TABLE = "late_adjustment_credits"


def upgrade() -> None:
    op.create_table(
        TABLE,
        sa.Column("id", sa.Uuid, nullable=False),
        sa.Column("organization_id", sa.Uuid, nullable=False),
        sa.Column("subscription_id", sa.Uuid, nullable=False),
        sa.Column("original_invoice_id", sa.Uuid, nullable=False),
        sa.Column("period_start", UtcDateTime, nullable=False),
        sa.Column("period_end", UtcDateTime, nullable=False),
        sa.Column("charge_id", sa.Uuid, nullable=False),
        sa.Column("bucket", sa.String(512), nullable=False),
        sa.Column("sequence", sa.Integer, nullable=False),
        sa.Column("amount_cents", sa.BigInteger, nullable=False),
        sa.Column("invoiced_amount_cents", sa.BigInteger, nullable=False),
        sa.Column("current_amount_cents", sa.BigInteger, nullable=False),
        sa.Column("units", ExactDecimal, nullable=False),
        sa.Column("credit_note_id", sa.Uuid, nullable=True),
        sa.Column("explanation", sa.Text, nullable=False),
        sa.Column("created_at", UtcDateTime, nullable=False),
        sa.PrimaryKeyConstraint("id", name=f"pk_{TABLE}"),
        sa.ForeignKeyConstraint(
            ["organization_id"],
            ["organizations.id"],
            ondelete="CASCADE",
            name=f"fk_{TABLE}_organization_id_organizations",
        ),
        sa.ForeignKeyConstraint(
            ["subscription_id"],
            ["subscriptions.id"],
            name=f"fk_{TABLE}_subscription_id_subscriptions",
        ),
        sa.ForeignKeyConstraint(
            ["original_invoice_id"],
            ["invoices.id"],
            name=f"fk_{TABLE}_original_invoice_id_invoices",
        ),
        sa.ForeignKeyConstraint(
            ["credit_note_id"],
            ["credit_notes.id"],
            name=f"fk_{TABLE}_credit_note_id_credit_notes",
        ),
        sa.UniqueConstraint(
            "subscription_id",
            "period_start",
            "bucket",
            "sequence",
            name="uq_late_adjustment_credits_seq",
        ),
    )
    op.create_index("ix_late_adjustment_credits_original", TABLE, ["original_invoice_id"])


def downgrade() -> None:
    op.drop_index("ix_late_adjustment_credits_original", table_name=TABLE)
    op.drop_table(TABLE)
