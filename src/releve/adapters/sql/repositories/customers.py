"""Customers; deleted ones stay in the table (soft delete) but are invisible here."""

from __future__ import annotations

from collections.abc import Collection
from uuid import UUID

import sqlalchemy as sa

from releve.adapters.sql.repositories.base import count_and_page, to_record, to_row
from releve.adapters.sql.tables import customers
from releve.services.pagination import PageRequest
from releve.services.records import Customer

_live = customers.c.deleted_at.is_(None)


class SqlCustomerRepository:
    def __init__(self, connection: sa.Connection) -> None:
        self._c = connection

    def get(self, organization_id: UUID, external_id: str) -> Customer | None:
        row = self._c.execute(
            customers.select().where(
                customers.c.organization_id == organization_id,
                customers.c.external_id == external_id,
                _live,
            )
        ).first()
        return to_record(Customer, row) if row else None

    def get_by_id(self, customer_id: UUID) -> Customer | None:
        row = self._c.execute(
            customers.select().where(customers.c.id == customer_id, _live)
        ).first()
        return to_record(Customer, row) if row else None

    def by_ids(self, customer_ids: Collection[UUID]) -> dict[UUID, Customer]:
        """id → live customer, in one query per 500 ids (a page of invoices names a few)."""
        ids = sorted(set(customer_ids))
        found: dict[UUID, Customer] = {}
        for start in range(0, len(ids), 500):
            rows = self._c.execute(
                customers.select().where(customers.c.id.in_(ids[start : start + 500]), _live)
            )
            found.update((row.id, to_record(Customer, row)) for row in rows)
        return found

    def next_sequential_id(self, organization_id: UUID) -> int:
        current = self._c.execute(
            sa.select(sa.func.max(customers.c.sequential_id)).where(
                customers.c.organization_id == organization_id
            )
        ).scalar_one()
        return int(current or 0) + 1

    def add(self, customer: Customer) -> None:
        self._c.execute(customers.insert().values(**to_row(customer)))

    def update(self, customer: Customer) -> None:
        values = to_row(customer)
        del values["id"]
        self._c.execute(customers.update().where(customers.c.id == customer.id).values(**values))

    def list(self, organization_id: UUID, page: PageRequest) -> tuple[list[Customer], int]:
        query = (
            customers.select()
            .where(customers.c.organization_id == organization_id, _live)
            .order_by(customers.c.sequential_id.desc())
        )
        rows, total = count_and_page(self._c, query, page.offset, page.per_page)
        return [to_record(Customer, r) for r in rows], total

    def timezones(self, organization_id: UUID, customer_ids: Collection[UUID]) -> dict[UUID, str]:
        """customer id → its own time zone, for those that set one (deleted customers too)."""
        if not customer_ids:
            return {}
        rows = self._c.execute(
            sa.select(customers.c.id, customers.c.timezone).where(
                customers.c.organization_id == organization_id,
                customers.c.id.in_(list(customer_ids)),
                customers.c.timezone.is_not(None),
            )
        )
        return {row.id: row.timezone for row in rows}
