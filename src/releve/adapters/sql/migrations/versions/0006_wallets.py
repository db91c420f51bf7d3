"""Wallets and wallet transactions (an append-only ledger).

The ledger is protected in the database itself, on both stores: triggers reject
- DELETE of a wallet transaction;
- UPDATE of a wallet transaction other than the payment transition of a `pending` row
  (`status`, `settled_at`, `failed_at`); a settled or failed row never changes again.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-26
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from releve.adapters.sql.types import ExactDecimal, UtcDateTime

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

# Frozen here (not imported from tables_wallets) so this revision never changes meaning.
_PROTECTED = (
    "id", "organization_id", "wallet_id", "transaction_type", "transaction_status", "source",
    "amount_cents", "granted_amount_cents", "credit_amount", "invoice_id",
    "invoice_requires_successful_payment", "name", "created_at",
)  # fmt: skip
_IMMUTABLE = "wallet transaction ledger is append-only"


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


def _tables() -> None:
    op.create_table(
        "wallets",
        sa.Column("id", sa.Uuid, nullable=False),
        _org_fk("wallets"),
        sa.Column(
            "customer_id", sa.Uuid, _fk("wallets", "customer_id", "customers"), nullable=False
        ),
        sa.Column("name", sa.String(255)),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("rate_amount", ExactDecimal, nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("priority", sa.Integer, nullable=False),
        sa.Column("expiration_at", UtcDateTime),
        sa.Column("invoice_requires_successful_payment", sa.Boolean, nullable=False),
        sa.Column("created_at", UtcDateTime, nullable=False),
        sa.Column("updated_at", UtcDateTime, nullable=False),
        sa.Column("terminated_at", UtcDateTime),
        sa.PrimaryKeyConstraint("id", name="pk_wallets"),
        sa.CheckConstraint("priority BETWEEN 1 AND 50", name="ck_wallets_priority_range"),
    )
    op.create_index("ix_wallets_customer", "wallets", ["organization_id", "customer_id", "status"])
    op.create_index("ix_wallets_status_expiration", "wallets", ["status", "expiration_at"])
    op.create_table(
        "wallet_transactions",
        sa.Column("id", sa.Uuid, nullable=False),
        _org_fk("wallet_transactions"),
        sa.Column(
            "wallet_id",
            sa.Uuid,
            _fk("wallet_transactions", "wallet_id", "wallets", "CASCADE"),
            nullable=False,
        ),
        sa.Column("transaction_type", sa.String(16), nullable=False),
        sa.Column("transaction_status", sa.String(16), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("source", sa.String(16), nullable=False),
        sa.Column("amount_cents", sa.BigInteger, nullable=False),
        sa.Column("granted_amount_cents", sa.BigInteger, nullable=False),
        sa.Column("credit_amount", ExactDecimal, nullable=False),
        sa.Column("invoice_id", sa.Uuid, _fk("wallet_transactions", "invoice_id", "invoices")),
        sa.Column("invoice_requires_successful_payment", sa.Boolean, nullable=False),
        sa.Column("name", sa.String(255)),
        sa.Column("created_at", UtcDateTime, nullable=False),
        sa.Column("settled_at", UtcDateTime),
        sa.Column("failed_at", UtcDateTime),
        sa.PrimaryKeyConstraint("id", name="pk_wallet_transactions"),
        sa.CheckConstraint(
            "amount_cents >= 0 AND granted_amount_cents >= 0 "
            "AND granted_amount_cents <= amount_cents",
            name="ck_wallet_transactions_amounts_range",
        ),
    )
    op.create_index(
        "ix_wallet_transactions_wallet", "wallet_transactions", ["wallet_id", "created_at"]
    )
    op.create_index("ix_wallet_transactions_invoice_id", "wallet_transactions", ["invoice_id"])
    op.create_index(
        "uq_wallet_transactions_consumption",
        "wallet_transactions",
        ["wallet_id", "invoice_id"],
        unique=True,
        sqlite_where=sa.text("transaction_status = 'invoiced'"),
        postgresql_where=sa.text("transaction_status = 'invoiced'"),
    )
    op.create_index(
        "uq_wallet_transactions_expiration",
        "wallet_transactions",
        ["wallet_id"],
        unique=True,
        sqlite_where=sa.text("source = 'expiration'"),
        postgresql_where=sa.text("source = 'expiration'"),
    )


def _sqlite_triggers() -> list[str]:
    changed = " OR ".join(f'NEW."{c}" IS NOT OLD."{c}"' for c in _PROTECTED)
    abort = f"BEGIN SELECT RAISE(ABORT, '{_IMMUTABLE}'); END"
    return [
        f"""CREATE TRIGGER trg_wallet_transactions_immutable_update
        BEFORE UPDATE ON wallet_transactions
        FOR EACH ROW WHEN OLD.status <> 'pending' OR {changed} {abort}""",
        f"""CREATE TRIGGER trg_wallet_transactions_immutable_delete
        BEFORE DELETE ON wallet_transactions FOR EACH ROW {abort}""",
    ]


def _postgresql_triggers() -> list[str]:
    new = "ROW(" + ", ".join(f'NEW."{c}"' for c in _PROTECTED) + ")"
    old = "ROW(" + ", ".join(f'OLD."{c}"' for c in _PROTECTED) + ")"
    return [
        f"""
    CREATE FUNCTION releve_wallet_transactions_immutable() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      IF TG_OP = 'UPDATE' AND OLD.status = 'pending' AND {new} IS NOT DISTINCT FROM {old} THEN
        RETURN NEW;
      END IF;
      RAISE EXCEPTION '{_IMMUTABLE}: % of wallet transaction %', TG_OP, OLD.id;
    END $$""",
        """CREATE TRIGGER trg_wallet_transactions_immutable
        BEFORE UPDATE OR DELETE ON wallet_transactions
        FOR EACH ROW EXECUTE FUNCTION releve_wallet_transactions_immutable()""",
    ]


def upgrade() -> None:
    _tables()
    dialect = op.get_bind().dialect.name
    statements = _postgresql_triggers() if dialect == "postgresql" else _sqlite_triggers()
    for statement in statements:
        op.execute(statement)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            "DROP TRIGGER IF EXISTS trg_wallet_transactions_immutable ON wallet_transactions"
        )
        op.execute("DROP FUNCTION IF EXISTS releve_wallet_transactions_immutable()")
    op.drop_table("wallet_transactions")  # SQLite drops a table's triggers with it
    op.drop_table("wallets")
