"""The dashboard and portal read model (`services.analytics.AnalyticsReadModel`) in SQL.

Day buckets in a time zone: PostgreSQL converts with `timezone(zone, timestamp)` exactly. SQLite
has no time-zone database, so it groups by UTC hour (or by quarter hour for zones with a
half- or quarter-hour offset in the window) and Python folds those few buckets into local days:
every local midnight is then a bucket boundary, so no event lands on the wrong day.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection
from datetime import UTC, date, datetime, timedelta
from typing import Any
from uuid import UUID
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from releve.adapters.sql.repositories.base import count_and_page, to_record
from releve.adapters.sql.tables import billable_metrics, customers, events, plans, subscriptions
from releve.adapters.sql.tables_billing import fees, invoices
from releve.services.analytics import (
    CustomerRevenue,
    DailyCount,
    InvoiceStatusCount,
    OrganizationCounts,
    RecurringFee,
)
from releve.services.billing_records import INVOICE_FINALIZED, VISIBLE_STATUSES
from releve.services.pagination import PageRequest
from releve.services.records import EVENT_UNMATCHED, SUBSCRIPTION_ACTIVE, Customer, StoredEvent


def _whole_hour_offsets(zone: ZoneInfo, since: datetime, until: datetime) -> bool:
    at = since
    while at <= until:
        offset = at.astimezone(zone).utcoffset() or timedelta()
        if offset.total_seconds() % 3600:
            return False
        at += timedelta(hours=12)
    return True


def _local_day(bucket: str, hourly: bool, zone: ZoneInfo) -> date:
    """The local day of a SQLite bucket: "YYYY-MM-DDTHH" (UTC), or "YYYY-MM-DDTHH:M" with the
    quarter hour's first minute."""
    if hourly:
        start = datetime.strptime(bucket, "%Y-%m-%dT%H")
    else:
        hour, minute = bucket.rsplit(":", 1)
        start = datetime.strptime(hour, "%Y-%m-%dT%H") + timedelta(minutes=int(minute))
    return start.replace(tzinfo=UTC).astimezone(zone).date()


