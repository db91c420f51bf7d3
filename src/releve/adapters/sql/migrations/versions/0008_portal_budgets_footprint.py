"""Customer budgets and their alerts, public plans (metric footprints exist since 0001).

Frozen snapshot: columns are defined inline, never imported from tables_portal.py.

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-26
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from releve.adapters.sql.types import UtcDateTime

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "budgets",
        sa.Column("id", sa.Uuid, nullable=False),
        sa.Column("organization_id", sa.Uuid, nullable=False),
        sa.Column("customer_id", sa.Uuid, nullable=False),
        sa.Column("amount_cents", sa.BigInteger, nullable=False),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("created_at", UtcDateTime, nullable=False),
        sa.Column("updated_at", UtcDateTime, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_budgets"),
        sa.ForeignKeyConstraint(
            ["organization_id"],
            ["organizations.id"],
            ondelete="CASCADE",
            name="fk_budgets_organization_id_organizations",
        ),
        sa.ForeignKeyConstraint(
            ["customer_id"],
            ["customers.id"],
            ondelete="CASCADE",
            name="fk_budgets_customer_id_customers",
        ),
        sa.UniqueConstraint(
            "organization_id", "customer_id", name="uq_budgets_organization_id_customer_id"
        ),
    )
    op.create_table(
        "budget_alerts",
        sa.Column("id", sa.Uuid, nullable=False),
        sa.Column("organization_id", sa.Uuid, nullable=False),
        sa.Column("budget_id", sa.Uuid, nullable=False),
        sa.Column("period_start", UtcDateTime, nullable=False),
        sa.Column("period_end", UtcDateTime, nullable=False),
        sa.Column("threshold", sa.Integer, nullable=False),
        sa.Column("spend_cents", sa.BigInteger, nullable=False),
        sa.Column("budget_cents", sa.BigInteger, nullable=False),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("created_at", UtcDateTime, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_budget_alerts"),
        sa.ForeignKeyConstraint(
            ["organization_id"],
            ["organizations.id"],
            ondelete="CASCADE",
            name="fk_budget_alerts_organization_id_organizations",
        ),
        sa.ForeignKeyConstraint(
            ["budget_id"],
            ["budgets.id"],
            ondelete="CASCADE",
            name="fk_budget_alerts_budget_id_budgets",
        ),
        sa.UniqueConstraint(
            "budget_id",
            "period_start",
            "threshold",
            name="uq_budget_alerts_budget_id_period_start_threshold",
        ),
    )
    op.add_column(
        "plans", sa.Column("public", sa.Boolean, nullable=False, server_default=sa.false())
    )


def downgrade() -> None:
    with op.batch_alter_table("plans") as batch:
        batch.drop_column("public")
    op.drop_table("budget_alerts")
    op.drop_table("budgets")
