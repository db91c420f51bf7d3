"""Dashboard user accounts: people who sign in with an email and a password.

Same `MetaData` as `tables.py`; migration 0009 creates exactly these tables (the schema test
compares, through `schema.metadata`). Emails are stored lower-cased and are unique across
organizations: the sign-in form has no organization field, so an email names one account.
The password is never stored: only its scrypt hash, with the salt and the cost parameters used,
so the cost can be raised later without invalidating existing accounts.
"""

from __future__ import annotations

import sqlalchemy as sa

from releve.adapters.sql.columns import created_at, id_pk, org_fk
from releve.adapters.sql.tables import metadata
from releve.adapters.sql.types import UtcDateTime

dashboard_users = sa.Table(
    "dashboard_users",
    metadata,
    id_pk(),
    org_fk(),
    sa.Column("email", sa.String(320), nullable=False, unique=True),
    sa.Column("password_hash", sa.String(128), nullable=False),  # hex of the scrypt output
    sa.Column("password_salt", sa.String(64), nullable=False),  # hex, random per user
    sa.Column("scrypt_n", sa.Integer, nullable=False),
    sa.Column("scrypt_r", sa.Integer, nullable=False),
    sa.Column("scrypt_p", sa.Integer, nullable=False),
    created_at(),
    sa.Column("last_sign_in_at", UtcDateTime, nullable=True),
    sa.Index("ix_dashboard_users_organization_id", "organization_id"),
)

__all__ = ["dashboard_users", "metadata"]
