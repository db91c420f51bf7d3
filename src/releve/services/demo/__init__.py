"""The demo seed behind `releve demo` and `make run`: one organization a newcomer can explore,
built through the same services as the API.

- the catalog (`catalog.py`): billable metrics of the three verticals we serve (telecom,
  utility, cloud) and plans using standard, graduated (with flat fees), volume and package
  charges, charge filters with their own prices, a charge minimum, a minimum commitment and
  plan fees paid in advance, each in the currencies its customers use;
- a dozen customers (`customers.py`) in EUR, USD, JPY and NZD, from Paris to Auckland, each
  subscribed (calendar or anniversary billing) about three months ago;
- three months of usage (`usage_generator.py`, a seeded `random.Random`: the same seed gives
  the same events), ingested in batches like `POST /events/batch`, so events are matched and
  the usage aggregates are written as in production;
- billing runs as time goes by, and a last one at the clock's now: every past period has its
  invoice, issued on the day it was due.

The seed replays the past: its services (built by `build`, see `bootstrap.Container.demo`) run
on a `ReplayClock` the seeder moves forward, so the organization, customers and subscriptions
are created about three months ago, events arrive at their own time and invoices are issued
when due, exactly as if Relevé had been running all along.

On purpose, `UNMATCHED_SAMPLE` events carry a misspelt code (`api_call`): the event explorer's
"unmatched" filter then has something to show. Every other event matches a subscription.
"""

from __future__ import annotations

import calendar
import random
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any, Protocol
from uuid import UUID
from zoneinfo import ZoneInfo

from releve.services.billable_metrics import BillableMetricService
from releve.services.billing import BillingService
from releve.services.customers import CustomerService
from releve.services.demo.catalog import METRICS, PLANS, localized_plan, plan_code
from releve.services.demo.customers import CUSTOMERS, DemoCustomer
from releve.services.demo.usage_generator import generate_usage
from releve.services.events import EventService
from releve.services.organizations import OrganizationService
from releve.services.plans import PlanService
from releve.services.ports import Clock, CurrencyCatalog
from releve.services.subscriptions import SubscriptionService

__all__ = ["CUSTOMERS", "DEMO_ORGANIZATION", "METRICS", "PLANS", "DemoSeed", "DemoService"]

DEMO_ORGANIZATION = "Relevé Demo"
UNMATCHED_SAMPLE = 3
PENDING_EVENTS = 2_000  # events sent together, in batches of 100 per customer
HISTORY_DAYS = 92  # "three months ago", give or take a few days per customer


class DemoServices(Protocol):
    """The services the seeder uses (a `bootstrap.Container` has them all)."""

    @property
    def organizations(self) -> OrganizationService: ...
    @property
    def billable_metrics(self) -> BillableMetricService: ...
    @property
    def customers(self) -> CustomerService: ...
    @property
    def plans(self) -> PlanService: ...
    @property
    def subscriptions(self) -> SubscriptionService: ...
    @property
    def events(self) -> EventService: ...
    @property
    def billing(self) -> BillingService: ...


class ReplayClock:
    """A clock the seeder sets: the past it replays, never beyond the real clock's now."""

    def __init__(self, at: datetime) -> None:
        self.at = at

    def now(self) -> datetime:
        return self.at


@dataclass(frozen=True, slots=True)
class DemoSeed:
    organization_id: UUID
    api_key: str
    customer_external_id: str
    events: int
    customers: int = 0
    metrics: int = 0
    plans: int = 0
    invoices: int = 0
    unmatched: int = 0


def subscription_start(customer: DemoCustomer, index: int, now: datetime) -> datetime:
    """Local midnight, about three months before `now`, staggered by customer."""
    tz = ZoneInfo(customer.timezone)
    day = now.astimezone(tz).date() - timedelta(days=HISTORY_DAYS + index % 6)
    return datetime.combine(day, time(), tzinfo=tz).astimezone(UTC)


def billing_days_of(starts: list[datetime], now: datetime) -> set[date]:
    """The UTC days right after a period may end (a local first of the month, or the day of the
    month a subscription started), where the replay runs the billing job. Anything this misses
    is billed by the last run, at `now`."""
    days: set[date] = set()
    for customer, start in zip(CUSTOMERS, starts, strict=True):
        tz = ZoneInfo(customer.timezone)
        local = start.astimezone(tz)
        day = 1 if customer.billing_time == "calendar" else local.day
        year, month = local.year, local.month
        boundary = start
        while boundary <= now:
            month, year = (1, year + 1) if month == 12 else (month + 1, year)
            last = calendar.monthrange(year, month)[1]
            boundary = datetime.combine(date(year, month, min(day, last)), time(), tzinfo=tz)
            days.add(boundary.astimezone(UTC).date() + timedelta(days=1))
    return days


