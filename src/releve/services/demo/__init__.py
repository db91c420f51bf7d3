"""The demo seed behind `releve demo` and `make run`: one organization a newcomer can explore,
built through the same services as the API.

- the catalog (`catalog.py`): billable metrics of the three verticals we serve (telecom,
  utility, cloud) and plans using standard, graduated (with flat fees), volume and package
  charges, charge filters with their own prices, a charge minimum, a minimum commitment and
  plan fees paid in advance, each in the currencies its customers use;
- a dozen customers (`customers.py`) in EUR, USD, JPY and NZD, from Paris to Auckland, each
  subscribed (calendar or anniversary billing) about three months ago;
- three months of usage (`usage_generator.py`, a seeded `random.Random`: the same seed gives
  the same events), ingested through `EventService.ingest_batch` in bulk calls of up to
  `PENDING_EVENTS` (the path of `releve events import`: one group commit, bulk insert and
  aggregate upsert per call), so events are matched and aggregated as in production;
- the business moments of `moments.py` — coupons, prepaid credits, a one-off invoice, credit
  notes (by hand and on termination), a usage alert, progressive billing — at their own time,
  and at the end a webhook endpoint, a budget, payments and a dashboard user;
- billing runs as time goes by, and a last one at the clock's now: every past period has its
  invoice, issued on the day it was due.

Why bulk calls: the seed used to send API-sized batches (100 events, one customer each), about
400 transactions each loading plans and aggregates; on PostgreSQL the round trips dominated.
Events are now held until the next billing day or `PENDING_EVENTS`, whichever comes first, so
every invoice still sees exactly the events before it (no moment reads pending usage; usage
alerts are evaluated at each flush, every few days, as a busy evaluator would).

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
from typing import Any
from uuid import UUID
from zoneinfo import ZoneInfo

from releve.services.demo.catalog import METRICS, PLANS, localized_plan, plan_code
from releve.services.demo.customers import CUSTOMERS, DemoCustomer
from releve.services.demo.moments import (
    EVALUATED,
    SUBSCRIPTION_EXTRAS,
    Finale,
    Moment,
    finale,
    moments,
    setup,
)
from releve.services.demo.ports import DemoServices, ReplayClock
from releve.services.demo.usage_generator import generate_usage
from releve.services.ports import Clock, CurrencyCatalog

__all__ = [
    "CUSTOMERS",
    "DEMO_ORGANIZATION",
    "METRICS",
    "PLANS",
    "DemoSeed",
    "DemoService",
    "DemoServices",
    "ReplayClock",
]

DEMO_ORGANIZATION = "Relevé Demo"
UNMATCHED_SAMPLE = 3
# Events sent in one bulk call (`ingest_batch` with a raised limit, as `events import` does):
# one group commit per call, so a few large calls instead of hundreds of API-sized ones.
PENDING_EVENTS = 5_000
HISTORY_DAYS = 92  # "three months ago", give or take a few days per customer
Progress = Callable[[str, int, int], None]  # (what, done, total) story steps


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
    moments: int = 0
    finale: Finale | None = None  # budget, payments and the dashboard user, at the clock's now


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

    def seed(
        self,
        *,
        api_key: str | None = None,
        scale: float = 1.0,
        seed: int = 7,
        progress: Progress | None = None,
    ) -> DemoSeed:
        """Create the demo organization and its data; deterministic for a given `seed` and
        clock. `scale` multiplies the volume of the chatty metrics (tests use a small one).
        `progress(what, done, total)` is called as the story advances (the CLI's bar)."""
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
        setup(services, org)

        # The story, in order: each subscription starts, events arrive at their own time, and
        # the business moments happen (kinds 0, 1, 2: at the same instant, in that order).
        story: list[tuple[datetime, int, str, Any]] = []
        for index, (customer, start) in enumerate(zip(CUSTOMERS, starts, strict=True)):
            story.append((start, 0, customer.external_id, (index, customer)))
            for at, code, properties in generate_usage(customer, start, now, rng, scale):
                story.append((at, 1, customer.external_id, (code, properties)))
        plot = moments({c.external_id: s for c, s in zip(CUSTOMERS, starts, strict=True)})
        story += [(m.at, 2, m.label, m) for m in plot if m.at < now]
        story.sort(key=lambda item: item[:3])

        invoices = 0
        total = 0
        batch: list[dict[str, Any]] = []
        billing_days = billing_days_of(starts, now)
        billed_day = replay.at.date()
        sequence = 0
        evaluated: dict[str, UUID] = {}
        steps = len(story)

        def flush() -> None:
            """Send the pending events in one bulk call, then evaluate usage thresholds and
            alerts as the server's evaluator does after an ingest commit."""
            nonlocal total, batch
            if batch:
                total += services.events.ingest_batch(org, batch, max_batch=len(batch)).inserted
                batch = []
            for subscription_id in evaluated.values():
                services.progressive_billing.evaluate(org, subscription_id)
                services.alerts.evaluate(org, subscription_id)

        for step, (at, kind, key, item) in enumerate(story):
            if at.date() != billed_day:  # a new (UTC) day: bill what fell due, if anything may
                billed_day = at.date()
                if billed_day in billing_days:
                    flush()
                    replay.at = datetime.combine(billed_day, time(0, 5), tzinfo=UTC)
                    invoices += len(services.billing.bill_due(replay.at).issued)
                    if progress is not None:
                        progress(f"Billing {billed_day:%d %b}", step, steps)
            if kind == 0:
                index, customer = item
                replay.at = max(replay.at, at)
                view = services.subscriptions.create(
                    org,
                    {
                        "external_customer_id": customer.external_id,
                        "external_id": customer.external_id,
                        "plan_code": plan_code(customer.plan, customer.currency),
                        "name": f"{customer.name} ({customer.vertical})",
                        "billing_time": customer.billing_time,
                        "subscription_at": at.isoformat(),
                        **SUBSCRIPTION_EXTRAS.get(customer.external_id, {}),
                    },
                )
                if customer.external_id in EVALUATED:
                    evaluated[customer.external_id] = view.subscription.id
                continue
            if kind == 2:  # no moment reads pending usage: they stay pending
                replay.at = max(replay.at, at)
                moment: Moment = item
                moment.act(services, org)
                continue
            code, properties = item
            batch.append(
                {
                    "transaction_id": f"demo_{sequence:06d}",
                    "external_subscription_id": key,
                    "code": code,
                    "timestamp": at.isoformat(),
                    "properties": properties,
                }
            )
            sequence += 1
            replay.at = max(replay.at, at + timedelta(seconds=1))
            if len(batch) >= PENDING_EVENTS:
                flush()
                if progress is not None:
                    progress(f"Events of {at:%d %b}", step, steps)
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
        if progress is not None:
            progress("Budget, payments, webhooks", steps, steps)
        ending = finale(services, org)
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
            moments=sum(1 for m in plot if m.at < now),
            finale=ending,
        )
