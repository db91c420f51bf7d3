"""The relational schema (SQLAlchemy Core), the single description repositories query.

Migrations under `migrations/versions` create exactly this; a test compares the two. Every
business table carries `organization_id` first in its keys: tenants never share a row or an index
range. Later slices (invoices, fees) add tables here the same way.
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
    # The subscription the event was matched to (None while unmatched); added by 0002.
    sa.Column("subscription_id", sa.Uuid, nullable=True),
    # Deduplication forever, per organization (stricter than Lago's per-subscription key).
    sa.UniqueConstraint("organization_id", "transaction_id"),
    sa.Index("ix_events_usage", "organization_id", "external_subscription_id", "code", "timestamp"),
    sa.Index("ix_events_status", "organization_id", "status", "code"),
)

plans = sa.Table(
    "plans",
    metadata,
    sa.Column("id", sa.Uuid, primary_key=True),
    _org_fk(),
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
    # Relevé extension: customers may compare their usage against public plans (portal).
    sa.Column("public", sa.Boolean, nullable=False, server_default=sa.false()),
    # An override child (subscription plan_overrides) points at the plan it overrides and keeps
    # its code; only parents are listed and addressed by code.
    sa.Column("parent_id", sa.Uuid, sa.ForeignKey("plans.id"), nullable=True),
    sa.Column("created_at", UtcDateTime, nullable=False),
    sa.Column("updated_at", UtcDateTime, nullable=False),
    sa.Column("deleted_at", UtcDateTime, nullable=True),
    sa.Index(
        "uq_plans_live_code",
        "organization_id",
        "code",
        unique=True,
        sqlite_where=sa.text("deleted_at IS NULL AND parent_id IS NULL"),
        postgresql_where=sa.text("deleted_at IS NULL AND parent_id IS NULL"),
    ),
)

charges = sa.Table(
    "charges",
    metadata,
    sa.Column("id", sa.Uuid, primary_key=True),
    _org_fk(),
    sa.Column("plan_id", sa.Uuid, sa.ForeignKey("plans.id", ondelete="CASCADE"), nullable=False),
    sa.Column("billable_metric_id", sa.Uuid, sa.ForeignKey("billable_metrics.id"), nullable=False),
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
    sa.Column("parent_id", sa.Uuid, sa.ForeignKey("charges.id"), nullable=True),
    sa.Column("created_at", UtcDateTime, nullable=False),
    sa.Column("updated_at", UtcDateTime, nullable=False),
    sa.Index("ix_charges_plan_id_position", "plan_id", "position"),
)

charge_filters = sa.Table(
    "charge_filters",
    metadata,
    sa.Column("id", sa.Uuid, primary_key=True),
    _org_fk(),
    sa.Column(
        "charge_id", sa.Uuid, sa.ForeignKey("charges.id", ondelete="CASCADE"), nullable=False
    ),
    # The filter's index in its charge: usage buckets name filters by this position.
    sa.Column("position", sa.Integer, nullable=False),
    sa.Column("values", ExactJSON, nullable=False),
    sa.Column("properties", ExactJSON, nullable=False),
    sa.Column("invoice_display_name", sa.String(255)),
    sa.Column("created_at", UtcDateTime, nullable=False),
    sa.UniqueConstraint("charge_id", "position"),
)

subscriptions = sa.Table(
    "subscriptions",
    metadata,
    sa.Column("id", sa.Uuid, primary_key=True),
    _org_fk(),
    sa.Column("customer_id", sa.Uuid, sa.ForeignKey("customers.id"), nullable=False),
    sa.Column("plan_id", sa.Uuid, sa.ForeignKey("plans.id"), nullable=False),
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
    sa.Column("previous_subscription_id", sa.Uuid, sa.ForeignKey("subscriptions.id")),
    sa.Column("next_subscription_id", sa.Uuid, sa.ForeignKey("subscriptions.id")),
    sa.Column("downgrade_plan_date", sa.Date),
    sa.Column("on_termination_credit_note", sa.String(16)),
    sa.Column("on_termination_invoice", sa.String(16), nullable=False),
    sa.Column("created_at", UtcDateTime, nullable=False),
    sa.Column("updated_at", UtcDateTime, nullable=False),
    # The upgrade chain shares one external id over time; at any moment at most one row per
    # external id is active and at most one is pending (a future start or a downgrade).
    sa.Index(
        "uq_subscriptions_live_external_id",
        "organization_id",
        "external_id",
        "status",
        unique=True,
        sqlite_where=sa.text("status IN ('active', 'pending')"),
        postgresql_where=sa.text("status IN ('active', 'pending')"),
    ),
    sa.Index("ix_subscriptions_external_id", "organization_id", "external_id", "started_at"),
    sa.Index("ix_subscriptions_customer_id", "customer_id"),
)

usage_aggregates = sa.Table(
    "usage_aggregates",
    metadata,
    sa.Column(
        "subscription_id",
        sa.Uuid,
        sa.ForeignKey("subscriptions.id", ondelete="CASCADE"),
        nullable=False,
    ),
    sa.Column(
        "charge_id", sa.Uuid, sa.ForeignKey("charges.id", ondelete="CASCADE"), nullable=False
    ),
    # The serialized `filters.BucketKey`: JSON [filter index or null, [group values]].
    sa.Column("bucket", sa.Text, nullable=False),
    # Start of the UTC hour the events fell in.
    sa.Column("hour_start", UtcDateTime, nullable=False),
    _org_fk(),
    # `Aggregator.dump_state` of the bucket's events of that hour.
    sa.Column("state", ExactJSON, nullable=False),
    sa.Column("events_count", sa.Integer, nullable=False),
    sa.Column("updated_at", UtcDateTime, nullable=False),
    sa.PrimaryKeyConstraint(
        "organization_id", "subscription_id", "charge_id", "bucket", "hour_start"
    ),
)

# Per-LOCAL-DAY rollup of `usage_aggregates` (same key with `day_start` instead of
# `hour_start`): the merge of the day's hourly states, written in the same transaction as them,
# so a period-to-date read merges ~30 daily states plus its partial edge days' hours.
usage_daily_aggregates = sa.Table(
    "usage_daily_aggregates",
    metadata,
    sa.Column(
        "subscription_id",
        sa.Uuid,
        sa.ForeignKey("subscriptions.id", ondelete="CASCADE"),
        nullable=False,
    ),
    sa.Column(
        "charge_id", sa.Uuid, sa.ForeignKey("charges.id", ondelete="CASCADE"), nullable=False
    ),
    sa.Column("bucket", sa.Text, nullable=False),
    # Start (UTC) of the local day (the zone the hourly rows use) holding those hours.
    sa.Column("day_start", UtcDateTime, nullable=False),
    _org_fk(),
    sa.Column("state", ExactJSON, nullable=False),
    sa.Column("events_count", sa.Integer, nullable=False),
    sa.Column("updated_at", UtcDateTime, nullable=False),
    sa.PrimaryKeyConstraint(
        "organization_id", "subscription_id", "charge_id", "bucket", "day_start"
    ),
    # Covers the usage reader's versions query (migration 0013): on SQLite, updated_at and
    # events_count lie after the large state, behind its overflow pages.
    sa.Index(
        "ix_usage_daily_aggregates_versions",
        "organization_id",
        "subscription_id",
        "day_start",
        "charge_id",
        "bucket",
        "updated_at",
        "events_count",
    ),
)