class DemoService:
    def __init__(
        self, clock: Clock, build: Callable[[Clock], DemoServices], currency: CurrencyCatalog
    ) -> None:
        self._clock = clock
        self._build = build
        self._currency = currency

    def seed(self, *, api_key: str | None = None, scale: float = 1.0, seed: int = 7) -> DemoSeed:
        """Create the demo organization and its data; deterministic for a given `seed` and
        clock. `scale` multiplies the volume of the chatty metrics (tests use a small one)."""
        now = self._clock.now()
        rng = random.Random(seed)
        starts = [subscription_start(c, i, now) for i, c in enumerate(CUSTOMERS)]
        replay = ReplayClock(min(starts) - timedelta(days=1))
        services = self._build(replay)
        created = services.organizations.create(
            DEMO_ORGANIZATION, default_currency="EUR", api_key=api_key
        )
        org = created.organization_id
        for metric in METRICS:
            services.billable_metrics.create(org, metric)
        plans = sorted({(c.plan, c.currency) for c in CUSTOMERS})
        by_code = {p["code"]: p for p in PLANS}
        for code, code_currency in plans:
            services.plans.create(org, localized_plan(by_code[code], self._currency(code_currency)))
        for customer in CUSTOMERS:
            services.customers.upsert(org, customer.payload())

        # The story, in order: each subscription starts, then events arrive at their own time.
        story: list[tuple[datetime, int, Any]] = []
        for index, (customer, start) in enumerate(zip(CUSTOMERS, starts, strict=True)):
            story.append((start, 0, (index, customer)))
            for at, code, properties in generate_usage(customer, start, now, rng, scale):
                story.append((at, 1, (customer.external_id, code, properties)))
        story.sort(key=lambda item: (item[0], item[1], str(item[2][0])))

        invoices = 0
        total = 0
        batch: list[dict[str, Any]] = []
        billing_days = billing_days_of(starts, now)
        billed_day = replay.at.date()
        sequence = 0

        def flush() -> None:
            """Send the pending events, one customer per batch (a batch then loads one plan)."""
            nonlocal total, batch
            by_customer: dict[str, list[dict[str, Any]]] = {}
            for payload in batch:
                by_customer.setdefault(payload["external_subscription_id"], []).append(payload)
            step = services.events.max_batch
            for payloads in by_customer.values():
                for first in range(0, len(payloads), step):
                    chunk = payloads[first : first + step]
                    total += services.events.ingest_batch(org, chunk).inserted
            batch = []

        for at, kind, item in story:
            if at.date() != billed_day:  # a new (UTC) day: bill what fell due, if anything may
                billed_day = at.date()
                if billed_day in billing_days:
                    flush()
                    replay.at = datetime.combine(billed_day, time(0, 5), tzinfo=UTC)
                    invoices += len(services.billing.bill_due(replay.at).issued)
            if kind == 0:
                flush()
                index, customer = item
                replay.at = max(replay.at, at)
                services.subscriptions.create(
                    org,
                    {
                        "external_customer_id": customer.external_id,
                        "external_id": customer.external_id,
                        "plan_code": plan_code(customer.plan, customer.currency),
                        "name": f"{customer.name} ({customer.vertical})",
                        "billing_time": customer.billing_time,
                        "subscription_at": at.isoformat(),
                    },
                )
                continue
            external_id, code, properties = item
            batch.append(
                {
                    "transaction_id": f"demo_{sequence:06d}",
                    "external_subscription_id": external_id,
                    "code": code,
                    "timestamp": at.isoformat(),
                    "properties": properties,
                }
            )
            sequence += 1
            replay.at = max(replay.at, at + timedelta(seconds=1))
            if len(batch) >= PENDING_EVENTS:
                flush()
        replay.at = now
        batch += [
            {
                "transaction_id": f"demo_typo_{n}",
                "external_subscription_id": CUSTOMERS[0].external_id,
                "code": "api_call",  # no metric has this code: unmatched on purpose
                "timestamp": (now - timedelta(hours=n + 1)).isoformat(),
                "properties": {"region": "eu"},
            }
            for n in range(UNMATCHED_SAMPLE)
        ]
        flush()
        invoices += len(services.billing.bill_due(now).issued)
        return DemoSeed(
            org,
            created.api_key,
            CUSTOMERS[0].external_id,
            total,
            customers=len(CUSTOMERS),
            metrics=len(METRICS),
            plans=len(plans),
            invoices=invoices,
            unmatched=UNMATCHED_SAMPLE,
        )
