"""Taxes, unique by code within an organization."""

from __future__ import annotations

from collections.abc import Sequence
from uuid import UUID

import sqlalchemy as sa

from releve.adapters.sql.repositories.base import count_and_page, to_record, to_row
from releve.adapters.sql.tables import taxes
from releve.services.pagination import PageRequest
from releve.services.records import Tax


class SqlTaxRepository:
    def __init__(self, connection: sa.Connection) -> None:
        self._c = connection

    def get(self, organization_id: UUID, code: str) -> Tax | None:
        row = self._c.execute(
            taxes.select().where(taxes.c.organization_id == organization_id, taxes.c.code == code)
        ).first()
        return to_record(Tax, row) if row else None

    def add(self, tax: Tax) -> None:
        self._c.execute(taxes.insert().values(**to_row(tax)))

    def update(self, tax: Tax) -> None:
        values = to_row(tax)
        del values["id"]
        self._c.execute(taxes.update().where(taxes.c.id == tax.id).values(**values))

    def delete(self, tax: Tax) -> None:
        self._c.execute(taxes.delete().where(taxes.c.id == tax.id))

    def list(self, organization_id: UUID, page: PageRequest) -> tuple[list[Tax], int]:
        query = (
            taxes.select()
            .where(taxes.c.organization_id == organization_id)
            .order_by(taxes.c.created_at.desc(), taxes.c.code)
        )
        rows, total = count_and_page(self._c, query, page.offset, page.per_page)
        return [to_record(Tax, r) for r in rows], total

    def applied_to_organization(self, organization_id: UUID) -> Sequence[Tax]:
        rows = self._c.execute(
            taxes.select()
            .where(taxes.c.organization_id == organization_id, taxes.c.applied_to_organization)
            .order_by(taxes.c.code)
        )
        return [to_record(Tax, r) for r in rows]
