"""Late-event adjustments: finalized periods that received events after their invoice.

Same `MetaData` as `tables.py`; migration 0011 creates exactly these tables (the schema test
compares, through `schema.metadata`).

`late_adjustment_credits` is the ledger of the *negative* adjustments (`domain.billing.
adjustments`): each row is one bucket of one finalized charge period given back by an automatic
credit note on the original invoice. Positive adjustments need no row here: their `adjustment`
fee (immutable once finalized) is the record. UNIQUE (subscription_id, period_start, bucket,
sequence): `sequence` is the number of the bucket's earlier credits + 1, so two runs that
credit the same difference concurrently collide and one rolls back.
"""

from __future__ import annotations

import sqlalchemy as sa

from releve.adapters.sql.columns import cents, created_at, id_pk, org_fk
from releve.adapters.sql.tables import metadata
from releve.adapters.sql.types import ExactDecimal, UtcDateTime

__all__ = ["late_adjustment_credits", "metadata"]

late_adjustment_credits = sa.Table(
    "late_adjustment_credits",
    metadata,
    id_pk(),
    org_fk(),
    sa.Column("subscription_id", sa.Uuid, sa.ForeignKey("subscriptions.id"), nullable=False),
    # The finalized invoice that billed the period, and the period (its charges_from/to).
    sa.Column("original_invoice_id", sa.Uuid, sa.ForeignKey("invoices.id"), nullable=False),
    sa.Column("period_start", UtcDateTime, nullable=False),
    sa.Column("period_end", UtcDateTime, nullable=False),
    # History, like fees.charge_id: no foreign key (charges are rewritten when a plan changes).
    sa.Column("charge_id", sa.Uuid, nullable=False),
    sa.Column("bucket", sa.String(512), nullable=False),  # AdjustmentKey.text()
    sa.Column("sequence", sa.Integer, nullable=False),
    cents("amount_cents"),  # signed: < 0
    cents("invoiced_amount_cents"),
    cents("current_amount_cents"),
    sa.Column("units", ExactDecimal, nullable=False),
    sa.Column("credit_note_id", sa.Uuid, sa.ForeignKey("credit_notes.id")),
    sa.Column("explanation", sa.Text, nullable=False),
    created_at(),
    sa.UniqueConstraint(
        "subscription_id",
        "period_start",
        "bucket",
        "sequence",
        name="uq_late_adjustment_credits_seq",
    ),
    sa.Index("ix_late_adjustment_credits_original", "original_invoice_id"),
)
