"""Webhook endpoints, the webhook outbox and delivery attempts.

See `tables_webhooks.py` for what each table is for. Columns are frozen here (not imported).

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-26
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from releve.adapters.sql.types import ExactJSON, UtcDateTime

revision = "0004"
down_revision = "0003"
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


def _fk(table: str, column: str, target: str) -> sa.ForeignKey:
    return sa.ForeignKey(f"{target}.id", ondelete="CASCADE", name=f"fk_{table}_{column}_{target}")


def upgrade() -> None:
    op.create_table(
        "webhook_endpoints",
        sa.Column("id", sa.Uuid, nullable=False),
        _org_fk("webhook_endpoints"),
        sa.Column("webhook_url", sa.String(1024), nullable=False),
        sa.Column("signature_algo", sa.String(8), nullable=False),
        sa.Column("name", sa.String(255)),
        sa.Column("event_types", ExactJSON),
        sa.Column("created_at", UtcDateTime, nullable=False),
        sa.Column("updated_at", UtcDateTime, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_webhook_endpoints"),
        sa.UniqueConstraint(
            "organization_id",
            "webhook_url",
            name="uq_webhook_endpoints_organization_id_webhook_url",
        ),
    )
    op.create_table(
        "webhooks",
        sa.Column("id", sa.Uuid, nullable=False),
        _org_fk("webhooks"),
        sa.Column(
            "webhook_endpoint_id",
            sa.Uuid,
            _fk("webhooks", "webhook_endpoint_id", "webhook_endpoints"),
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
        sa.Column("created_at", UtcDateTime, nullable=False),
        sa.Column("updated_at", UtcDateTime, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_webhooks"),
    )
    op.create_index("ix_webhooks_due", "webhooks", ["status", "next_attempt_at"])
    op.create_index(
        "ix_webhooks_endpoint", "webhooks", ["organization_id", "webhook_endpoint_id", "created_at"]
    )
    op.create_table(
        "webhook_attempts",
        sa.Column("id", sa.Uuid, nullable=False),
        _org_fk("webhook_attempts"),
        sa.Column(
            "webhook_id",
            sa.Uuid,
            _fk("webhook_attempts", "webhook_id", "webhooks"),
            nullable=False,
        ),
        sa.Column(
            "webhook_endpoint_id",
            sa.Uuid,
            _fk("webhook_attempts", "webhook_endpoint_id", "webhook_endpoints"),
            nullable=False,
        ),
        sa.Column("attempt", sa.Integer, nullable=False),
        sa.Column("http_status", sa.Integer),
        sa.Column("response_excerpt", sa.Text),
        sa.Column("error", sa.String(1024)),
        sa.Column("attempted_at", UtcDateTime, nullable=False),
        sa.Column("duration_ms", sa.Integer, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_webhook_attempts"),
    )
    op.create_index(
        "ix_webhook_attempts_endpoint",
        "webhook_attempts",
        ["organization_id", "webhook_endpoint_id", "attempted_at"],
    )
    op.create_index("ix_webhook_attempts_webhook", "webhook_attempts", ["webhook_id", "attempt"])


def downgrade() -> None:
    for table in ("webhook_attempts", "webhooks", "webhook_endpoints"):
        op.drop_table(table)
