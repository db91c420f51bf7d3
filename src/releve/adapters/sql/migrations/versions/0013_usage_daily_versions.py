"""Usage reader: an index covering the versions of the daily rollup rows.

The current-usage reader lists the (charge, bucket, day, updated_at, events_count) of a
subscription's daily rows on every call to validate its cached merges. On SQLite those two
columns are stored after the (large) state, so reading them walked each row's overflow pages:
~110 pages a row for a unique count at 10 M events a month. This index answers that query alone.

Revision ID: 0013
Revises: 0012
Create Date: 2026-11-26
"""

from __future__ import annotations

from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index(
        "ix_usage_daily_aggregates_versions",
        "usage_daily_aggregates",
        [
            "organization_id",
            "subscription_id",
            "day_start",
            "charge_id",
            "bucket",
            "updated_at",
            "events_count",
        ],
    )


def downgrade() -> None:
    op.drop_index("ix_usage_daily_aggregates_versions", table_name="usage_daily_aggregates")
