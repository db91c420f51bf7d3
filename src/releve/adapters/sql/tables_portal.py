"""What customers set in the portal: budgets and their alert crossings.

Same `MetaData` as `tables.py`; a migration (0008) creates exactly these tables (the schema
test compares, through `schema.metadata`).

- `budgets`: at most one per customer; `amount_cents` per billing period, in `currency`.
- `budget_alerts`: one row per threshold crossed in one period — the unique key is what makes
  an alert fire once, even when two checks race (the loser's insert fails and is retried).
"""

from __future__ import annotations

import sqlalchemy as sa

from releve.adapters.sql.columns import cents, created_at, id_pk, org_fk, updated_at
from releve.adapters.sql.tables import metadata
from releve.adapters.sql.types import UtcDateTime

__all__ = ["budget_alerts", "budgets", "metadata"]

budgets = sa.Table(
    "budgets",
    metadata,
    id_pk(),
    org_fk(),
    sa.Column(
        "customer_id", sa.Uuid, sa.ForeignKey("customers.id", ondelete="CASCADE"), nullable=False
    ),
    cents("amount_cents"),
    sa.Column("currency", sa.String(3), nullable=False),
    created_at(),
    updated_at(),
    sa.UniqueConstraint("organization_id", "customer_id"),
)

budget_alerts = sa.Table(
    "budget_alerts",
    metadata,
    id_pk(),
    org_fk(),
    sa.Column(
        "budget_id", sa.Uuid, sa.ForeignKey("budgets.id", ondelete="CASCADE"), nullable=False
    ),
    sa.Column("period_start", UtcDateTime, nullable=False),
    sa.Column("period_end", UtcDateTime, nullable=False),
    sa.Column("threshold", sa.Integer, nullable=False),
    cents("spend_cents"),
    cents("budget_cents"),
    sa.Column("currency", sa.String(3), nullable=False),
    created_at(),
    sa.UniqueConstraint("budget_id", "period_start", "threshold"),
)
