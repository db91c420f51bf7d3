"""Dashboard user accounts (email + scrypt password hash), one table.

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-26
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from releve.adapters.sql.types import UtcDateTime

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "dashboard_users",
        sa.Column("id", sa.Uuid, nullable=False),
        sa.Column(
            "organization_id",
            sa.Uuid,
            sa.ForeignKey(
                "organizations.id",
                ondelete="CASCADE",
                name="fk_dashboard_users_organization_id_organizations",
            ),
            nullable=False,
        ),
        sa.Column("email", sa.String(320), nullable=False),
        sa.Column("password_hash", sa.String(128), nullable=False),
        sa.Column("password_salt", sa.String(64), nullable=False),
        sa.Column("scrypt_n", sa.Integer, nullable=False),
        sa.Column("scrypt_r", sa.Integer, nullable=False),
        sa.Column("scrypt_p", sa.Integer, nullable=False),
        sa.Column("created_at", UtcDateTime, nullable=False),
        sa.Column("last_sign_in_at", UtcDateTime, nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_dashboard_users"),
        sa.UniqueConstraint("email", name="uq_dashboard_users_email"),
    )
    op.create_index("ix_dashboard_users_organization_id", "dashboard_users", ["organization_id"])


def downgrade() -> None:
    op.drop_index("ix_dashboard_users_organization_id", table_name="dashboard_users")
    op.drop_table("dashboard_users")
