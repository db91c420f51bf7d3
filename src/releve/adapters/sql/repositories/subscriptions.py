"""Subscriptions: every row of every external id's upgrade chain is kept."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import datetime
from uuid import UUID

import sqlalchemy as sa

from releve.adapters.sql.repositories.base import count_and_page, to_record, to_row
from releve.adapters.sql.tables import subscriptions as subs
from releve.services.pagination import PageRequest
from releve.services.ports import SubscriptionFilter
from releve.services.records import (
    SUBSCRIPTION_ACTIVE,
    SUBSCRIPTION_PENDING,
    Subscription,
)


class SqlSubscriptionRepository:
    def __init__(self, connection: sa.Connection) -> None:
        self._c = connection

    def add(self, subscription: Subscription) -> None:
        self._c.execute(subs.insert().values(**to_row(subscription)))

    def update(self, subscription: Subscription) -> None:
        values = to_row(subscription)
        del values["id"]
        self._c.execute(subs.update().where(subs.c.id == subscription.id).values(**values))

    def get_by_id(self, organization_id: UUID, subscription_id: UUID) -> Subscription | None:
        row = self._c.execute(_BY_ID, {"org": organization_id, "id": subscription_id}).first()
        return to_record(Subscription, row) if row else None

    def by_ids(
        self, organization_id: UUID, subscription_ids: Collection[UUID]
    ) -> dict[UUID, Subscription]:
        """id → subscription (any status), in one query per 500 ids."""
        ids = sorted(set(subscription_ids))
        found: dict[UUID, Subscription] = {}
        for start in range(0, len(ids), 500):
            rows = self._c.execute(
                subs.select().where(
                    subs.c.organization_id == organization_id,
                    subs.c.id.in_(ids[start : start + 500]),
                )
            )
            found.update((row.id, to_record(Subscription, row)) for row in rows)
        return found

    def _with_status(
        self, organization_id: UUID, external_id: str, status: str
    ) -> Subscription | None:
        row = self._c.execute(
            subs.select().where(
                subs.c.organization_id == organization_id,
                subs.c.external_id == external_id,
                subs.c.status == status,
            )
        ).first()
        return to_record(Subscription, row) if row else None

    def current(self, organization_id: UUID, external_id: str) -> Subscription | None:
        return self._with_status(
            organization_id, external_id, SUBSCRIPTION_ACTIVE
        ) or self._with_status(organization_id, external_id, SUBSCRIPTION_PENDING)

    def pending(self, organization_id: UUID, external_id: str) -> Subscription | None:
        return self._with_status(organization_id, external_id, SUBSCRIPTION_PENDING)

    def for_external_ids(
        self, organization_id: UUID, external_ids: Collection[str]
    ) -> list[Subscription]:
        if not external_ids:
            return []
        rows = self._c.execute(
            subs.select()
            .where(
                subs.c.organization_id == organization_id,
                subs.c.external_id.in_(sorted(external_ids)),
            )
            .order_by(subs.c.external_id, subs.c.started_at, subs.c.created_at)
        )
        return [to_record(Subscription, r) for r in rows]

    def list(
        self, organization_id: UUID, filters: SubscriptionFilter, page: PageRequest
    ) -> tuple[list[Subscription], int]:
        query = subs.select().where(
            subs.c.organization_id == organization_id, subs.c.status.in_(filters.statuses)
        )
        if filters.customer_id is not None:
            query = query.where(subs.c.customer_id == filters.customer_id)
        if filters.plan_id is not None:
            query = query.where(subs.c.plan_id == filters.plan_id)
        query = query.order_by(subs.c.created_at.desc(), subs.c.external_id)
        rows, total = count_and_page(self._c, query, page.offset, page.per_page)
        return [to_record(Subscription, r) for r in rows], total

    def on_plans(self, organization_id: UUID, plan_ids: Collection[UUID]) -> Sequence[Subscription]:
        if not plan_ids:
            return []
        rows = self._c.execute(
            subs.select()
            .where(subs.c.organization_id == organization_id, subs.c.plan_id.in_(list(plan_ids)))
            .order_by(subs.c.external_id, subs.c.created_at)
        )
        return [to_record(Subscription, r) for r in rows]

    def due_pending(self, now: datetime) -> Sequence[Subscription]:
        rows = self._c.execute(
            subs.select()
            .where(subs.c.status == SUBSCRIPTION_PENDING, subs.c.subscription_at <= now)
            .order_by(subs.c.subscription_at, subs.c.id)
        )
        return [to_record(Subscription, r) for r in rows]

    def due_ending(self, now: datetime) -> Sequence[Subscription]:
        rows = self._c.execute(
            subs.select()
            .where(
                subs.c.status == SUBSCRIPTION_ACTIVE,
                subs.c.ending_at.is_not(None),
                subs.c.ending_at <= now,
            )
            .order_by(subs.c.ending_at, subs.c.id)
        )
        return [to_record(Subscription, r) for r in rows]

    def external_ids(self, organization_id: UUID) -> set[str]:
        return set(
            self._c.execute(
                sa.select(subs.c.external_id)
                .where(subs.c.organization_id == organization_id)
                .distinct()
            ).scalars()
        )


# Built once: asked for each invoice a bill run issues (and each API call on a subscription).
_BY_ID = subs.select().where(
    subs.c.organization_id == sa.bindparam("org"), subs.c.id == sa.bindparam("id")
)
