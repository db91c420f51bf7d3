"""Credit notes, their items and applied taxes, and their consumption by later invoices.

What a credit note issued is immutable in the database itself, on both stores: triggers reject
- UPDATE of a credit note other than `balance_amount_cents`, `credit_status`, `refund_status`,
  `updated_at`, `voided_at`; DELETE of a credit note;
- UPDATE or DELETE of its items and applied taxes;
- UPDATE or DELETE of a consumption (the consumption history is append-only).

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-26
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from releve.adapters.sql.types import ExactDecimal, UtcDateTime

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

# Frozen here (not imported from tables_credit_notes) so this revision never changes meaning.
_PROTECTED = (
    "id", "organization_id", "customer_id", "invoice_id", "sequential_id", "number", "reason",
    "description", "automatic_key", "currency", "sub_total_excluding_taxes_amount_cents",
    "taxes_amount_cents", "taxes_rate", "total_amount_cents", "credit_amount_cents",
    "refund_amount_cents", "offset_amount_cents", "coupons_adjustment_amount_cents",
    "issuing_date", "created_at",
)  # fmt: skip
_APPEND_ONLY = ("credit_note_items", "credit_note_applied_taxes", "credit_note_consumptions")
_IMMUTABLE = "issued credit note is immutable"


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


def _fk(table: str, column: str, target: str, ondelete: str | None = None) -> sa.ForeignKey:
    return sa.ForeignKey(f"{target}.id", ondelete=ondelete, name=f"fk_{table}_{column}_{target}")


def _cents(name: str) -> sa.Column[object]:
    return sa.Column(name, sa.BigInteger, nullable=False)


def _credit_note_fk(table: str) -> sa.Column[object]:
    return sa.Column(
        "credit_note_id",
        sa.Uuid,
        _fk(table, "credit_note_id", "credit_notes", "CASCADE"),
        nullable=False,
    )


def _tables() -> None:
    op.create_table(
        "credit_notes",
        sa.Column("id", sa.Uuid, nullable=False),
        _org_fk("credit_notes"),
        sa.Column(
            "customer_id", sa.Uuid, _fk("credit_notes", "customer_id", "customers"), nullable=False
        ),
        sa.Column(
            "invoice_id", sa.Uuid, _fk("credit_notes", "invoice_id", "invoices"), nullable=False
        ),
        sa.Column("sequential_id", sa.Integer, nullable=False),
        sa.Column("number", sa.String(96), nullable=False),
        sa.Column("reason", sa.String(32), nullable=False),
        sa.Column("description", sa.Text),
        sa.Column("automatic_key", sa.String(96)),
        sa.Column("credit_status", sa.String(16)),
        sa.Column("refund_status", sa.String(16)),
        sa.Column("currency", sa.String(3), nullable=False),
        _cents("sub_total_excluding_taxes_amount_cents"),
        _cents("taxes_amount_cents"),
        sa.Column("taxes_rate", ExactDecimal, nullable=False),
        _cents("total_amount_cents"),
        _cents("credit_amount_cents"),
        _cents("refund_amount_cents"),
        _cents("offset_amount_cents"),
        _cents("coupons_adjustment_amount_cents"),
        _cents("balance_amount_cents"),
        sa.Column("issuing_date", sa.Date, nullable=False),
        sa.Column("created_at", UtcDateTime, nullable=False),
        sa.Column("updated_at", UtcDateTime, nullable=False),
        sa.Column("voided_at", UtcDateTime),
        sa.PrimaryKeyConstraint("id", name="pk_credit_notes"),
        sa.UniqueConstraint(
            "organization_id", "number", name="uq_credit_notes_organization_id_number"
        ),
        sa.UniqueConstraint(
            "invoice_id", "sequential_id", name="uq_credit_notes_invoice_id_sequential_id"
        ),
        sa.UniqueConstraint(
            "organization_id",
            "automatic_key",
            name="uq_credit_notes_organization_id_automatic_key",
        ),
        sa.CheckConstraint(
            "balance_amount_cents >= 0 AND balance_amount_cents <= credit_amount_cents",
            name="ck_credit_notes_balance_range",
        ),
    )
    op.create_index(
        "ix_credit_notes_customer", "credit_notes", ["organization_id", "customer_id", "created_at"]
    )
    op.create_table(
        "credit_note_items",
        sa.Column("id", sa.Uuid, nullable=False),
        _org_fk("credit_note_items"),
        _credit_note_fk("credit_note_items"),
        sa.Column("fee_id", sa.Uuid, _fk("credit_note_items", "fee_id", "fees"), nullable=False),
        sa.Column("position", sa.Integer, nullable=False),
        _cents("amount_cents"),
        sa.Column("created_at", UtcDateTime, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_credit_note_items"),
    )
    op.create_index(
        "ix_credit_note_items_credit_note_id", "credit_note_items", ["credit_note_id", "position"]
    )
    op.create_index("ix_credit_note_items_fee_id", "credit_note_items", ["fee_id"])
    op.create_table(
        "credit_note_applied_taxes",
        sa.Column("id", sa.Uuid, nullable=False),
        _org_fk("credit_note_applied_taxes"),
        _credit_note_fk("credit_note_applied_taxes"),
        sa.Column("tax_id", sa.Uuid),
        sa.Column("position", sa.Integer, nullable=False),
        sa.Column("tax_code", sa.String(255), nullable=False),
        sa.Column("tax_name", sa.String(255), nullable=False),
        sa.Column("tax_rate", ExactDecimal, nullable=False),
        _cents("amount_cents"),
        _cents("base_amount_cents"),
        sa.Column("created_at", UtcDateTime, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_credit_note_applied_taxes"),
    )
    op.create_index(
        "ix_credit_note_applied_taxes_credit_note_id",
        "credit_note_applied_taxes",
        ["credit_note_id", "position"],
    )
    op.create_table(
        "credit_note_consumptions",
        sa.Column("id", sa.Uuid, nullable=False),
        _org_fk("credit_note_consumptions"),
        _credit_note_fk("credit_note_consumptions"),
        sa.Column(
            "invoice_id",
            sa.Uuid,
            _fk("credit_note_consumptions", "invoice_id", "invoices"),
            nullable=False,
        ),
        _cents("amount_cents"),
        sa.Column("created_at", UtcDateTime, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_credit_note_consumptions"),
        sa.UniqueConstraint(
            "credit_note_id",
            "invoice_id",
            name="uq_credit_note_consumptions_credit_note_id_invoice_id",
        ),
    )
    op.create_index(
        "ix_credit_note_consumptions_invoice_id", "credit_note_consumptions", ["invoice_id"]
    )


def _sqlite_triggers() -> list[str]:
    changed = " OR ".join(f'NEW."{c}" IS NOT OLD."{c}"' for c in _PROTECTED)
    abort = f"BEGIN SELECT RAISE(ABORT, '{_IMMUTABLE}'); END"
    statements = [
        f"""CREATE TRIGGER trg_credit_notes_immutable_update BEFORE UPDATE ON credit_notes
        FOR EACH ROW WHEN {changed} {abort}""",
        f"""CREATE TRIGGER trg_credit_notes_immutable_delete BEFORE DELETE ON credit_notes
        FOR EACH ROW {abort}""",
    ]
    for table in _APPEND_ONLY:
        statements += [
            f"""CREATE TRIGGER trg_{table}_immutable_update BEFORE UPDATE ON {table}
            FOR EACH ROW {abort}""",
            f"""CREATE TRIGGER trg_{table}_immutable_delete BEFORE DELETE ON {table}
            FOR EACH ROW {abort}""",
        ]
    return statements


def _postgresql_triggers() -> list[str]:
    new = "ROW(" + ", ".join(f'NEW."{c}"' for c in _PROTECTED) + ")"
    old = "ROW(" + ", ".join(f'OLD."{c}"' for c in _PROTECTED) + ")"
    note_fn = f"""
    CREATE FUNCTION releve_credit_notes_immutable() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      IF TG_OP = 'UPDATE' AND {new} IS NOT DISTINCT FROM {old} THEN
        RETURN NEW;
      END IF;
      RAISE EXCEPTION '{_IMMUTABLE}: % of credit note %', TG_OP, OLD.id;
    END $$"""
    lines_fn = f"""
    CREATE FUNCTION releve_credit_note_lines_immutable() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      RAISE EXCEPTION '{_IMMUTABLE}: % on %', TG_OP, TG_TABLE_NAME;
    END $$"""
    statements = [
        note_fn,
        """CREATE TRIGGER trg_credit_notes_immutable BEFORE UPDATE OR DELETE ON credit_notes
        FOR EACH ROW EXECUTE FUNCTION releve_credit_notes_immutable()""",
        lines_fn,
    ]
    for table in _APPEND_ONLY:
        statements.append(
            f"""CREATE TRIGGER trg_{table}_immutable BEFORE UPDATE OR DELETE ON {table}
            FOR EACH ROW EXECUTE FUNCTION releve_credit_note_lines_immutable()"""
        )
    return statements


def upgrade() -> None:
    _tables()
    dialect = op.get_bind().dialect.name
    statements = _postgresql_triggers() if dialect == "postgresql" else _sqlite_triggers()
    for statement in statements:
        op.execute(statement)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for table in ("credit_notes", *_APPEND_ONLY):
            op.execute(f"DROP TRIGGER IF EXISTS trg_{table}_immutable ON {table}")
        op.execute("DROP FUNCTION IF EXISTS releve_credit_notes_immutable()")
        op.execute("DROP FUNCTION IF EXISTS releve_credit_note_lines_immutable()")
    for table in (*reversed(_APPEND_ONLY), "credit_notes"):
        op.drop_table(table)  # SQLite drops a table's triggers with it
