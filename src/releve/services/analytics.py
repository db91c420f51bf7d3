"""Read models for the dashboard and the portal: counts, daily event series, search, tail.

Reads only, no unit of work: the queries behind `AnalyticsReadModel` are set-based (GROUP BY in
the store), so a page costs a few queries whatever the number of events. Days are calendar days
in the time zone the caller gives (the organization's for operators, the customer's in the
portal), half-open `[00:00, next 00:00)`.

Revenue is finalized invoices only (drafts may change, voided ones do not count), grouped by
issuing date and always per currency: amounts in different currencies are never added.

MRR (per currency) = recurring fixed fees of the active subscriptions normalized to a month
(weekly × 52/12, quarterly ÷ 3, semiannual ÷ 6, yearly ÷ 12; summed exactly, rounded once
half-up) + trailing usage: the charge fees (before taxes) of the finalized invoices issued in
the last closed calendar month. Coupons, taxes and one-off invoices are not part of it.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from fractions import Fraction
from typing import Protocol
from uuid import UUID
from zoneinfo import ZoneInfo

from releve.domain.money import round_fraction
from releve.services.pagination import Page, PageRequest
from releve.services.ports import Clock
from releve.services.records import Customer, StoredEvent

WINDOWS = (7, 30, 90)  # days the overview offers
REVENUE_MONTHS = 12
MONTHLY_FACTOR = {
    "weekly": Fraction(52, 12),
    "monthly": Fraction(1),
    "quarterly": Fraction(1, 3),
    "semiannual": Fraction(1, 6),
    "yearly": Fraction(1, 12),
}
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


@dataclass(frozen=True, slots=True)
class CustomerRevenue:
    external_id: str
    name: str | None
    currency: str
    amount_cents: int


@dataclass(frozen=True, slots=True)
class InvoiceStatusCount:
    status: str
    payment_status: str
    currency: str
    invoices: int
    amount_cents: int


@dataclass(frozen=True, slots=True)
class RecurringFee:
    interval: str
    currency: str
    amount_cents: int
    subscriptions: int


@dataclass(frozen=True, slots=True)
class MonthlyRevenue:
    """Finalized revenue per calendar month (first days) and currency; zeros included."""

    months: list[date]
    by_currency: dict[str, list[int]]


@dataclass(frozen=True, slots=True)
class Mrr:
    currency: str
    recurring_cents: int
    usage_cents: int
    usage_month: date  # first day of the trailing month the usage comes from

    @property
    def total_cents(self) -> int:
        return self.recurring_cents + self.usage_cents


@dataclass(frozen=True, slots=True)
class CustomerGrowth:
    external_id: str
    name: str | None
    currency: str
    this_month_cents: int
    last_month_cents: int

    @property
    def change_cents(self) -> int:
        return self.this_month_cents - self.last_month_cents


def month_start(day: date, back: int = 0) -> date:
    """The first day of the month `back` months before `day`'s."""
    index = day.year * 12 + day.month - 1 - back
    return date(index // 12, index % 12 + 1, 1)


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

    def revenue_by_day(
        self, organization_id: UUID, *, since: date, until: date, fee_type: str | None = None
    ) -> list[tuple[date, str, int]]: ...

    def revenue_by_customer(
        self, organization_id: UUID, *, since: date, until: date
    ) -> list[CustomerRevenue]: ...

    def invoices_by_status(self, organization_id: UUID) -> list[InvoiceStatusCount]: ...

    def recurring_fees(self, organization_id: UUID) -> list[RecurringFee]: ...


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

    # --- revenue -----------------------------------------------------------------------------

    def _today(self, timezone: str) -> date:
        return self._clock.now().astimezone(ZoneInfo(timezone)).date()

    def revenue_by_month(
        self, organization_id: UUID, *, timezone: str, months: int = REVENUE_MONTHS
    ) -> MonthlyRevenue:
        """The last `months` calendar months up to the current one (issuing dates)."""
        today = self._today(timezone)
        window = [month_start(today, back) for back in reversed(range(months))]
        until = month_start(today, -1)
        index = {m: n for n, m in enumerate(window)}
        by_currency: dict[str, list[int]] = {}
        for day, currency, cents in self._read.revenue_by_day(
            organization_id, since=window[0], until=until
        ):
            by_currency.setdefault(currency, [0] * months)[index[month_start(day)]] += cents
        return MonthlyRevenue(window, dict(sorted(by_currency.items())))

    def mrr(self, organization_id: UUID, *, timezone: str) -> list[Mrr]:
        """Per currency (definition in the module docstring)."""
        today = self._today(timezone)
        last_month = month_start(today, 1)
        recurring: dict[str, Fraction] = {}
        for fee in self._read.recurring_fees(organization_id):
            factor = MONTHLY_FACTOR.get(fee.interval, Fraction(1))
            recurring[fee.currency] = (
                recurring.get(fee.currency, Fraction(0))
                + fee.amount_cents * fee.subscriptions * factor
            )
        usage: dict[str, int] = {}
        for _, currency, cents in self._read.revenue_by_day(
            organization_id, since=last_month, until=month_start(today), fee_type="charge"
        ):
            usage[currency] = usage.get(currency, 0) + cents
        return [
            Mrr(cur, round_fraction(recurring.get(cur, Fraction(0))), usage.get(cur, 0), last_month)
            for cur in sorted(set(recurring) | set(usage))
        ]

    def customer_growth(self, organization_id: UUID, *, timezone: str) -> list[CustomerGrowth]:
        """Each customer's finalized revenue this month and last month, per currency."""
        today = self._today(timezone)
        this, last, following = month_start(today), month_start(today, 1), month_start(today, -1)
        rows: dict[tuple[str, str], list[int]] = {}
        names: dict[str, str | None] = {}
        for n, (since, until) in enumerate(((this, following), (last, this))):
            for r in self._read.revenue_by_customer(organization_id, since=since, until=until):
                rows.setdefault((r.external_id, r.currency), [0, 0])[n] += r.amount_cents
                names[r.external_id] = r.name
        return [
            CustomerGrowth(ext, names.get(ext), cur, amounts[0], amounts[1])
            for (ext, cur), amounts in rows.items()
        ]

    def top_customers(
        self, organization_id: UUID, *, timezone: str, limit: int = 5
    ) -> tuple[list[CustomerGrowth], list[CustomerGrowth]]:
        """(by revenue this month, by growth over last month), largest first."""
        rows = self.customer_growth(organization_id, timezone=timezone)
        by_revenue = sorted(
            (r for r in rows if r.this_month_cents),
            key=lambda r: (-r.this_month_cents, r.currency, r.external_id),
        )
        by_growth = sorted(
            (r for r in rows if r.change_cents > 0),
            key=lambda r: (-r.change_cents, r.currency, r.external_id),
        )
        return by_revenue[:limit], by_growth[:limit]

    def invoices_by_status(self, organization_id: UUID) -> list[InvoiceStatusCount]:
        order = {"draft": 0, "finalized": 1, "voided": 2}
        return sorted(
            self._read.invoices_by_status(organization_id),
            key=lambda r: (order.get(r.status, 9), r.payment_status, r.currency),
        )
