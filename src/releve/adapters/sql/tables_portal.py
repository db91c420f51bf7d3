"""What customers set in the portal: budgets and their alert crossings.

Same `MetaData` as `tables.py`; a migration (0008) creates exactly these tables (the schema
test compares, through `schema.metadata`).

- `budgets`: at most one per customer; `amount_cents` per billing period, in `currency`.
- `budget_alerts`: one row per threshold crossed in one period — the unique key is what makes
  an alert fire once, even when two checks race (the loser's insert fails and is retried).
"""

from __future__ import annotations

import sqlalchemy as sa

from releve.adapters.sql.tables import _org_fk, metadata
from releve.adapters.sql.types import UtcDateTime

__all__ = ["budget_alerts", "budgets", "metadata"]

budgets = sa.Table(
    "budgets",
    metadata,
    sa.Column("id", sa.Uuid, primary_key=True),
    _org_fk(),
    sa.Column(
        "customer_id", sa.Uuid, sa.ForeignKey("customers.id", ondelete="CASCADE"), nullable=False
    ),
    sa.Column("amount_cents", sa.BigInteger, nullable=False),
    sa.Column("currency", sa.String(3), nullable=False),
    sa.Column("created_at", UtcDateTime, nullable=False),
    sa.Column("updated_at", UtcDateTime, nullable=False),
    sa.UniqueConstraint("organization_id", "customer_id"),
)

budget_alerts = sa.Table(
    "budget_alerts",
    metadata,
    sa.Column("id", sa.Uuid, primary_key=True),
    _org_fk(),
    sa.Column(
        "budget_id", sa.Uuid, sa.ForeignKey("budgets.id", ondelete="CASCADE"), nullable=False
    ),
    sa.Column("period_start", UtcDateTime, nullable=False),
    sa.Column("period_end", UtcDateTime, nullable=False),
    sa.Column("threshold", sa.Integer, nullable=False),
    sa.Column("spend_cents", sa.BigInteger, nullable=False),
    sa.Column("budget_cents", sa.BigInteger, nullable=False),
    sa.Column("currency", sa.String(3), nullable=False),
    sa.Column("created_at", UtcDateTime, nullable=False),
    sa.UniqueConstraint("budget_id", "period_start", "threshold"),
)
