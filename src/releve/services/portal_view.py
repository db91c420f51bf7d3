"""What the customer portal (and the dashboard's customer page) shows about a customer's money.

Read-only view data assembled from the same services as the API — `SubscriptionService.list`,
`CurrentUsageService.current_usage`, `InvoiceQueries` — so the page and
`GET /customers/{id}/current_usage` can never disagree. Templates only lay it out.

- Periods are the charge period of current usage, half-open ``[start, end)``; `last_day` is the
  customer's local calendar date of the last instant inside it (time zone of the customer, else
  of the organization).
- The projection is the API's (`services.projection`, also behind
  `GET /customers/{id}/projected_usage`): linear in the elapsed share of the period for the
  charges whose units pile up over time; charges that price a level (seats, a peak, recurring
  storage) count as they are. It is an estimate, and the pages say so next to it.
- Isolation: everything here is looked up by (organization id, customer external id) taken from
  a verified portal token or dashboard session; invoices and subscriptions of anyone else are
  never returned (`invoice_for_customer` checks the owner, not just the organization).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta, tzinfo
from decimal import Decimal
from uuid import UUID

from releve.domain.billing.charge_fees import ChargeFee
from releve.domain.charge_models.values import plain
from releve.domain.periods import Period, local_date
from releve.services.billing_queries import InvoiceQueries, InvoiceView
from releve.services.billing_records import INVOICE_FINALIZED
from releve.services.budgets import BudgetStatus
from releve.services.errors import NotFound
from releve.services.footprint import Footprint, FootprintLine
from releve.services.pagination import Page, PageRequest
from releve.services.projection import (  # noqa: F401 (the portal's names for the shared rule)
    ACCUMULATING,
    grows_with_time,
    projected_cents,
    projected_total_cents,
)
from releve.services.subscriptions import SubscriptionService
from releve.services.usage import ChargeUsage, CurrentUsageService, CustomerUsage

MAX_SUBSCRIPTIONS = 100  # a customer's active subscriptions fit on one page


def days_left(period: Period, now: datetime, tz: tzinfo) -> int:
    """Whole calendar days from today to the period end, on the customer's wall clock."""
    return max((local_date(period.end, tz) - local_date(now, tz)).days, 0)


@dataclass(frozen=True, slots=True)
class DetailTable:
    """`amount_details` as a small table: column headers, rows of plain values, and per column
    how to show its values (`kinds`: "tier", "units", "price" — a unit price at full
    precision —, "amount" — a money amount in major units —, "rate", "text"; empty: as is)."""

    columns: tuple[str, ...]
    rows: tuple[tuple[object, ...], ...]
    kinds: tuple[str, ...] = ()


# Lago's amount_details keys → words for customers, and how their values read.
_LABELS = {
    "units": ("Units", "units"),
    "free_units": ("Free units", "units"),
    "paid_units": ("Paid units", "units"),
    "free_events": ("Free events", "units"),
    "paid_events": ("Paid events", "units"),
    "per_package_size": ("Package size", "units"),
    "per_package_unit_amount": ("Price per package", "price"),
    "per_unit_amount": ("Unit price", "price"),
    "flat_unit_amount": ("Flat fee", "price"),
    "per_unit_total_amount": ("Units × unit price", "amount"),
    "total_with_flat_amount": ("Amount", "amount"),
    "rate": ("Rate (%)", "rate"),
    "fixed_fee_unit_amount": ("Fixed fee per event", "price"),
    "fixed_fee_total_amount": ("Fixed fees", "amount"),
    "min_max_adjustment_total_amount": ("Minimum/maximum adjustment", "amount"),
    "from_value": ("From", "units"),
    "to_value": ("To", "units"),
}
_TIER_COLUMNS = (
    ("units", "Units", "units"),
    ("per_unit_amount", "Unit price", "price"),
    ("flat_unit_amount", "Flat fee", "price"),
    ("total_with_flat_amount", "Amount", "amount"),
)


def _label(key: str) -> tuple[str, str]:
    if key in _LABELS:
        return _LABELS[key]
    kind = "amount" if key.endswith("_amount") else ""
    return key.replace("_", " ").capitalize(), kind


@dataclass(frozen=True, slots=True)
class TierLabel:
    """What one graduated range covers, from Lago's inclusive ranges (0–100, 101–500, 501–∞):
    `kind` "first" (the first `count` units), "next" (`count` more) or "over" (above `count`).
    `str()` is plain English for documents; the web formatter writes the number per locale."""

    kind: str
    count: Decimal

    def __str__(self) -> str:
        count = plain(self.count)
        return {"first": f"First {count} units", "next": f"Next {count} units"}.get(
            self.kind, f"Over {count} units"
        )


