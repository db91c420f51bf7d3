"""The immutable event log: set-based reads and batched inserts, no per-event round trip.

`add_many` is the ingest hot path, so it bypasses SQLAlchemy's per-row parameter processing
(a third of the writer's CPU in the profile): each event becomes one tuple of exactly the
values the column types would bind (same text formats, same checks; a test compares both paths
column by column), sent with the driver's own bulk call on the unit of work's connection, in its
transaction: sqlite3 `executemany` of one prepared INSERT, or PostgreSQL `COPY … FROM STDIN`.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any
from uuid import UUID

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import JSONB

from releve.adapters.sql.repositories.base import count_and_page, to_record
from releve.adapters.sql.tables import events, subscriptions
from releve.adapters.sql.types import sqlite_time
from releve.services import exact_json
from releve.services.errors import StoreConflict
from releve.services.pagination import PageRequest
from releve.services.ports import EventFilter
from releve.services.records import OUTSIDE_SUBSCRIPTION, UNKNOWN_SUBSCRIPTION, StoredEvent

# Ids per `IN (…)` of `set_matching`: far below SQLite's 32,766 bound-parameter limit.
INSERT_CHUNK = 500

_COLUMNS = (
    "id",
    "organization_id",
    "transaction_id",
    "external_subscription_id",
    "code",
    "timestamp",
    "properties",
    "precise_total_amount_cents",
    "payload_hash",
    "created_at",
    "status",
    "unmatched_reason",
    "subscription_id",
)
_SQLITE_INSERT = (
    f"INSERT INTO events ({', '.join(_COLUMNS)}) VALUES ({', '.join('?' * len(_COLUMNS))})"
)
_PG_COPY = f"COPY events ({', '.join(_COLUMNS)}) FROM STDIN"


def _utc(value: datetime) -> datetime:
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError("naive datetimes are not allowed; pass an aware datetime")
    return value if value.tzinfo is UTC else value.astimezone(UTC)


def _amount(value: Decimal | None) -> Decimal | None:
    if value is not None and (type(value) is not Decimal or not value.is_finite()):
        raise ValueError("precise_total_amount_cents must be a finite Decimal")
    return value


def sqlite_row(e: StoredEvent) -> tuple[Any, ...]:
    """The values `events.insert()` binds on SQLite (Uuid as 32 hex digits, times as UTC text,
    JSON through the engine's exact codec, decimals as their text)."""
    amount = _amount(e.precise_total_amount_cents)
    return (
        e.id.hex,
        e.organization_id.hex,
        e.transaction_id,
        e.external_subscription_id,
        e.code,
        sqlite_time(e.timestamp),
        exact_json.dumps(e.properties),
        None if amount is None else str(amount),
        e.payload_hash,
        sqlite_time(e.created_at),
        e.status,
        e.unmatched_reason,
        None if e.subscription_id is None else e.subscription_id.hex,
    )


def postgresql_row(e: StoredEvent) -> tuple[Any, ...]:
    """The values for COPY: psycopg writes UUID, timestamptz and numeric natively; the JSONB
    column gets the exact JSON text (numbers as written, never floats)."""
    return (
        e.id,
        e.organization_id,
        e.transaction_id,
        e.external_subscription_id,
        e.code,
        _utc(e.timestamp),
        exact_json.dumps(e.properties),
        _amount(e.precise_total_amount_cents),
        e.payload_hash,
        _utc(e.created_at),
        e.status,
        e.unmatched_reason,
        e.subscription_id,
    )


def _find_many(ids: sa.TableValuedAlias) -> sa.Select[Any]:
    return events.select().where(
        events.c.organization_id == sa.bindparam("org", type_=events.c.organization_id.type),
        events.c.transaction_id.in_(sa.select(ids.c.value)),
    )


_IDS = sa.bindparam("ids", type_=sa.Text)
_FIND_MANY = {
    "postgresql": _find_many(
        sa.func.jsonb_array_elements_text(sa.cast(_IDS, JSONB)).table_valued("value")
    ),
    "sqlite": _find_many(sa.func.json_each(_IDS).table_valued("value")),
}


def driver_integrity_errors(connection: sa.Connection) -> type[Exception]:
    """The driver's unique-violation class (the bulk call bypasses SQLAlchemy's wrapping)."""
    module = connection.dialect.dbapi
    assert module is not None
    return module.IntegrityError  # type: ignore[no-any-return]


class SqlEventRepository:
    def __init__(self, connection: sa.Connection) -> None:
        self._c = connection

    def find_many(
        self, organization_id: UUID, transaction_ids: Collection[str]
    ) -> dict[str, StoredEvent]:
        if not transaction_ids:
            return {}
        # The ids as ONE JSON parameter: a statement compiled and prepared once, instead of an
        # `IN` of up to 5,000 parameters expanded, compiled and (psycopg) re-parsed per group.
        ids = exact_json.dumps(list(transaction_ids))
        rows = self._c.execute(
            _FIND_MANY[self._c.dialect.name], {"org": organization_id, "ids": ids}
        )
        return {row.transaction_id: to_record(StoredEvent, row) for row in rows}

    def add_many(self, new_events: Sequence[StoredEvent]) -> None:
        # Key order makes concurrent overlapping batches lock rows in the same order, so they
        # queue instead of deadlocking on PostgreSQL.
        if not new_events:
            return
        ordered = sorted(new_events, key=lambda e: e.transaction_id)
        driver: Any = self._c.connection.driver_connection
        try:
            if self._c.dialect.name == "postgresql":
                with driver.cursor() as cursor, cursor.copy(_PG_COPY) as copy:
                    for event in ordered:
                        copy.write_row(postgresql_row(event))
            else:
                driver.executemany(_SQLITE_INSERT, [sqlite_row(e) for e in ordered])
        except driver_integrity_errors(self._c) as exc:
            raise StoreConflict(str(exc)) from exc

    def get(self, organization_id: UUID, transaction_id: str) -> StoredEvent | None:
        row = self._c.execute(
            events.select().where(
                events.c.organization_id == organization_id,
                events.c.transaction_id == transaction_id,
            )
        ).first()
        return to_record(StoredEvent, row) if row else None

    def list(
        self, organization_id: UUID, filters: EventFilter, page: PageRequest
    ) -> tuple[list[StoredEvent], int]:
        query = events.select().where(events.c.organization_id == organization_id)
        if filters.external_subscription_id is not None:
            query = query.where(
                events.c.external_subscription_id == filters.external_subscription_id
            )
        if filters.code is not None:
            query = query.where(events.c.code == filters.code)
        if filters.timestamp_from is not None:
            query = query.where(events.c.timestamp >= filters.timestamp_from)
        if filters.timestamp_to is not None:
            query = query.where(events.c.timestamp <= filters.timestamp_to)
        if filters.status is not None:
            query = query.where(events.c.status == filters.status)
        query = query.order_by(events.c.timestamp.desc(), events.c.transaction_id)
        rows, total = count_and_page(self._c, query, page.offset, page.per_page)
        return [to_record(StoredEvent, r) for r in rows], total

    def set_status_for_code(
        self,
        organization_id: UUID,
        code: str,
        *,
        from_status: str,
        to_status: str,
        reason: str | None,
        only_reason: str | None = None,
    ) -> int:
        """Re-flag the events of one code. Flagging them `matched` (their metric now exists)
        also applies subscription matching: an event with no subscription active at its time
        stays unmatched, as `unknown_subscription` or `outside_subscription`."""
        query = events.update().where(
            events.c.organization_id == organization_id,
            events.c.code == code,
            events.c.status == from_status,
        )
        if only_reason is not None:
            query = query.where(events.c.unmatched_reason == only_reason)
        if to_status != "matched":
            values: dict[str, Any] = {
                "status": to_status,
                "unmatched_reason": reason,
                "subscription_id": None,
            }
        else:
            same_id = sa.and_(
                subscriptions.c.organization_id == events.c.organization_id,
                subscriptions.c.external_id == events.c.external_subscription_id,
            )
            active = sa.and_(
                same_id,
                subscriptions.c.started_at <= events.c.timestamp,
                sa.or_(
                    subscriptions.c.terminated_at.is_(None),
                    events.c.timestamp < subscriptions.c.terminated_at,
                ),
            )
            active_id = sa.select(subscriptions.c.id).where(active).limit(1).scalar_subquery()
            is_active = sa.exists().where(active)
            values = {
                "status": sa.case((is_active, "matched"), else_="unmatched"),
                "unmatched_reason": sa.case(
                    (is_active, None),
                    (sa.exists().where(same_id), OUTSIDE_SUBSCRIPTION),
                    else_=UNKNOWN_SUBSCRIPTION,
                ),
                "subscription_id": active_id,
            }
        result = self._c.execute(query.values(**values))
        return int(result.rowcount)

    def chunk_for_external_id(
        self,
        organization_id: UUID,
        external_subscription_id: str,
        *,
        since: datetime | None,
        after: tuple[datetime, str] | None,
        limit: int,
    ) -> Sequence[StoredEvent]:
        query = events.select().where(
            events.c.organization_id == organization_id,
            events.c.external_subscription_id == external_subscription_id,
        )
        if since is not None:
            query = query.where(events.c.timestamp >= since)
        if after is not None:
            # Spelled out (not a row-value comparison) so the timestamp binds through its
            # column type: SQLite stores it as fixed-width text.
            moment, transaction_id = after
            query = query.where(
                sa.or_(
                    events.c.timestamp > moment,
                    sa.and_(events.c.timestamp == moment, events.c.transaction_id > transaction_id),
                )
            )
        query = query.order_by(events.c.timestamp, events.c.transaction_id).limit(limit)
        return [to_record(StoredEvent, r) for r in self._c.execute(query)]

    def set_matching(
        self, organization_id: UUID, changes: Sequence[tuple[UUID, str, str | None, UUID | None]]
    ) -> None:
        # One UPDATE per distinct outcome (status, reason, subscription) and chunk of ids.
        by_outcome: dict[tuple[str, str | None, UUID | None], list[UUID]] = {}
        for event_id, status, reason, subscription_id in changes:
            by_outcome.setdefault((status, reason, subscription_id), []).append(event_id)
        for (status, reason, subscription_id), ids in sorted(
            by_outcome.items(), key=lambda item: str(item[0])
        ):
            ids.sort()
            for start in range(0, len(ids), INSERT_CHUNK):
                self._c.execute(
                    events.update()
                    .where(
                        events.c.organization_id == organization_id,
                        events.c.id.in_(ids[start : start + INSERT_CHUNK]),
                    )
                    .values(status=status, unmatched_reason=reason, subscription_id=subscription_id)
                )

    def matched_in(
        self,
        organization_id: UUID,
        external_subscription_id: str,
        subscription_id: UUID,
        code: str,
        start: datetime,
        end: datetime,
    ) -> Sequence[StoredEvent]:
        rows = self._c.execute(
            events.select()
            .where(
                events.c.organization_id == organization_id,
                events.c.external_subscription_id == external_subscription_id,
                events.c.code == code,
                events.c.subscription_id == subscription_id,
                events.c.timestamp >= start,
                events.c.timestamp < end,
                events.c.status == "matched",
            )
            .order_by(events.c.timestamp, events.c.transaction_id)
        )
        return [to_record(StoredEvent, r) for r in rows]

    def external_ids(self, organization_id: UUID) -> set[str]:
        return set(
            self._c.execute(
                sa.select(events.c.external_subscription_id)
                .where(events.c.organization_id == organization_id)
                .distinct()
            ).scalars()
        )
