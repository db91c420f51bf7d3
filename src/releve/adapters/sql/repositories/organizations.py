"""Organizations and their API keys (hashes only)."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

import sqlalchemy as sa

from releve.adapters.sql.repositories.base import to_record, to_row
from releve.adapters.sql.tables import api_keys, organizations
from releve.services.records import ApiKey, Organization

# Built once: every API request runs it, and building the statement cost more than running it.
_FOR_KEY_HASH = (
    organizations.select()
    .join(api_keys, api_keys.c.organization_id == organizations.c.id)
    .where(api_keys.c.key_hash == sa.bindparam("key_hash"), api_keys.c.revoked_at.is_(None))
)


class SqlOrganizationRepository:
    def __init__(self, connection: sa.Connection) -> None:
        self._c = connection

    def add(self, organization: Organization) -> None:
        self._c.execute(organizations.insert().values(**to_row(organization)))

    def get(self, organization_id: UUID) -> Organization | None:
        row = self._c.execute(
            organizations.select().where(organizations.c.id == organization_id)
        ).first()
        return to_record(Organization, row) if row else None

    def get_default(self) -> Organization | None:
        row = self._c.execute(
            organizations.select()
            .where(organizations.c.is_default.is_(True))
            .order_by(organizations.c.created_at)
        ).first()
        return to_record(Organization, row) if row else None

    def ids(self) -> list[UUID]:
        return list(
            self._c.execute(
                sa.select(organizations.c.id).order_by(
                    organizations.c.created_at, organizations.c.id
                )
            ).scalars()
        )

    def count(self) -> int:
        return int(
            self._c.execute(sa.select(sa.func.count()).select_from(organizations)).scalar_one()
        )

    def add_api_key(self, api_key: ApiKey) -> None:
        self._c.execute(api_keys.insert().values(**to_row(api_key)))

    def for_key_hash(self, key_hash: str) -> Organization | None:
        row = self._c.execute(_FOR_KEY_HASH, {"key_hash": key_hash}).first()
        return to_record(Organization, row) if row else None

    def revoke_api_key(self, key_hash: str, at: datetime) -> bool:
        result = self._c.execute(
            api_keys.update()
            .where(api_keys.c.key_hash == key_hash, api_keys.c.revoked_at.is_(None))
            .values(revoked_at=at)
        )
        return result.rowcount > 0


class SqlApiKeyLookup:
    """`for_key_hash` on its own connection, without a unit of work: the per-request API-key
    check. Nothing is cached, so a revoked key fails on the very next request. One statement:
    PostgreSQL runs it in autocommit (no BEGIN/ROLLBACK round trips); SQLite reads DEFERRED."""

    def __init__(self, engine: sa.Engine) -> None:
        options: dict[str, Any] = {"read_only": True}
        if engine.dialect.name == "postgresql":
            options["isolation_level"] = "AUTOCOMMIT"
        self._engine = engine.execution_options(**options)

    def __call__(self, key_hash: str) -> Organization | None:
        with self._engine.connect() as connection:
            row = connection.execute(_FOR_KEY_HASH, {"key_hash": key_hash}).first()
        return to_record(Organization, row) if row else None