def tier_label(rows: Sequence[Mapping[str, object]], index: int) -> TierLabel:
    top = rows[index].get("to_value")
    previous_top = Decimal(str(rows[index - 1].get("to_value") or 0)) if index else Decimal(0)
    if top is None:
        return TierLabel("over", previous_top)
    if index == 0:
        return TierLabel("first", Decimal(str(top)))
    return TierLabel("next", Decimal(str(top)) - previous_top)


def _tier_table(rows: Sequence[Mapping[str, object]]) -> DetailTable:
    return DetailTable(
        ("Tier", *(label for _, label, _ in _TIER_COLUMNS)),
        tuple(
            (tier_label(rows, n), *(r.get(key) for key, _, _ in _TIER_COLUMNS))
            for n, r in enumerate(rows)
        ),
        ("tier", *(kind for _, _, kind in _TIER_COLUMNS)),
    )


def detail_tables(amount_details: Mapping[str, object]) -> list[DetailTable]:
    """Lago's `amount_details` → tables: graduated ranges as "First 100 units at …" rows, other
    lists of rows with worded columns, and one "What / Value" table for the scalar fields."""
    tables = []
    scalars = []
    kinds = []
    for key, value in amount_details.items():
        if isinstance(value, list) and value and all(isinstance(r, Mapping) for r in value):
            if key == "graduated_ranges":
                tables.append(_tier_table(value))
                continue
            columns = tuple(dict.fromkeys(k for r in value for k in r))
            labels = [_label(c) for c in columns]
            tables.append(
                DetailTable(
                    tuple(label for label, _ in labels),
                    tuple(tuple(r.get(c) for c in columns) for r in value),
                    tuple(kind for _, kind in labels),
                )
            )
        elif not isinstance(value, list | dict):
            label, kind = _label(key)
            scalars.append((label, value))
            kinds.append(kind)
    if scalars:
        tables.insert(0, DetailTable(("What", "Value"), tuple(scalars), ("text", *kinds)))
    return tables


@dataclass(frozen=True, slots=True)
class FeeLine:
    fee: ChargeFee
    tables: tuple[DetailTable, ...]


@dataclass(frozen=True, slots=True)
class ChargeLine:
    """One charge of the plan: units and amount so far, each priced bucket with its evidence."""

    usage: ChargeUsage
    metric_code: str
    name: str
    fees: tuple[FeeLine, ...]

    @property
    def units(self) -> Decimal:
        return self.usage.units

    @property
    def amount_cents(self) -> int:
        return self.usage.amount_cents


@dataclass(frozen=True, slots=True)
class SubscriptionSummary:
    external_id: str
    name: str | None
    plan_name: str
    plan_code: str
    usage: CustomerUsage
    first_day: date
    last_day: date
    days_left: int
    timezone: str  # IANA name of the zone the dates are in
    projected_total_cents: int | None
    lines: tuple[ChargeLine, ...]

    @property
    def currency(self) -> str:
        return self.usage.currency.code


@dataclass(frozen=True, slots=True)
class InvoiceRow:
    """A finalized invoice with the periods it bills as local first/last days (inclusive)."""

    view: InvoiceView
    periods: tuple[tuple[date, date], ...]


def billed_days(view: InvoiceView, tz: tzinfo) -> tuple[tuple[date, date], ...]:
    """Each billed subscription period ``[from, to)`` as its first and last local day."""
    days = []
    for billed in view.subscriptions:
        start, end = billed.link.from_datetime, billed.link.to_datetime
        if start is not None and end is not None:
            last = max(end - timedelta(microseconds=1), start)
            days.append((local_date(start, tz), local_date(last, tz)))
    return tuple(days)


