"""Foundation: organizations, API keys, customers, taxes, billable metrics, events.

Revision ID: 0001_foundation
Revises:
Create Date: 2025-01-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from releve.adapters.sql.types import ExactDecimal, ExactJSON, UtcDateTime

revision = "0001_foundation"
down_revision = None
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


def upgrade() -> None:
    op.create_table(
        "organizations",
        sa.Column("id", sa.Uuid, nullable=False),
        sa.Column("name", sa.String(255), nullable=False),
        sa.Column("default_currency", sa.String(3), nullable=False),
        sa.Column("timezone", sa.String(64), nullable=False),
        sa.Column("webhook_hmac_key", sa.String(64), nullable=False),
        sa.Column("portal_secret", sa.String(64), nullable=False),
        sa.Column("invoice_grace_period", sa.Integer, nullable=False),
        sa.Column("net_payment_term", sa.Integer, nullable=False),
        sa.Column("is_default", sa.Boolean, nullable=False),
        sa.Column("created_at", UtcDateTime, nullable=False),
        sa.Column("updated_at", UtcDateTime, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_organizations"),
    )
    op.create_table(
        "api_keys",
        sa.Column("id", sa.Uuid, nullable=False),
        _org_fk("api_keys"),
        sa.Column("key_hash", sa.String(64), nullable=False),
        sa.Column("prefix", sa.String(16), nullable=False),
        sa.Column("created_at", UtcDateTime, nullable=False),
        sa.Column("revoked_at", UtcDateTime, nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_api_keys"),
        sa.UniqueConstraint("key_hash", name="uq_api_keys_key_hash"),
    )
    op.create_table(
        "customers",
        sa.Column("id", sa.Uuid, nullable=False),
        _org_fk("customers"),
        sa.Column("external_id", sa.String(255), nullable=False),
        sa.Column("sequential_id", sa.Integer, nullable=False),
        sa.Column("name", sa.String(255)),
        sa.Column("firstname", sa.String(255)),
        sa.Column("lastname", sa.String(255)),
        sa.Column("email", sa.String(255)),
        sa.Column("phone", sa.String(64)),
        sa.Column("url", sa.String(1024)),
        sa.Column("logo_url", sa.String(1024)),
        sa.Column("customer_type", sa.String(16)),
        sa.Column("currency", sa.String(3)),
        sa.Column("timezone", sa.String(64)),
        sa.Column("country", sa.String(2)),
        sa.Column("address_line1", sa.String(255)),
        sa.Column("address_line2", sa.String(255)),
        sa.Column("city", sa.String(255)),
        sa.Column("state", sa.String(255)),
        sa.Column("zipcode", sa.String(32)),
        sa.Column("legal_name", sa.String(255)),
        sa.Column("legal_number", sa.String(255)),
        sa.Column("tax_identification_number", sa.String(255)),
        sa.Column("net_payment_term", sa.Integer),
        sa.Column("invoice_grace_period", sa.Integer),
        sa.Column("finalize_zero_amount_invoice", sa.String(16), nullable=False),
        sa.Column("metadata", ExactJSON, nullable=False),
        sa.Column("created_at", UtcDateTime, nullable=False),
        sa.Column("updated_at", UtcDateTime, nullable=False),
        sa.Column("deleted_at", UtcDateTime, nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_customers"),
        sa.UniqueConstraint(
            "organization_id", "sequential_id", name="uq_customers_organization_id_sequential_id"
        ),
    )
    op.create_index(
        "uq_customers_live_external_id",
        "customers",
        ["organization_id", "external_id"],
        unique=True,
        sqlite_where=sa.text("deleted_at IS NULL"),
        postgresql_where=sa.text("deleted_at IS NULL"),
    )
    op.create_table(
        "taxes",
        sa.Column("id", sa.Uuid, nullable=False),
        _org_fk("taxes"),
        sa.Column("code", sa.String(255), nullable=False),
        sa.Column("name", sa.String(255), nullable=False),
        sa.Column("rate", ExactDecimal, nullable=False),
        sa.Column("description", sa.Text),
        sa.Column("applied_to_organization", sa.Boolean, nullable=False),
        sa.Column("created_at", UtcDateTime, nullable=False),
        sa.Column("updated_at", UtcDateTime, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_taxes"),
        sa.UniqueConstraint("organization_id", "code", name="uq_taxes_organization_id_code"),
    )
    op.create_table(
        "billable_metrics",
        sa.Column("id", sa.Uuid, nullable=False),
        _org_fk("billable_metrics"),
        sa.Column("code", sa.String(255), nullable=False),
        sa.Column("name", sa.String(255), nullable=False),
        sa.Column("description", sa.Text),
        sa.Column("aggregation_type", sa.String(32), nullable=False),
        sa.Column("field_name", sa.String(255)),
        sa.Column("recurring", sa.Boolean, nullable=False),
        sa.Column("expression", sa.Text),
        sa.Column("rounding_function", sa.String(16)),
        sa.Column("rounding_precision", sa.Integer),
        sa.Column("weighted_interval", sa.String(16)),
        sa.Column("filters", ExactJSON, nullable=False),
        sa.Column("percentile", ExactDecimal),
        sa.Column("footprint_per_unit", ExactDecimal),
        sa.Column("footprint_unit", sa.String(32)),
        sa.Column("created_at", UtcDateTime, nullable=False),
        sa.Column("updated_at", UtcDateTime, nullable=False),
        sa.Column("deleted_at", UtcDateTime, nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_billable_metrics"),
    )
    op.create_index(
        "uq_billable_metrics_live_code",
        "billable_metrics",
        ["organization_id", "code"],
        unique=True,
        sqlite_where=sa.text("deleted_at IS NULL"),
        postgresql_where=sa.text("deleted_at IS NULL"),
    )
    op.create_table(
        "events",
        sa.Column("id", sa.Uuid, nullable=False),
        _org_fk("events"),
        sa.Column("transaction_id", sa.String(255), nullable=False),
        sa.Column("external_subscription_id", sa.String(255), nullable=False),
        sa.Column("code", sa.String(255), nullable=False),
        sa.Column("timestamp", UtcDateTime, nullable=False),
        sa.Column("properties", ExactJSON, nullable=False),
        sa.Column("precise_total_amount_cents", ExactDecimal),
        sa.Column("payload_hash", sa.String(64), nullable=False),
        sa.Column("created_at", UtcDateTime, nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("unmatched_reason", sa.String(64)),
        sa.PrimaryKeyConstraint("id", name="pk_events"),
        sa.UniqueConstraint(
            "organization_id", "transaction_id", name="uq_events_organization_id_transaction_id"
        ),
    )
    op.create_index(
        "ix_events_usage",
        "events",
        ["organization_id", "external_subscription_id", "code", "timestamp"],
    )
    op.create_index("ix_events_status", "events", ["organization_id", "status", "code"])


def downgrade() -> None:
    for table in ("events", "billable_metrics", "taxes", "customers", "api_keys"):
        op.drop_table(table)
    op.drop_table("organizations")
