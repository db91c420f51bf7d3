"""The columns every table module repeats: id, organization, timestamps, amounts in cents.

One definition each so that all tables agree (an organization's rows go when it is deleted;
amounts are whole minor units in a BIGINT). Each call returns a new `Column`, as a column
belongs to one table. Migrations never import this module: a revision is a frozen snapshot and
spells its columns out.
"""

from __future__ import annotations

import sqlalchemy as sa

from releve.adapters.sql.types import UtcDateTime


def id_pk() -> sa.Column[object]:
    """`id`: a UUID primary key."""
    return sa.Column("id", sa.Uuid, primary_key=True)


def org_fk() -> sa.Column[object]:
    """`organization_id`: the owning organization; its deletion deletes the row."""
    return sa.Column(
        "organization_id",
        sa.Uuid,
        sa.ForeignKey("organizations.id", ondelete="CASCADE"),
        nullable=False,
    )


def created_at() -> sa.Column[object]:
    return sa.Column("created_at", UtcDateTime, nullable=False)


def updated_at() -> sa.Column[object]:
    return sa.Column("updated_at", UtcDateTime, nullable=False)


def cents(name: str) -> sa.Column[object]:
    """An amount in the currency's minor unit (`amount_cents`): an integer, never a float."""
    return sa.Column(name, sa.BigInteger, nullable=False)