class CustomerPortalView:
    """The use case behind the portal page: active subscriptions with usage, and invoices."""

    def __init__(
        self,
        subscriptions: SubscriptionService,
        usage: CurrentUsageService,
        invoices: InvoiceQueries,
    ) -> None:
        self._subscriptions = subscriptions
        self._usage = usage
        self._invoices = invoices

    def subscriptions(
        self, organization_id: UUID, external_customer_id: str, now: datetime, tz: tzinfo
    ) -> list[SubscriptionSummary]:
        """Every active subscription of this customer with its usage so far (taxes included)."""
        page = self._subscriptions.list(
            organization_id,
            PageRequest(1, MAX_SUBSCRIPTIONS),
            external_customer_id=external_customer_id,
        )
        # defensive: the list is already filtered by customer
        views = [v for v in page.items if v.customer.external_id == external_customer_id]
        # One unit of work for every subscription's usage, reusing the plans just loaded.
        usages = self._usage.current_usages([(v.customer, v.subscription, v.plan) for v in views])
        summaries = []
        for view in views:
            usage = usages.get(view.subscription.id)
            if usage is None:
                continue  # not started yet (pending) or ended in between
            lines = tuple(
                ChargeLine(
                    charge,
                    charge.charge.metric.code,
                    charge.charge.invoice_display_name or charge.charge.metric.name,
                    tuple(FeeLine(f, tuple(detail_tables(f.amount_details))) for f in charge.fees),
                )
                for charge in usage.charges
            )
            period = usage.period
            summaries.append(
                SubscriptionSummary(
                    external_id=view.subscription.external_id,
                    name=view.subscription.name,
                    plan_name=view.plan.plan.name,
                    plan_code=view.plan.plan.code,
                    usage=usage,
                    first_day=local_date(period.start, tz),
                    last_day=local_date(period.end - timedelta(microseconds=1), tz),
                    days_left=days_left(period, now, tz),
                    timezone=str(tz),
                    projected_total_cents=projected_total_cents(usage, now),
                    lines=lines,
                )
            )
        return summaries

    def invoices(
        self, organization_id: UUID, external_customer_id: str, page: PageRequest, tz: tzinfo
    ) -> Page[InvoiceRow]:
        """The customer's finalized invoices, newest first as the API lists them."""
        found = self._invoices.list(
            organization_id,
            page,
            external_customer_id=external_customer_id,
            status=INVOICE_FINALIZED,
        )
        rows = [InvoiceRow(v, billed_days(v, tz)) for v in found.items]
        return Page(rows, found.request, found.total_count)

    def invoice_for_customer(
        self, organization_id: UUID, customer_id: UUID, lago_id: str
    ) -> InvoiceView:
        """One finalized invoice of this customer; anyone else's (or a draft) is not found."""
        view = self._invoices.get(organization_id, lago_id)
        if view.invoice.customer_id != customer_id or view.invoice.status != INVOICE_FINALIZED:
            raise NotFound("invoice")
        return view


@dataclass(frozen=True, slots=True)
class BudgetPanel:
    """The portal's budget box: spend vs budget in plain figures, the bar, the alert level.

    `bar` is the bar's filled share (0–100, capped); `level` is "ok" below 80 %, "warn" once
    the 80 % alert is recorded, "over" once the 100 % one is (the banners follow the stored
    crossings, so what the page says is what the webhook said).
    """

    amount_cents: int
    spend_cents: int
    currency: str
    percent: int
    bar: int
    remaining_cents: int
    reached: int | None
    level: str
    first_day: date | None
    last_day: date | None


def budget_panel(status: BudgetStatus | None, tz: tzinfo) -> BudgetPanel | None:
    if status is None:
        return None
    reached = status.reached
    period = status.period
    return BudgetPanel(
        amount_cents=status.budget.amount_cents,
        spend_cents=status.spend_cents,
        currency=status.budget.currency,
        percent=status.percent,
        bar=max(0, min(status.percent, 100)),
        remaining_cents=status.remaining_cents,
        reached=reached,
        level="over" if reached == 100 else "warn" if reached == 80 else "ok",
        first_day=None if period is None else local_date(period.start, tz),
        last_day=None if period is None else local_date(period.end - timedelta(microseconds=1), tz),
    )


def footprint_by_line(footprint: Footprint) -> dict[tuple[str, str], FootprintLine]:
    """(subscription external id, metric code) → its footprint, for the usage lines."""
    return {(f.external_subscription_id, f.metric_code): f for f in footprint.lines}


def footprint_chart(footprint: Footprint) -> dict[str, object]:
    """What app.js hands to Plotly: days and, per metric, the footprint per day (strings, so
    that no float is made here; the browser turns them into numbers to draw)."""
    return {
        "title": "Footprint per day, this period",
        "x": [d.isoformat() for d in footprint.days],
        "series": [
            {"code": name, "name": name, "y": [str(v) for v in values]}
            for name, values in footprint.daily.items()
        ],
        "y_title": "footprint",
    }
