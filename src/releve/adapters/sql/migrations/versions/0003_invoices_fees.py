"""Invoices, fees, applied taxes, invoice ↔ subscription periods, invoice numbers; immutability.

Finalized invoices are immutable in the database itself, on both stores: triggers reject
- UPDATE of a non-draft invoice other than `payment_status`, `metadata`, `updated_at`,
  `voided_at` and the `finalized → voided` status change; DELETE of a non-draft invoice;
- INSERT, DELETE, or UPDATE (other than `payment_status`) of the fees of a non-draft invoice;
- INSERT, UPDATE or DELETE of the applied taxes of a non-draft invoice.
A draft is built (invoice, fees, taxes) and then flipped to `finalized` in one transaction.
Note for later migrations: a SQLite batch table rebuild drops triggers; recreate them.

Revision ID: 0003
Revises: 0002
Create Date: 2025-01-03
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from releve.adapters.sql.types import ExactDecimal, ExactJSON, UtcDateTime

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

# Frozen here (not imported from tables_billing) so this revision never changes meaning.
_INVOICE_PROTECTED = (
    "id", "organization_id", "customer_id", "sequential_id", "number", "invoice_type",
    "currency", "issuing_date", "payment_due_date", "net_payment_term", "fees_amount_cents",
    "coupons_amount_cents", "progressive_billing_credit_amount_cents",
    "sub_total_excluding_taxes_amount_cents", "taxes_amount_cents",
    "sub_total_including_taxes_amount_cents", "credit_notes_amount_cents",
    "prepaid_credit_amount_cents", "prepaid_granted_credit_amount_cents",
    "prepaid_purchased_credit_amount_cents", "total_amount_cents", "taxes_rate",
    "version_number", "created_at", "finalized_at",
)  # fmt: skip
_FEE_PROTECTED = (
    "id", "organization_id", "invoice_id", "subscription_id", "charge_id", "charge_filter_id",
    "true_up_parent_fee_id", "position", "fee_type", "item_type", "item_code", "item_name",
    "item_id", "invoice_display_name", "filter_invoice_display_name", "amount_cents",
    "amount_currency", "precise_amount", "progressive_billing_credit_amount_cents",
    "coupons_amount_cents", "sub_total_excluding_taxes_amount_cents", "taxes_amount_cents",
    "taxes_precise_amount", "taxes_rate", "total_amount_cents", "units",
    "total_aggregated_units", "events_count", "precise_unit_amount", "from_datetime",
    "to_datetime", "amount_details", "explanation", "grouped_by", "filter_values",
    "applied_taxes", "pay_in_advance", "created_at",
)  # fmt: skip
_IMMUTABLE = "finalized invoice is immutable"


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


def _tables() -> None:
    op.create_table(
        "invoices",
        sa.Column("id", sa.Uuid, nullable=False),
        _org_fk("invoices"),
        sa.Column(
            "customer_id", sa.Uuid, _fk("invoices", "customer_id", "customers"), nullable=False
        ),
        sa.Column("sequential_id", sa.Integer),
        sa.Column("number", sa.String(64)),
        sa.Column("invoice_type", sa.String(32), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("payment_status", sa.String(16), nullable=False),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("issuing_date", sa.Date, nullable=False),
        sa.Column("payment_due_date", sa.Date, nullable=False),
        sa.Column("net_payment_term", sa.Integer, nullable=False),
        _cents("fees_amount_cents"),
        _cents("coupons_amount_cents"),
        _cents("progressive_billing_credit_amount_cents"),
        _cents("sub_total_excluding_taxes_amount_cents"),
        _cents("taxes_amount_cents"),
        _cents("sub_total_including_taxes_amount_cents"),
        _cents("credit_notes_amount_cents"),
        _cents("prepaid_credit_amount_cents"),
        _cents("prepaid_granted_credit_amount_cents"),
        _cents("prepaid_purchased_credit_amount_cents"),
        _cents("total_amount_cents"),
        sa.Column("taxes_rate", ExactDecimal, nullable=False),
        sa.Column("version_number", sa.Integer, nullable=False),
        sa.Column("metadata", ExactJSON, nullable=False),
        sa.Column("created_at", UtcDateTime, nullable=False),
        sa.Column("updated_at", UtcDateTime, nullable=False),
        sa.Column("finalized_at", UtcDateTime),
        sa.Column("voided_at", UtcDateTime),
        sa.PrimaryKeyConstraint("id", name="pk_invoices"),
        sa.UniqueConstraint("organization_id", "number", name="uq_invoices_organization_id_number"),
        sa.UniqueConstraint(
            "organization_id", "sequential_id", name="uq_invoices_organization_id_sequential_id"
        ),
    )
    op.create_index(
        "ix_invoices_customer", "invoices", ["organization_id", "customer_id", "issuing_date"]
    )
    op.create_index("ix_invoices_issuing_date", "invoices", ["organization_id", "issuing_date"])
    op.create_table(
        "invoice_number_sequences",
        sa.Column(
            "organization_id",
            sa.Uuid,
            _fk("invoice_number_sequences", "organization_id", "organizations", "CASCADE"),
            nullable=False,
        ),
        sa.Column("last_sequential_id", sa.Integer, nullable=False),
        sa.PrimaryKeyConstraint("organization_id", name="pk_invoice_number_sequences"),
    )
    op.create_table(
        "invoice_subscriptions",
        sa.Column(
            "invoice_id",
            sa.Uuid,
            _fk("invoice_subscriptions", "invoice_id", "invoices", "CASCADE"),
            nullable=False,
        ),
        sa.Column(
            "subscription_id",
            sa.Uuid,
            _fk("invoice_subscriptions", "subscription_id", "subscriptions"),
            nullable=False,
        ),
        _org_fk("invoice_subscriptions"),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("invoicing_reason", sa.String(32), nullable=False),
        sa.Column("period_start", UtcDateTime, nullable=False),
        sa.Column("boundary", UtcDateTime, nullable=False),
        sa.Column("from_datetime", UtcDateTime),
        sa.Column("to_datetime", UtcDateTime),
        sa.Column("charges_from_datetime", UtcDateTime),
        sa.Column("charges_to_datetime", UtcDateTime),
        sa.Column("created_at", UtcDateTime, nullable=False),
        sa.PrimaryKeyConstraint("invoice_id", "subscription_id", name="pk_invoice_subscriptions"),
        sa.UniqueConstraint(
            "subscription_id",
            "kind",
            "period_start",
            name="uq_invoice_subscriptions_subscription_id_kind_period_start",
        ),
    )
    op.create_table(
        "fees",
        sa.Column("id", sa.Uuid, nullable=False),
        _org_fk("fees"),
        sa.Column(
            "invoice_id",
            sa.Uuid,
            _fk("fees", "invoice_id", "invoices", "CASCADE"),
            nullable=False,
        ),
        sa.Column("subscription_id", sa.Uuid, _fk("fees", "subscription_id", "subscriptions")),
        sa.Column("charge_id", sa.Uuid),
        sa.Column("charge_filter_id", sa.Uuid),
        sa.Column("true_up_parent_fee_id", sa.Uuid, _fk("fees", "true_up_parent_fee_id", "fees")),
        sa.Column("position", sa.Integer, nullable=False),
        sa.Column("fee_type", sa.String(16), nullable=False),
        sa.Column("item_type", sa.String(32), nullable=False),
        sa.Column("item_code", sa.String(255), nullable=False),
        sa.Column("item_name", sa.String(255), nullable=False),
        sa.Column("item_id", sa.String(64)),
        sa.Column("invoice_display_name", sa.String(255)),
        sa.Column("filter_invoice_display_name", sa.String(255)),
        _cents("amount_cents"),
        sa.Column("amount_currency", sa.String(3), nullable=False),
        sa.Column("precise_amount", ExactDecimal, nullable=False),
        _cents("progressive_billing_credit_amount_cents"),
        _cents("coupons_amount_cents"),
        _cents("sub_total_excluding_taxes_amount_cents"),
        _cents("taxes_amount_cents"),
        sa.Column("taxes_precise_amount", ExactDecimal, nullable=False),
        sa.Column("taxes_rate", ExactDecimal, nullable=False),
        _cents("total_amount_cents"),
        sa.Column("units", ExactDecimal, nullable=False),
        sa.Column("total_aggregated_units", ExactDecimal, nullable=False),
        sa.Column("events_count", sa.Integer, nullable=False),
        sa.Column("precise_unit_amount", ExactDecimal),
        sa.Column("from_datetime", UtcDateTime, nullable=False),
        sa.Column("to_datetime", UtcDateTime, nullable=False),
        sa.Column("amount_details", ExactJSON, nullable=False),
        sa.Column("explanation", sa.Text, nullable=False),
        sa.Column("grouped_by", ExactJSON, nullable=False),
        sa.Column("filter_values", ExactJSON),
        sa.Column("applied_taxes", ExactJSON, nullable=False),
        sa.Column("pay_in_advance", sa.Boolean, nullable=False),
        sa.Column("payment_status", sa.String(16), nullable=False),
        sa.Column("created_at", UtcDateTime, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_fees"),
    )
    op.create_index("ix_fees_invoice_id", "fees", ["invoice_id", "position"])
    op.create_index(
        "ix_fees_organization_type", "fees", ["organization_id", "fee_type", "created_at"]
    )
    op.create_index("ix_fees_subscription_id", "fees", ["subscription_id"])
    op.create_table(
        "applied_taxes",
        sa.Column("id", sa.Uuid, nullable=False),
        _org_fk("applied_taxes"),
        sa.Column(
            "invoice_id",
            sa.Uuid,
            _fk("applied_taxes", "invoice_id", "invoices", "CASCADE"),
            nullable=False,
        ),
        sa.Column("tax_id", sa.Uuid),
        sa.Column("position", sa.Integer, nullable=False),
        sa.Column("tax_code", sa.String(255), nullable=False),
        sa.Column("tax_name", sa.String(255), nullable=False),
        sa.Column("tax_rate", ExactDecimal, nullable=False),
        _cents("amount_cents"),
        _cents("base_amount_cents"),
        sa.Column("created_at", UtcDateTime, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_applied_taxes"),
    )
    op.create_index("ix_applied_taxes_invoice_id", "applied_taxes", ["invoice_id", "position"])


def _changed_sqlite(columns: tuple[str, ...]) -> str:
    return " OR ".join(f'NEW."{c}" IS NOT OLD."{c}"' for c in columns)


def _row(prefix: str, columns: tuple[str, ...]) -> str:
    return "ROW(" + ", ".join(f'{prefix}."{c}"' for c in columns) + ")"


def _sqlite_triggers() -> list[str]:
    status_change = (
        "(NEW.status IS NOT OLD.status"
        " AND NOT (OLD.status = 'finalized' AND NEW.status = 'voided'))"
    )
    abort = f"BEGIN SELECT RAISE(ABORT, '{_IMMUTABLE}'); END"
    invoice_of = "(SELECT status FROM invoices WHERE id = {row}.invoice_id)"
    statements = [
        f"""CREATE TRIGGER trg_invoices_immutable_update BEFORE UPDATE ON invoices FOR EACH ROW
        WHEN OLD.status <> 'draft' AND ({_changed_sqlite(_INVOICE_PROTECTED)} OR {status_change})
        {abort}""",
        f"""CREATE TRIGGER trg_invoices_immutable_delete BEFORE DELETE ON invoices FOR EACH ROW
        WHEN OLD.status <> 'draft' {abort}""",
    ]
    for table, protected in (("fees", _FEE_PROTECTED), ("applied_taxes", None)):
        changed = "1" if protected is None else _changed_sqlite(protected)
        new, old = invoice_of.format(row="NEW"), invoice_of.format(row="OLD")
        statements += [
            f"""CREATE TRIGGER trg_{table}_immutable_insert BEFORE INSERT ON {table}
            FOR EACH ROW WHEN {new} <> 'draft' {abort}""",
            f"""CREATE TRIGGER trg_{table}_immutable_update BEFORE UPDATE ON {table}
            FOR EACH ROW WHEN {old} <> 'draft' AND ({changed}) {abort}""",
            f"""CREATE TRIGGER trg_{table}_immutable_delete BEFORE DELETE ON {table}
            FOR EACH ROW WHEN {old} <> 'draft' {abort}""",
        ]
    return statements


def _postgresql_triggers() -> list[str]:
    same_invoice = f"{_row('NEW', _INVOICE_PROTECTED)} IS NOT DISTINCT FROM " + _row(
        "OLD", _INVOICE_PROTECTED
    )
    invoice_fn = f"""
    CREATE FUNCTION releve_invoices_immutable() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      IF OLD.status = 'draft' THEN
        IF TG_OP = 'DELETE' THEN RETURN OLD; END IF;
        RETURN NEW;
      END IF;
      IF TG_OP = 'UPDATE'
         AND {same_invoice}
         AND (NEW.status = OLD.status OR (OLD.status = 'finalized' AND NEW.status = 'voided'))
      THEN
        RETURN NEW;
      END IF;
      RAISE EXCEPTION '{_IMMUTABLE}: % % of invoice %', TG_OP, OLD.status, OLD.id;
    END $$"""
    fee_fn = f"""
    CREATE FUNCTION releve_invoice_lines_immutable() RETURNS trigger LANGUAGE plpgsql AS $$
    DECLARE
      invoice_status text;
    BEGIN
      IF TG_OP = 'INSERT' THEN
        SELECT status INTO invoice_status FROM invoices WHERE id = NEW.invoice_id;
      ELSE
        SELECT status INTO invoice_status FROM invoices WHERE id = OLD.invoice_id;
      END IF;
      IF invoice_status IS NULL OR invoice_status = 'draft' THEN
        IF TG_OP = 'DELETE' THEN RETURN OLD; END IF;
        RETURN NEW;
      END IF;
      IF TG_OP = 'UPDATE' AND TG_TABLE_NAME = 'fees'
         AND {_row("NEW", _FEE_PROTECTED)} IS NOT DISTINCT FROM {_row("OLD", _FEE_PROTECTED)}
      THEN
        RETURN NEW;
      END IF;
      RAISE EXCEPTION '{_IMMUTABLE}: % on % of a % invoice', TG_OP, TG_TABLE_NAME, invoice_status;
    END $$"""
    return [
        invoice_fn,
        """CREATE TRIGGER trg_invoices_immutable BEFORE UPDATE OR DELETE ON invoices
        FOR EACH ROW EXECUTE FUNCTION releve_invoices_immutable()""",
        fee_fn,
        """CREATE TRIGGER trg_fees_immutable BEFORE INSERT OR UPDATE OR DELETE ON fees
        FOR EACH ROW EXECUTE FUNCTION releve_invoice_lines_immutable()""",
        """CREATE TRIGGER trg_applied_taxes_immutable BEFORE INSERT OR UPDATE OR DELETE
        ON applied_taxes FOR EACH ROW EXECUTE FUNCTION releve_invoice_lines_immutable()""",
    ]


def upgrade() -> None:
    _tables()
    dialect = op.get_bind().dialect.name
    statements = _postgresql_triggers() if dialect == "postgresql" else _sqlite_triggers()
    for statement in statements:
        op.execute(statement)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for table in ("invoices", "fees", "applied_taxes"):
            op.execute(f"DROP TRIGGER IF EXISTS trg_{table}_immutable ON {table}")
        op.execute("DROP FUNCTION IF EXISTS releve_invoices_immutable()")
        op.execute("DROP FUNCTION IF EXISTS releve_invoice_lines_immutable()")
    for table in (
        "applied_taxes",
        "fees",
        "invoice_subscriptions",
        "invoice_number_sequences",
        "invoices",
    ):
        op.drop_table(table)  # SQLite drops a table's triggers with it
