"""Ingest performance: per-local-day rollup of the hourly usage aggregates.

`usage_daily_aggregates` holds, per (subscription, charge, bucket, local day), the merge of that
day's hourly states; the ingest path writes both in one transaction. Existing hourly rows are
rolled up here (`backfill_daily`: exact merges by the charge's own aggregator).

Frozen snapshot: columns are defined inline, never imported from tables.py.

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-26
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from releve.adapters.sql.types import ExactJSON, UtcDateTime

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

TABLE = "usage_daily_aggregates"


def _fk(column: str, target: str) -> sa.ForeignKey:
    return sa.ForeignKey(f"{target}.id", ondelete="CASCADE", name=f"fk_{TABLE}_{column}_{target}")


def upgrade() -> None:
    op.create_table(
        TABLE,
        sa.Column(
            "subscription_id", sa.Uuid, _fk("subscription_id", "subscriptions"), nullable=False
        ),
        sa.Column("charge_id", sa.Uuid, _fk("charge_id", "charges"), nullable=False),
        sa.Column("bucket", sa.Text, nullable=False),
        sa.Column("day_start", UtcDateTime, nullable=False),
        sa.Column(
            "organization_id", sa.Uuid, _fk("organization_id", "organizations"), nullable=False
        ),
        sa.Column("state", ExactJSON, nullable=False),
        sa.Column("events_count", sa.Integer, nullable=False),
        sa.Column("updated_at", UtcDateTime, nullable=False),
        sa.PrimaryKeyConstraint(
            "organization_id",
            "subscription_id",
            "charge_id",
            "bucket",
            "day_start",
            name=f"pk_{TABLE}",
        ),
    )
    from releve.adapters.sql.repositories.usage_daily import backfill_daily

    backfill_daily(op.get_bind())


def downgrade() -> None:
    op.drop_table(TABLE)
