"""Progressive billing crossings, subscription alerts and their triggers.

Frozen snapshot: columns are defined inline, never imported from tables_alerts.py.

Revision ID: 0012
Revises: 0011
Create Date: 2026-11-26
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from releve.adapters.sql.types import ExactDecimal, ExactJSON, UtcDateTime

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def _org_fk(table: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        ["organization_id"],
        ["organizations.id"],
        ondelete="CASCADE",
        name=f"fk_{table}_organization_id_organizations",
    )


def upgrade() -> None:
    op.create_table(
        "usage_threshold_crossings",
        sa.Column("id", sa.Uuid, nullable=False),
        sa.Column("organization_id", sa.Uuid, nullable=False),
        sa.Column("subscription_id", sa.Uuid, nullable=False),
        sa.Column("sequence", sa.Integer, nullable=False),
        sa.Column("threshold_amount_cents", sa.BigInteger, nullable=False),
        sa.Column("lifetime_usage_amount_cents", sa.BigInteger, nullable=False),
        sa.Column("period_start", UtcDateTime, nullable=False),
        sa.Column("period_end", UtcDateTime, nullable=False),
        sa.Column("invoice_id", sa.Uuid, nullable=True),
        sa.Column("created_at", UtcDateTime, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_usage_threshold_crossings"),
        _org_fk("usage_threshold_crossings"),
        sa.ForeignKeyConstraint(
            ["subscription_id"],
            ["subscriptions.id"],
            name="fk_usage_threshold_crossings_subscription_id_subscriptions",
        ),
        sa.ForeignKeyConstraint(
            ["invoice_id"],
            ["invoices.id"],
            name="fk_usage_threshold_crossings_invoice_id_invoices",
        ),
        sa.UniqueConstraint(
            "subscription_id",
            "threshold_amount_cents",
            name="uq_usage_threshold_crossings_point",
        ),
        sa.UniqueConstraint(
            "subscription_id",
            "sequence",
            name="uq_usage_threshold_crossings_sequence",
        ),
    )
    op.create_table(
        "subscription_alerts",
        sa.Column("id", sa.Uuid, nullable=False),
        sa.Column("organization_id", sa.Uuid, nullable=False),
        sa.Column("external_subscription_id", sa.String(255), nullable=False),
        sa.Column("alert_type", sa.String(64), nullable=False),
        sa.Column("code", sa.String(255), nullable=False),
        sa.Column("name", sa.String(255), nullable=True),
        sa.Column("billable_metric_id", sa.Uuid, nullable=True),
        sa.Column("thresholds", ExactJSON, nullable=False),
        sa.Column("previous_value", ExactDecimal, nullable=True),
        sa.Column("last_processed_at", UtcDateTime, nullable=True),
        sa.Column("created_at", UtcDateTime, nullable=False),
        sa.Column("updated_at", UtcDateTime, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_subscription_alerts"),
        _org_fk("subscription_alerts"),
        sa.ForeignKeyConstraint(
            ["billable_metric_id"],
            ["billable_metrics.id"],
            name="fk_subscription_alerts_billable_metric_id_billable_metrics",
        ),
        sa.UniqueConstraint(
            "organization_id",
            "external_subscription_id",
            "code",
            name="uq_subscription_alerts_code",
        ),
    )
    op.create_table(
        "triggered_alerts",
        sa.Column("id", sa.Uuid, nullable=False),
        sa.Column("organization_id", sa.Uuid, nullable=False),
        sa.Column("alert_id", sa.Uuid, nullable=False),
        sa.Column("subscription_id", sa.Uuid, nullable=False),
        sa.Column("sequence", sa.Integer, nullable=False),
        sa.Column("period_start", UtcDateTime, nullable=False),
        sa.Column("current_value", ExactDecimal, nullable=False),
        sa.Column("previous_value", ExactDecimal, nullable=False),
        sa.Column("crossed_thresholds", ExactJSON, nullable=False),
        sa.Column("triggered_at", UtcDateTime, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_triggered_alerts"),
        _org_fk("triggered_alerts"),
        sa.ForeignKeyConstraint(
            ["alert_id"],
            ["subscription_alerts.id"],
            ondelete="CASCADE",
            name="fk_triggered_alerts_alert_id_subscription_alerts",
        ),
        sa.ForeignKeyConstraint(
            ["subscription_id"],
            ["subscriptions.id"],
            name="fk_triggered_alerts_subscription_id_subscriptions",
        ),
        sa.UniqueConstraint("alert_id", "sequence", name="uq_triggered_alerts_alert_id_sequence"),
    )
    op.create_table(
        "alert_threshold_crossings",
        sa.Column("id", sa.Uuid, nullable=False),
        sa.Column("organization_id", sa.Uuid, nullable=False),
        sa.Column("alert_id", sa.Uuid, nullable=False),
        sa.Column("triggered_alert_id", sa.Uuid, nullable=False),
        sa.Column("period_start", UtcDateTime, nullable=False),
        sa.Column("threshold_value", sa.String(64), nullable=False),
        sa.Column("recurring", sa.Boolean, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_alert_threshold_crossings"),
        _org_fk("alert_threshold_crossings"),
        sa.ForeignKeyConstraint(
            ["alert_id"],
            ["subscription_alerts.id"],
            ondelete="CASCADE",
            name="fk_alert_threshold_crossings_alert_id_subscription_alerts",
        ),
        sa.ForeignKeyConstraint(
            ["triggered_alert_id"],
            ["triggered_alerts.id"],
            ondelete="CASCADE",
            name="fk_alert_threshold_crossings_trigger",
        ),
        sa.UniqueConstraint(
            "alert_id",
            "period_start",
            "threshold_value",
            name="uq_alert_threshold_crossings_key",
        ),
    )


def downgrade() -> None:
    op.drop_table("alert_threshold_crossings")
    op.drop_table("triggered_alerts")
    op.drop_table("subscription_alerts")
    op.drop_table("usage_threshold_crossings")
