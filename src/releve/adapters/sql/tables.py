"""The relational schema (SQLAlchemy Core), the single description repositories query.

Migrations under `migrations/versions` create exactly this; a test compares the two. Every
business table carries `organization_id` first in its keys: tenants never share a row or an index
range. Later slices (plans, charges, subscriptions, invoices, fees) add tables here the same way.
"""

from __future__ import annotations

import sqlalchemy as sa

from releve.adapters.sql.types import ExactDecimal, ExactJSON, UtcDateTime

metadata = sa.MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_N_name)s",
        "uq": "uq_%(table_name)s_%(column_0_N_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
        "ck": "ck_%(table_name)s_%(constraint_name)s",
    }
)


def _org_fk() -> sa.Column[object]:
    return sa.Column(
        "organization_id",
        sa.Uuid,
        sa.ForeignKey("organizations.id", ondelete="CASCADE"),
        nullable=False,
    )


organizations = sa.Table(
    "organizations",
    metadata,
    sa.Column("id", sa.Uuid, primary_key=True),
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
)

api_keys = sa.Table(
    "api_keys",
    metadata,
    sa.Column("id", sa.Uuid, primary_key=True),
    _org_fk(),
    sa.Column("key_hash", sa.String(64), nullable=False, unique=True),
    sa.Column("prefix", sa.String(16), nullable=False),
    sa.Column("created_at", UtcDateTime, nullable=False),
    sa.Column("revoked_at", UtcDateTime, nullable=True),
)

customers = sa.Table(
    "customers",
    metadata,
    sa.Column("id", sa.Uuid, primary_key=True),
    _org_fk(),
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
    sa.UniqueConstraint("organization_id", "sequential_id"),
    # external_id is unique among live customers only: a deleted one may be re-created.
    sa.Index(
        "uq_customers_live_external_id",
        "organization_id",
        "external_id",
        unique=True,
        sqlite_where=sa.text("deleted_at IS NULL"),
        postgresql_where=sa.text("deleted_at IS NULL"),
    ),
)

taxes = sa.Table(
    "taxes",
    metadata,
    sa.Column("id", sa.Uuid, primary_key=True),
    _org_fk(),
    sa.Column("code", sa.String(255), nullable=False),
    sa.Column("name", sa.String(255), nullable=False),
    sa.Column("rate", ExactDecimal, nullable=False),
    sa.Column("description", sa.Text),
    sa.Column("applied_to_organization", sa.Boolean, nullable=False),
    sa.Column("created_at", UtcDateTime, nullable=False),
    sa.Column("updated_at", UtcDateTime, nullable=False),
    sa.UniqueConstraint("organization_id", "code"),
)

billable_metrics = sa.Table(
    "billable_metrics",
    metadata,
    sa.Column("id", sa.Uuid, primary_key=True),
    _org_fk(),
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
    sa.Index(
        "uq_billable_metrics_live_code",
        "organization_id",
        "code",
        unique=True,
        sqlite_where=sa.text("deleted_at IS NULL"),
        postgresql_where=sa.text("deleted_at IS NULL"),
    ),
)

events = sa.Table(
    "events",
    metadata,
    sa.Column("id", sa.Uuid, primary_key=True),
    _org_fk(),
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
    # Deduplication forever, per organization (stricter than Lago's per-subscription key).
    sa.UniqueConstraint("organization_id", "transaction_id"),
    sa.Index("ix_events_usage", "organization_id", "external_subscription_id", "code", "timestamp"),
    sa.Index("ix_events_status", "organization_id", "status", "code"),
)
