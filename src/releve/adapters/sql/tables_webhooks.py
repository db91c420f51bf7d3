"""Webhook endpoints, the durable outbox of webhooks and their delivery attempts.

Same `MetaData` as `tables.py`; migration 0004 creates exactly these tables (the schema test
compares, through `schema.metadata`).

- `webhook_endpoints`: where an organization wants its webhooks (Lago's resource).
- `webhooks`: the outbox, one row per (webhook, endpoint), as Lago's `webhooks` table: each
  endpoint has its own status, attempts, backoff and lease, so a slow or broken receiver never
  delays or re-sends to a healthy one. `body` is NULL until the first attempt renders it, then
  frozen. `next_attempt_at` is NULL until the first attempt (due at once: `emit` has no clock
  by contract, so the schedule starts at the first claim); `created_at` is the wall time the
  row was written. `claim_token` / `claimed_until` are the lease of the process sending it.
- `webhook_attempts`: one row per HTTP attempt (the delivery log).
"""

from __future__ import annotations

import sqlalchemy as sa

from releve.adapters.sql.columns import created_at, id_pk, org_fk, updated_at
from releve.adapters.sql.tables import metadata
from releve.adapters.sql.types import ExactJSON, UtcDateTime

webhook_endpoints = sa.Table(
    "webhook_endpoints",
    metadata,
    id_pk(),
    org_fk(),
    sa.Column("webhook_url", sa.String(1024), nullable=False),
    sa.Column("signature_algo", sa.String(8), nullable=False),
    sa.Column("name", sa.String(255)),
    sa.Column("event_types", ExactJSON),
    created_at(),
    updated_at(),
    sa.UniqueConstraint("organization_id", "webhook_url"),
)

webhooks = sa.Table(
    "webhooks",
    metadata,
    id_pk(),
    org_fk(),
    sa.Column(
        "webhook_endpoint_id",
        sa.Uuid,
        sa.ForeignKey("webhook_endpoints.id", ondelete="CASCADE"),
        nullable=False,
    ),
    sa.Column("webhook_type", sa.String(64), nullable=False),
    sa.Column("object_type", sa.String(64), nullable=False),
    sa.Column("object_id", sa.String(64)),
    sa.Column("payload", ExactJSON),
    sa.Column("body", sa.Text),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("attempts", sa.Integer, nullable=False),
    sa.Column("next_attempt_at", UtcDateTime),
    sa.Column("last_attempt_at", UtcDateTime),
    sa.Column("last_http_status", sa.Integer),
    sa.Column("claim_token", sa.Uuid),
    sa.Column("claimed_until", UtcDateTime),
    created_at(),
    updated_at(),
    sa.Index("ix_webhooks_due", "status", "next_attempt_at"),
    sa.Index("ix_webhooks_endpoint", "organization_id", "webhook_endpoint_id", "created_at"),
)

webhook_attempts = sa.Table(
    "webhook_attempts",
    metadata,
    id_pk(),
    org_fk(),
    sa.Column(
        "webhook_id", sa.Uuid, sa.ForeignKey("webhooks.id", ondelete="CASCADE"), nullable=False
    ),
    sa.Column(
        "webhook_endpoint_id",
        sa.Uuid,
        sa.ForeignKey("webhook_endpoints.id", ondelete="CASCADE"),
        nullable=False,
    ),
    sa.Column("attempt", sa.Integer, nullable=False),
    sa.Column("http_status", sa.Integer),
    sa.Column("response_excerpt", sa.Text),
    sa.Column("error", sa.String(1024)),
    sa.Column("attempted_at", UtcDateTime, nullable=False),
    sa.Column("duration_ms", sa.Integer, nullable=False),
    sa.Index(
        "ix_webhook_attempts_endpoint", "organization_id", "webhook_endpoint_id", "attempted_at"
    ),
    sa.Index("ix_webhook_attempts_webhook", "webhook_id", "attempt"),
)

__all__ = ["metadata", "webhook_attempts", "webhook_endpoints", "webhooks"]
