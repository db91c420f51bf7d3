"""Billable metrics; deleted ones are kept (soft delete) so past events stay explainable."""

from __future__ import annotations

from collections.abc import Collection
from uuid import UUID

import sqlalchemy as sa

from releve.adapters.sql.repositories.base import count_and_page, to_record, to_row
from releve.adapters.sql.tables import billable_metrics as bm
from releve.services.pagination import PageRequest
from releve.services.records import BillableMetric

_live = bm.c.deleted_at.is_(None)


class SqlBillableMetricRepository:
    def __init__(self, connection: sa.Connection) -> None:
        self._c = connection

    def get(self, organization_id: UUID, code: str) -> BillableMetric | None:
        row = self._c.execute(
            bm.select().where(bm.c.organization_id == organization_id, bm.c.code == code, _live)
        ).first()
        return to_record(BillableMetric, row) if row else None

    def add(self, metric: BillableMetric) -> None:
        self._c.execute(bm.insert().values(**to_row(metric)))

    def update(self, metric: BillableMetric) -> None:
        values = to_row(metric)
        del values["id"]
        self._c.execute(bm.update().where(bm.c.id == metric.id).values(**values))

    def list(self, organization_id: UUID, page: PageRequest) -> tuple[list[BillableMetric], int]:
        query = (
            bm.select()
            .where(bm.c.organization_id == organization_id, _live)
            .order_by(bm.c.created_at.desc(), bm.c.code)
        )
        rows, total = count_and_page(self._c, query, page.offset, page.per_page)
        return [to_record(BillableMetric, r) for r in rows], total

    def live_codes(self, organization_id: UUID, codes: Collection[str]) -> set[str]:
        if not codes:
            return set()
        return set(
            self._c.execute(
                sa.select(bm.c.code).where(
                    bm.c.organization_id == organization_id, bm.c.code.in_(list(codes)), _live
                )
            ).scalars()
        )

    def live_by_codes(
        self, organization_id: UUID, codes: Collection[str]
    ) -> dict[str, BillableMetric]:
        if not codes:
            return {}
        rows = self._c.execute(
            bm.select().where(
                bm.c.organization_id == organization_id, bm.c.code.in_(list(codes)), _live
            )
        )
        return {row.code: to_record(BillableMetric, row) for row in rows}

    def by_ids(self, organization_id: UUID, ids: Collection[UUID]) -> dict[UUID, BillableMetric]:
        if not ids:
            return {}
        rows = self._c.execute(
            bm.select().where(bm.c.organization_id == organization_id, bm.c.id.in_(list(ids)))
        )
        return {row.id: to_record(BillableMetric, row) for row in rows}
