"""Credit notes, their items, applied taxes and what later invoices consumed of them.

Same `MetaData` as `tables.py`; migration 0007 creates exactly these tables (the schema test
compares, through `schema.metadata`).

Invariants the schema itself enforces (migration 0007 adds triggers on both stores):
- what a credit note issued is immutable: only `balance_amount_cents`, `credit_status`,
  `refund_status`, `updated_at` and `voided_at` may change; a credit note is never deleted;
  its items and applied taxes are never changed or deleted;
- 0 ≤ balance ≤ credit amount (CHECK);
- `credit_note_consumptions` is append-only and UNIQUE on (credit_note_id, invoice_id): an
  invoice consumes a credit note at most once, whatever retries;
- `number` is UNIQUE per organization and `sequential_id` per invoice; `automatic_key`
  (e.g. ``termination:<subscription id>``) is UNIQUE per organization, so an automatic credit
  note is issued once.
"""

from __future__ import annotations

import sqlalchemy as sa

from releve.adapters.sql.columns import cents, created_at, id_pk, org_fk, updated_at
from releve.adapters.sql.tables import metadata
from releve.adapters.sql.types import ExactDecimal, UtcDateTime

__all__ = [
    "credit_note_applied_taxes",
    "credit_note_consumptions",
    "credit_note_items",
    "credit_notes",
    "metadata",
]

# Columns a credit note may still change after it is issued.
CREDIT_NOTE_MUTABLE = (
    "balance_amount_cents",
    "credit_status",
    "refund_status",
    "updated_at",
    "voided_at",
)


def _credit_note_fk() -> sa.Column[object]:
    return sa.Column(
        "credit_note_id",
        sa.Uuid,
        sa.ForeignKey("credit_notes.id", ondelete="CASCADE"),
        nullable=False,
    )


credit_notes = sa.Table(
    "credit_notes",
    metadata,
    id_pk(),
    org_fk(),
    sa.Column("customer_id", sa.Uuid, sa.ForeignKey("customers.id"), nullable=False),
    sa.Column("invoice_id", sa.Uuid, sa.ForeignKey("invoices.id"), nullable=False),
    sa.Column("sequential_id", sa.Integer, nullable=False),  # 1, 2, … per invoice
    sa.Column("number", sa.String(96), nullable=False),  # <invoice number>-CN<n>
    sa.Column("reason", sa.String(32), nullable=False),
    sa.Column("description", sa.Text),
    sa.Column("automatic_key", sa.String(96)),  # set on termination / upgrade credit notes
    sa.Column("credit_status", sa.String(16)),  # available | consumed | voided (null: no credit)
    sa.Column("refund_status", sa.String(16)),  # pending | succeeded | failed (null: no refund)
    sa.Column("currency", sa.String(3), nullable=False),
    cents("sub_total_excluding_taxes_amount_cents"),
    cents("taxes_amount_cents"),
    sa.Column("taxes_rate", ExactDecimal, nullable=False),
    cents("total_amount_cents"),
    cents("credit_amount_cents"),
    cents("refund_amount_cents"),
    cents("offset_amount_cents"),
    cents("coupons_adjustment_amount_cents"),
    cents("balance_amount_cents"),
    sa.Column("issuing_date", sa.Date, nullable=False),
    created_at(),
    updated_at(),
    sa.Column("voided_at", UtcDateTime),
    sa.UniqueConstraint("organization_id", "number"),
    sa.UniqueConstraint("invoice_id", "sequential_id"),
    sa.UniqueConstraint("organization_id", "automatic_key"),
    sa.CheckConstraint(
        "balance_amount_cents >= 0 AND balance_amount_cents <= credit_amount_cents",
        name="balance_range",
    ),
    sa.Index("ix_credit_notes_customer", "organization_id", "customer_id", "created_at"),
)

credit_note_items = sa.Table(
    "credit_note_items",
    metadata,
    id_pk(),
    org_fk(),
    _credit_note_fk(),
    sa.Column("fee_id", sa.Uuid, sa.ForeignKey("fees.id"), nullable=False),
    sa.Column("position", sa.Integer, nullable=False),
    cents("amount_cents"),  # credited part of the fee amount, before coupons and taxes
    created_at(),
    sa.Index("ix_credit_note_items_credit_note_id", "credit_note_id", "position"),
    sa.Index("ix_credit_note_items_fee_id", "fee_id"),
)

credit_note_applied_taxes = sa.Table(
    "credit_note_applied_taxes",
    metadata,
    id_pk(),
    org_fk(),
    _credit_note_fk(),
    sa.Column("tax_id", sa.Uuid),
    sa.Column("position", sa.Integer, nullable=False),
    sa.Column("tax_code", sa.String(255), nullable=False),
    sa.Column("tax_name", sa.String(255), nullable=False),
    sa.Column("tax_rate", ExactDecimal, nullable=False),
    cents("amount_cents"),
    cents("base_amount_cents"),
    created_at(),
    sa.Index("ix_credit_note_applied_taxes_credit_note_id", "credit_note_id", "position"),
)

credit_note_consumptions = sa.Table(
    "credit_note_consumptions",
    metadata,
    id_pk(),
    org_fk(),
    _credit_note_fk(),
    sa.Column("invoice_id", sa.Uuid, sa.ForeignKey("invoices.id"), nullable=False),
    cents("amount_cents"),
    created_at(),
    sa.UniqueConstraint("credit_note_id", "invoice_id"),
    sa.Index("ix_credit_note_consumptions_invoice_id", "invoice_id"),
)
