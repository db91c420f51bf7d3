"""Plans, charges, charge filters, subscriptions, per-hour usage aggregates; events.subscription_id.

Revision ID: 0002
Revises: 0001_foundation
Create Date: 2025-01-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from releve.adapters.sql.types import ExactDecimal, ExactJSON, UtcDateTime

revision = "0002"
down_revision = "0001_foundation"
branch_labels = None
depends_on = None


def _org_fk(table: str) -> sa.Column[object]:
    return sa.Column(
        "organization_id",
        sa.Uuid,
        sa.ForeignKey(
            "organizations.id",
            ondelete="CASCADE",
            name=f"fk_{table}_organization_id_organizations",
        ),
        nullable=False,
    )


def _fk(table: str, column: str, target: str, ondelete: str | None = None) -> sa.ForeignKey:
    return sa.ForeignKey(f"{target}.id", ondelete=ondelete, name=f"fk_{table}_{column}_{target}")


def upgrade() -> None:
    op.create_table(
        "plans",
        sa.Column("id", sa.Uuid, nullable=False),
        _org_fk("plans"),
        sa.Column("code", sa.String(255), nullable=False),
        sa.Column("name", sa.String(255), nullable=False),
        sa.Column("interval", sa.String(16), nullable=False),
        sa.Column("amount_cents", sa.BigInteger, nullable=False),
        sa.Column("amount_currency", sa.String(3), nullable=False),
        sa.Column("pay_in_advance", sa.Boolean, nullable=False),
        sa.Column("trial_period", ExactDecimal),
        sa.Column("bill_charges_monthly", sa.Boolean),
        sa.Column("invoice_display_name", sa.String(255)),
        sa.Column("description", sa.Text),
        sa.Column("tax_codes", ExactJSON, nullable=False),
        sa.Column("minimum_commitment", ExactJSON),
        sa.Column("usage_thresholds", ExactJSON, nullable=False),
        sa.Column("parent_id", sa.Uuid, _fk("plans", "parent_id", "plans"), nullable=True),
        sa.Column("created_at", UtcDateTime, nullable=False),
        sa.Column("updated_at", UtcDateTime, nullable=False),
        sa.Column("deleted_at", UtcDateTime, nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_plans"),
    )
    op.create_index(
        "uq_plans_live_code",
        "plans",
        ["organization_id", "code"],
        unique=True,
        sqlite_where=sa.text("deleted_at IS NULL AND parent_id IS NULL"),
        postgresql_where=sa.text("deleted_at IS NULL AND parent_id IS NULL"),
    )
    op.create_table(
        "charges",
        sa.Column("id", sa.Uuid, nullable=False),
        _org_fk("charges"),
        sa.Column(
            "plan_id", sa.Uuid, _fk("charges", "plan_id", "plans", "CASCADE"), nullable=False
        ),
        sa.Column(
            "billable_metric_id",
            sa.Uuid,
            _fk("charges", "billable_metric_id", "billable_metrics"),
            nullable=False,
        ),
        sa.Column("position", sa.Integer, nullable=False),
        sa.Column("code", sa.String(255)),
        sa.Column("charge_model", sa.String(32), nullable=False),
        sa.Column("properties", ExactJSON, nullable=False),
        sa.Column("pay_in_advance", sa.Boolean, nullable=False),
        sa.Column("invoiceable", sa.Boolean, nullable=False),
        sa.Column("regroup_paid_fees", sa.String(16)),
        sa.Column("prorated", sa.Boolean, nullable=False),
        sa.Column("min_amount_cents", sa.BigInteger, nullable=False),
        sa.Column("invoice_display_name", sa.String(255)),
        sa.Column("tax_codes", ExactJSON, nullable=False),
        sa.Column("parent_id", sa.Uuid, _fk("charges", "parent_id", "charges"), nullable=True),
        sa.Column("created_at", UtcDateTime, nullable=False),
        sa.Column("updated_at", UtcDateTime, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_charges"),
    )
    op.create_index("ix_charges_plan_id_position", "charges", ["plan_id", "position"])
    op.create_table(
        "charge_filters",
        sa.Column("id", sa.Uuid, nullable=False),
        _org_fk("charge_filters"),
        sa.Column(
            "charge_id",
            sa.Uuid,
            _fk("charge_filters", "charge_id", "charges", "CASCADE"),
            nullable=False,
        ),
        sa.Column("position", sa.Integer, nullable=False),
        sa.Column("values", ExactJSON, nullable=False),
        sa.Column("properties", ExactJSON, nullable=False),
        sa.Column("invoice_display_name", sa.String(255)),
        sa.Column("created_at", UtcDateTime, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_charge_filters"),
        sa.UniqueConstraint("charge_id", "position", name="uq_charge_filters_charge_id_position"),
    )
    op.create_table(
        "subscriptions",
        sa.Column("id", sa.Uuid, nullable=False),
        _org_fk("subscriptions"),
        sa.Column(
            "customer_id",
            sa.Uuid,
            _fk("subscriptions", "customer_id", "customers"),
            nullable=False,
        ),
        sa.Column("plan_id", sa.Uuid, _fk("subscriptions", "plan_id", "plans"), nullable=False),
        sa.Column("external_id", sa.String(255), nullable=False),
        sa.Column("name", sa.String(255)),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("billing_time", sa.String(16), nullable=False),
        sa.Column("subscription_at", UtcDateTime, nullable=False),
        sa.Column("started_at", UtcDateTime),
        sa.Column("ending_at", UtcDateTime),
        sa.Column("terminated_at", UtcDateTime),
        sa.Column("canceled_at", UtcDateTime),
        sa.Column("trial_ended_at", UtcDateTime),
        sa.Column(
            "previous_subscription_id",
            sa.Uuid,
            _fk("subscriptions", "previous_subscription_id", "subscriptions"),
        ),
        sa.Column(
            "next_subscription_id",
            sa.Uuid,
            _fk("subscriptions", "next_subscription_id", "subscriptions"),
        ),
        sa.Column("downgrade_plan_date", sa.Date),
        sa.Column("on_termination_credit_note", sa.String(16)),
        sa.Column("on_termination_invoice", sa.String(16), nullable=False),
        sa.Column("created_at", UtcDateTime, nullable=False),
        sa.Column("updated_at", UtcDateTime, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_subscriptions"),
    )
    op.create_index(
        "uq_subscriptions_live_external_id",
        "subscriptions",
        ["organization_id", "external_id", "status"],
        unique=True,
        sqlite_where=sa.text("status IN ('active', 'pending')"),
        postgresql_where=sa.text("status IN ('active', 'pending')"),
    )
    op.create_index(
        "ix_subscriptions_external_id",
        "subscriptions",
        ["organization_id", "external_id", "started_at"],
    )
    op.create_index("ix_subscriptions_customer_id", "subscriptions", ["customer_id"])
    op.create_table(
        "usage_aggregates",
        sa.Column(
            "subscription_id",
            sa.Uuid,
            _fk("usage_aggregates", "subscription_id", "subscriptions", "CASCADE"),
            nullable=False,
        ),
        sa.Column(
            "charge_id",
            sa.Uuid,
            _fk("usage_aggregates", "charge_id", "charges", "CASCADE"),
            nullable=False,
        ),
        sa.Column("bucket", sa.Text, nullable=False),
        sa.Column("hour_start", UtcDateTime, nullable=False),
        _org_fk("usage_aggregates"),
        sa.Column("state", ExactJSON, nullable=False),
        sa.Column("events_count", sa.Integer, nullable=False),
        sa.Column("updated_at", UtcDateTime, nullable=False),
        sa.PrimaryKeyConstraint(
            "organization_id",
            "subscription_id",
            "charge_id",
            "bucket",
            "hour_start",
            name="pk_usage_aggregates",
        ),
    )
    op.add_column("events", sa.Column("subscription_id", sa.Uuid, nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("events") as batch:
        batch.drop_column("subscription_id")
    for table in ("usage_aggregates", "subscriptions", "charge_filters", "charges", "plans"):
        op.drop_table(table)
