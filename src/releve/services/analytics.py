"""Read models for the dashboard and the portal: counts, daily event series, search, tail.

Reads only, no unit of work: the queries behind `AnalyticsReadModel` are set-based (GROUP BY in
the store), so a page costs a few queries whatever the number of events. Days are calendar days
in the time zone the caller gives (the organization's for operators, the customer's in the
portal), half-open `[00:00, next 00:00)`.

Revenue, MRR and invoices are not computed here until invoicing exists: the pages say so rather
than show a made-up number.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Protocol
from uuid import UUID
from zoneinfo import ZoneInfo

from releve.services.pagination import Page, PageRequest
from releve.services.ports import Clock
from releve.services.records import Customer, StoredEvent

WINDOWS = (7, 30, 90)  # days the overview offers
MAX_SEARCH_LENGTH = 200


@dataclass(frozen=True, slots=True)
class OrganizationCounts:
    customers: int
    metrics: int
    events: int
    unmatched_events: int


@dataclass(frozen=True, slots=True)
class DailyCount:
    day: date  # in the requested time zone
    code: str
    events: int


@dataclass(frozen=True, slots=True)
class DailySeries:
    """Events per day per metric code; every day of the window is present (zeros included)."""

    days: list[date]
    series: dict[str, list[int]]
    timezone: str
    totals: dict[str, int] = field(default_factory=dict)

    @property
    def total(self) -> int:
        return sum(self.totals.values())


class AnalyticsReadModel(Protocol):
    """Set-based reads over the store (implemented by `adapters.sql.queries.analytics`)."""

    def counts(self, organization_id: UUID) -> OrganizationCounts: ...

    def unmatched_by_reason(self, organization_id: UUID) -> dict[str, int]: ...

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
        """Events with `since <= timestamp < until`, grouped by local day and code."""
        ...

    def top_subscriptions(
        self, organization_id: UUID, *, since: datetime, limit: int
    ) -> list[tuple[str, int]]:
        """(external_subscription_id, events since `since`), most events first."""
        ...

    def search_customers(
        self, organization_id: UUID, query: str, page: PageRequest
    ) -> tuple[list[Customer], int]:
        """Live customers whose name, external id or email contains `query` (any case)."""
        ...

    def events_received_after(
        self, organization_id: UUID, after: datetime | None, limit: int
    ) -> list[StoredEvent]:
        """The latest events by reception time (newest first), received after `after`."""
        ...


class AnalyticsService:
    def __init__(self, read_model: AnalyticsReadModel, clock: Clock) -> None:
        self._read = read_model
        self._clock = clock

    def counts(self, organization_id: UUID) -> OrganizationCounts:
        return self._read.counts(organization_id)

    def unmatched_by_reason(self, organization_id: UUID) -> dict[str, int]:
        return self._read.unmatched_by_reason(organization_id)

    def daily_events(
        self,
        organization_id: UUID,
        *,
        days: int,
        timezone: str,
        external_subscription_ids: Collection[str] | None = None,
        code: str | None = None,
    ) -> DailySeries:
        """The last `days` local days up to and including today, in `timezone`."""
        zone = ZoneInfo(timezone)
        today = self._clock.now().astimezone(zone).date()
        first = today - timedelta(days=days - 1)
        since = datetime.combine(first, time(), zone)
        until = datetime.combine(today + timedelta(days=1), time(), zone)
        rows = self._read.daily_event_counts(
            organization_id,
            since=since,
            until=until,
            timezone=timezone,
            external_subscription_ids=external_subscription_ids,
            code=code,
        )
        window = [first + timedelta(days=n) for n in range(days)]
        index = {day: n for n, day in enumerate(window)}
        series: dict[str, list[int]] = {}
        for row in rows:
            if row.day in index:
                series.setdefault(row.code, [0] * days)[index[row.day]] += row.events
        ordered = dict(sorted(series.items()))
        return DailySeries(window, ordered, timezone, {c: sum(v) for c, v in ordered.items()})

    def top_subscriptions(
        self, organization_id: UUID, *, days: int, limit: int = 5
    ) -> list[tuple[str, int]]:
        since = self._clock.now() - timedelta(days=days)
        return self._read.top_subscriptions(organization_id, since=since, limit=limit)

    def search_customers(
        self, organization_id: UUID, query: str, page: PageRequest
    ) -> Page[Customer]:
        items, total = self._read.search_customers(
            organization_id, query.strip()[:MAX_SEARCH_LENGTH], page
        )
        return Page(items, page, total)

    def latest_events(
        self, organization_id: UUID, *, after: datetime | None = None, limit: int = 50
    ) -> Sequence[StoredEvent]:
        return self._read.events_received_after(organization_id, after, max(1, min(limit, 200)))