class SqlAnalyticsReadModel:
    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    def _connect(self) -> sa.Connection:
        return self._engine.connect().execution_options(read_only=True)

    def counts(self, organization_id: UUID) -> OrganizationCounts:
        def count(table: sa.Table, *where: Any) -> sa.ScalarSelect[Any]:
            return (
                sa.select(sa.func.count())
                .select_from(table)
                .where(table.c.organization_id == organization_id, *where)
                .scalar_subquery()
            )

        query = sa.select(
            count(customers, customers.c.deleted_at.is_(None)),
            count(billable_metrics, billable_metrics.c.deleted_at.is_(None)),
            count(events),
            count(events, events.c.status == EVENT_UNMATCHED),
        )
        with self._connect() as c:
            row = c.execute(query).one()
        return OrganizationCounts(*(int(n) for n in row))

    def unmatched_by_reason(self, organization_id: UUID) -> dict[str, int]:
        reason = sa.func.coalesce(events.c.unmatched_reason, "unknown")
        query = (
            sa.select(reason, sa.func.count())
            .where(events.c.organization_id == organization_id, events.c.status == EVENT_UNMATCHED)
            .group_by(reason)
            .order_by(reason)
        )
        with self._connect() as c:
            return {str(r): int(n) for r, n in c.execute(query)}

    def daily_event_counts(
        self,
        organization_id: UUID,
        *,
        since: datetime,
        until: datetime,
        timezone: str,
        external_subscription_ids: Collection[str] | None = None,
        code: str | None = None,
    ) -> list[DailyCount]:
        zone = ZoneInfo(timezone)
        where = [
            events.c.organization_id == organization_id,
            events.c.timestamp >= since,
            events.c.timestamp < until,
        ]
        if external_subscription_ids is not None:
            ids = list(external_subscription_ids)
            if not ids:
                return []
            where.append(events.c.external_subscription_id.in_(ids))
        if code is not None:
            where.append(events.c.code == code)
        with self._connect() as c:
            if c.dialect.name == "postgresql":
                day = sa.cast(sa.func.timezone(timezone, events.c.timestamp), sa.Date)
                query = sa.select(day, events.c.code, sa.func.count()).where(*where)
                rows = c.execute(query.group_by(day, events.c.code))
                return [DailyCount(d, code_, int(n)) for d, code_, n in rows]
            # SQLite stores "YYYY-MM-DDTHH:MM:SS.ffffffZ": cut to the hour, or the quarter hour.
            hourly = _whole_hour_offsets(zone, since, until)
            bucket: Any = sa.func.substr(events.c.timestamp, 1, 13)
            if not hourly:
                quarter = sa.cast(sa.func.substr(events.c.timestamp, 15, 2), sa.Integer) / 15
                bucket = bucket.concat(":").concat(sa.cast(quarter * 15, sa.String))
            query = sa.select(bucket, events.c.code, sa.func.count()).where(*where)
            rows = c.execute(query.group_by(bucket, events.c.code))
            folded: dict[tuple[Any, str], int] = defaultdict(int)
            # Each bucket comes back once per code: its local day is worked out once (parsing
            # and zone conversion per row were half of the overview page's time).
            days: dict[str, date] = {}
            for text, code_, n in rows:
                local_day = days.get(text)
                if local_day is None:
                    local_day = days[text] = _local_day(text, hourly, zone)
                folded[(local_day, code_)] += int(n)
        return [DailyCount(d, code_, n) for (d, code_), n in folded.items()]

    def top_subscriptions(
        self, organization_id: UUID, *, since: datetime, limit: int
    ) -> list[tuple[str, int]]:
        n = sa.func.count().label("n")
        query = (
            sa.select(events.c.external_subscription_id, n)
            .where(events.c.organization_id == organization_id, events.c.timestamp >= since)
            .group_by(events.c.external_subscription_id)
            .order_by(n.desc(), events.c.external_subscription_id)
            .limit(limit)
        )
        with self._connect() as c:
            return [(str(s), int(count)) for s, count in c.execute(query)]

    def search_customers(
        self, organization_id: UUID, query: str, page: PageRequest
    ) -> tuple[list[Customer], int]:
        select = customers.select().where(
            customers.c.organization_id == organization_id, customers.c.deleted_at.is_(None)
        )
        if query:
            needle = query.lower()
            select = select.where(
                sa.or_(
                    *(
                        sa.func.lower(column).contains(needle, autoescape=True)
                        for column in (customers.c.name, customers.c.external_id, customers.c.email)
                    )
                )
            )
        select = select.order_by(customers.c.sequential_id.desc())
        with self._connect() as c:
            rows, total = count_and_page(c, select, page.offset, page.per_page)
        return [to_record(Customer, r) for r in rows], total

    def events_received_after(
        self, organization_id: UUID, after: datetime | None, limit: int
    ) -> list[StoredEvent]:
        query = events.select().where(events.c.organization_id == organization_id)
        if after is not None:
            query = query.where(events.c.created_at > after)
        query = query.order_by(events.c.created_at.desc(), events.c.transaction_id).limit(limit)
        with self._connect() as c:
            return [to_record(StoredEvent, r) for r in c.execute(query)]

    # --- revenue (finalized invoices; amounts in minor units, per currency) -------------------

    def revenue_by_day(
        self, organization_id: UUID, *, since: date, until: date, fee_type: str | None = None
    ) -> list[tuple[date, str, int]]:
        """(issuing date, currency, Σ) of finalized invoices issued in `[since, until)`: their
        totals, or with `fee_type` the sum of those fees' amounts (before taxes)."""
        where = [
            invoices.c.organization_id == organization_id,
            invoices.c.status == INVOICE_FINALIZED,
            invoices.c.issuing_date >= since,
            invoices.c.issuing_date < until,
        ]
        if fee_type is None:
            amount = sa.func.sum(invoices.c.total_amount_cents)
            query = sa.select(invoices.c.issuing_date, invoices.c.currency, amount).where(*where)
        else:
            amount = sa.func.sum(fees.c.amount_cents)
            query = (
                sa.select(invoices.c.issuing_date, invoices.c.currency, amount)
                .select_from(invoices.join(fees, fees.c.invoice_id == invoices.c.id))
                .where(*where, fees.c.fee_type == fee_type)
            )
        query = query.group_by(invoices.c.issuing_date, invoices.c.currency)
        with self._connect() as c:
            return [(d, str(cur), int(n or 0)) for d, cur, n in c.execute(query)]

    def revenue_by_customer(
        self, organization_id: UUID, *, since: date, until: date
    ) -> list[CustomerRevenue]:
        """Σ of finalized invoice totals issued in `[since, until)` per customer and currency."""
        total = sa.func.sum(invoices.c.total_amount_cents)
        query = (
            sa.select(customers.c.external_id, customers.c.name, invoices.c.currency, total)
            .select_from(invoices.join(customers, customers.c.id == invoices.c.customer_id))
            .where(
                invoices.c.organization_id == organization_id,
                invoices.c.status == INVOICE_FINALIZED,
                invoices.c.issuing_date >= since,
                invoices.c.issuing_date < until,
            )
            .group_by(customers.c.external_id, customers.c.name, invoices.c.currency)
        )
        with self._connect() as c:
            return [
                CustomerRevenue(str(e), n, str(cur), int(v or 0))
                for e, n, cur, v in c.execute(query)
            ]

    def invoices_by_status(self, organization_id: UUID) -> list[InvoiceStatusCount]:
        total = sa.func.sum(invoices.c.total_amount_cents)
        columns = (invoices.c.status, invoices.c.payment_status, invoices.c.currency)
        query = (
            sa.select(*columns, sa.func.count(), total)
            .where(
                invoices.c.organization_id == organization_id,
                invoices.c.status.in_(VISIBLE_STATUSES),
            )
            .group_by(*columns)
        )
        with self._connect() as c:
            return [
                InvoiceStatusCount(str(s), str(p), str(cur), int(n), int(v or 0))
                for s, p, cur, n, v in c.execute(query)
            ]

    def recurring_fees(self, organization_id: UUID) -> list[RecurringFee]:
        """Active subscriptions per (plan interval, currency, amount): the fixed fees."""
        columns = (plans.c.interval, plans.c.amount_currency, plans.c.amount_cents)
        query = (
            sa.select(*columns, sa.func.count())
            .select_from(subscriptions.join(plans, plans.c.id == subscriptions.c.plan_id))
            .where(
                subscriptions.c.organization_id == organization_id,
                subscriptions.c.status == SUBSCRIPTION_ACTIVE,
                plans.c.amount_cents > 0,
            )
            .group_by(*columns)
        )
        with self._connect() as c:
            return [
                RecurringFee(str(i), str(cur), int(a), int(n)) for i, cur, a, n in c.execute(query)
            ]
