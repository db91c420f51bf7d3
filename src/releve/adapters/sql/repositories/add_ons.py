"""Add-ons and the details of the add-on fees one-off invoices bill, per organization (never
commits; the unit of work does)."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from uuid import UUID

import sqlalchemy as sa

from releve.adapters.sql.repositories.base import count_and_page, to_record, to_row
from releve.adapters.sql.tables_coupons import add_on_fees, add_ons
from releve.services.coupon_records import AddOn, AddOnFee
from releve.services.pagination import PageRequest


class SqlAddOnRepository:
    def __init__(self, connection: sa.Connection) -> None:
        self._c = connection

    def get(self, organization_id: UUID, code: str) -> AddOn | None:
        row = self._c.execute(
            add_ons.select().where(
                add_ons.c.organization_id == organization_id,
                add_ons.c.code == code,
                add_ons.c.deleted_at.is_(None),
            )
        ).first()
        return to_record(AddOn, row) if row else None

    def add(self, add_on: AddOn) -> None:
        self._c.execute(add_ons.insert().values(**to_row(add_on)))

    def update(self, add_on: AddOn) -> None:
        values = to_row(add_on)
        del values["id"]
        self._c.execute(add_ons.update().where(add_ons.c.id == add_on.id).values(**values))

    def list(self, organization_id: UUID, page: PageRequest) -> tuple[list[AddOn], int]:
        query = (
            add_ons.select()
            .where(add_ons.c.organization_id == organization_id, add_ons.c.deleted_at.is_(None))
            .order_by(add_ons.c.created_at.desc(), add_ons.c.code)
        )
        rows, total = count_and_page(self._c, query, page.offset, page.per_page)
        return [to_record(AddOn, r) for r in rows], total

    def add_fees(self, fees: Sequence[AddOnFee]) -> None:
        if fees:
            self._c.execute(add_on_fees.insert(), [to_row(f) for f in fees])

    def fees_for(self, invoice_ids: Collection[UUID]) -> dict[UUID, AddOnFee]:
        if not invoice_ids:
            return {}
        rows = self._c.execute(
            add_on_fees.select().where(add_on_fees.c.invoice_id.in_(list(invoice_ids)))
        )
        return {r.fee_id: to_record(AddOnFee, r) for r in rows}
