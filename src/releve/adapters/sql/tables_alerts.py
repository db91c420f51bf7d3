"""Progressive billing (usage thresholds reached) and subscription alerts with their triggers.

Same `MetaData` as `tables.py`; migration 0012 creates exactly these tables (the schema test
compares, through `schema.metadata`).

The unique keys are what make a crossing happen once, whatever evaluates twice or concurrently
(the loser's insert fails at commit, it retries and sees the winner's row):
- `usage_threshold_crossings`: one row per progressive-billing threshold point crossed by a
  subscription's lifetime usage, UNIQUE (subscription_id, threshold_amount_cents), and
  UNIQUE (subscription_id, sequence) — `sequence` is the number of earlier crossings + 1, so two
  evaluators that saw different usage still cannot both bill the same usage.
- `subscription_alerts`: Lago's alerts, keyed by the subscription's external id (they survive
  plan changes), UNIQUE (organization_id, external_subscription_id, code).
- `triggered_alerts`: one row per firing (one `alert.triggered` webhook), UNIQUE
  (alert_id, sequence) for the same reason as above.
- `alert_threshold_crossings`: one row per (alert, period, threshold value) crossed; the
  recurring threshold stores its highest point reached (`recurring` true).
"""

from __future__ import annotations

import sqlalchemy as sa

from releve.adapters.sql.columns import cents, created_at, id_pk, org_fk, updated_at
from releve.adapters.sql.tables import metadata
from releve.adapters.sql.types import ExactDecimal, ExactJSON, UtcDateTime

__all__ = [
    "alert_threshold_crossings",
    "metadata",
    "subscription_alerts",
    "triggered_alerts",
    "usage_threshold_crossings",
]

usage_threshold_crossings = sa.Table(
    "usage_threshold_crossings",
    metadata,
    id_pk(),
    org_fk(),
    sa.Column("subscription_id", sa.Uuid, sa.ForeignKey("subscriptions.id"), nullable=False),
    sa.Column("sequence", sa.Integer, nullable=False),
    cents("threshold_amount_cents"),
    cents("lifetime_usage_amount_cents"),
    sa.Column("period_start", UtcDateTime, nullable=False),
    sa.Column("period_end", UtcDateTime, nullable=False),
    # The progressive invoice; NULL when the crossing had nothing new to bill.
    sa.Column("invoice_id", sa.Uuid, sa.ForeignKey("invoices.id"), nullable=True),
    created_at(),
    sa.UniqueConstraint(
        "subscription_id", "threshold_amount_cents", name="uq_usage_threshold_crossings_point"
    ),
    sa.UniqueConstraint(
        "subscription_id", "sequence", name="uq_usage_threshold_crossings_sequence"
    ),
)

subscription_alerts = sa.Table(
    "subscription_alerts",
    metadata,
    id_pk(),
    org_fk(),
    sa.Column("external_subscription_id", sa.String(255), nullable=False),
    sa.Column("alert_type", sa.String(64), nullable=False),
    sa.Column("code", sa.String(255), nullable=False),
    sa.Column("name", sa.String(255), nullable=True),
    sa.Column("billable_metric_id", sa.Uuid, sa.ForeignKey("billable_metrics.id"), nullable=True),
    # [{"code": str | None, "value": Decimal string, "recurring": bool}], ascending values.
    sa.Column("thresholds", ExactJSON, nullable=False),
    sa.Column("previous_value", ExactDecimal, nullable=True),
    sa.Column("last_processed_at", UtcDateTime, nullable=True),
    created_at(),
    updated_at(),
    sa.UniqueConstraint(
        "organization_id", "external_subscription_id", "code", name="uq_subscription_alerts_code"
    ),
)

triggered_alerts = sa.Table(
    "triggered_alerts",
    metadata,
    id_pk(),
    org_fk(),
    sa.Column(
        "alert_id",
        sa.Uuid,
        sa.ForeignKey("subscription_alerts.id", ondelete="CASCADE"),
        nullable=False,
    ),
    sa.Column("subscription_id", sa.Uuid, sa.ForeignKey("subscriptions.id"), nullable=False),
    sa.Column("sequence", sa.Integer, nullable=False),
    sa.Column("period_start", UtcDateTime, nullable=False),
    sa.Column("current_value", ExactDecimal, nullable=False),
    sa.Column("previous_value", ExactDecimal, nullable=False),
    sa.Column("crossed_thresholds", ExactJSON, nullable=False),
    sa.Column("triggered_at", UtcDateTime, nullable=False),
    sa.UniqueConstraint("alert_id", "sequence"),
)

alert_threshold_crossings = sa.Table(
    "alert_threshold_crossings",
    metadata,
    id_pk(),
    org_fk(),
    sa.Column(
        "alert_id",
        sa.Uuid,
        sa.ForeignKey("subscription_alerts.id", ondelete="CASCADE"),
        nullable=False,
    ),
    sa.Column(
        "triggered_alert_id",
        sa.Uuid,
        sa.ForeignKey(
            "triggered_alerts.id", ondelete="CASCADE", name="fk_alert_threshold_crossings_trigger"
        ),
        nullable=False,
    ),
    sa.Column("period_start", UtcDateTime, nullable=False),
    # Normalized decimal text ("5000", "0.5"): equal values compare equal on every store.
    sa.Column("threshold_value", sa.String(64), nullable=False),
    sa.Column("recurring", sa.Boolean, nullable=False),
    sa.UniqueConstraint(
        "alert_id", "period_start", "threshold_value", name="uq_alert_threshold_crossings_key"
    ),
)
