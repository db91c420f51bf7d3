"""Matching events to subscriptions and folding them into per-hour usage aggregates.

Matching (design.md §2): an event belongs to the subscription of its
`external_subscription_id` that is active at its timestamp (``started_at <= ts`` and
``terminated_at`` null or ``ts < terminated_at``). Otherwise it is stored `unmatched` with the
first reason that applies: `unknown_metric_code`, `unknown_subscription` (no subscription ever
had that external id), `outside_subscription` (none active at that time), or the metric's own
error when it cannot read the event's value (`missing_aggregation_property`, `invalid_value`…).

Aggregates: for each matched event and each charge of the subscription's plan on the event's
metric, the event is added to the state keyed by (subscription, charge, bucket, hour) where
bucket = `filters.bucket_of(event, charge filters, pricing_group_keys)` and hour = the start of
the event's hour **on the customer's wall clock** (stored in UTC). Local hours, not UTC hours,
because periods start at local midnight and some zones are offset by 30 or 45 minutes (India,
Nepal): an hour bucket must never straddle two periods.

Set-based, in the caller's transaction: the batch's events are grouped in memory per key, the
existing states of those keys are loaded in one query (after an advisory lock per subscription
on PostgreSQL), merged with `Aggregator.merge`, and written back in one upsert.

Daily rollup: the same fresh states are also merged per (subscription, charge, bucket, LOCAL
day of the hour, same zone) into `usage_daily_aggregates`, in the same transaction (one more
load and upsert per group), so a daily state is always the merge of its day's hourly states
(`merge` is associative and commutative: exact for every aggregation type). Readers take whole
days from it and only the partial edge days from the hours.

`rematch` recomputes one external id from the raw log (delete the aggregates, re-read the events
in chunks, re-match, re-aggregate): used when a subscription is created, upgraded, terminated or
re-planned, and by `releve aggregates rebuild`.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, tzinfo
from typing import Any
from uuid import UUID

from releve.domain.aggregations import AggregateState, Aggregator, aggregator_for
from releve.domain.errors import DomainError
from releve.domain.filters import BucketKey, bucket_of
from releve.domain.metering import BillableMetric as DomainMetric
from releve.domain.periods import local_date, local_midnight, parse_timezone
from releve.domain.plans import Plan
from releve.domain.usage import Event
from releve.services import event_errors
from releve.services.ports import UnitOfWork, UnitOfWorkFactory
from releve.services.records import (
    EVENT_MATCHED,
    EVENT_UNMATCHED,
    OUTSIDE_SUBSCRIPTION,
    UNKNOWN_METRIC_CODE,
    UNKNOWN_SUBSCRIPTION,
    AggregateKey,
    StoredEvent,
    Subscription,
    UsageAggregate,
)
from releve.services.transactions import retry_on_conflict

REMATCH_CHUNK = 1000


def bucket_text(key: BucketKey) -> str:
    """The stored form of a bucket key: compact JSON ``[filter index or null, [group values]]``."""
    return json.dumps(
        [key.filter_index, list(key.group)], separators=(",", ":"), ensure_ascii=False
    )


@functools.lru_cache(maxsize=65_536)
def parse_bucket(text: str) -> BucketKey:
    """Cached (BucketKey is immutable): a subscription has a handful of buckets, and current
    usage and billing parse one per hourly row read."""
    index, group = json.loads(text)
    return BucketKey(index, tuple(group))


def local_hour(moment: datetime, tz: tzinfo) -> datetime:
    """Start (in UTC) of the hour containing `moment` on the wall clock of `tz`."""
    local = moment.astimezone(tz)
    return local.replace(minute=0, second=0, microsecond=0).astimezone(UTC)


def local_day(hour: datetime, tz: tzinfo) -> datetime:
    """Start (in UTC) of the local day of `tz` containing the hour starting at `hour`."""
    return local_midnight(local_date(hour, tz), tz)


def domain_event(event: StoredEvent) -> Event:
    return Event(
        transaction_id=event.transaction_id,
        code=event.code,
        external_subscription_id=event.external_subscription_id,
        timestamp=event.timestamp,
        properties=event.properties,
        precise_total_amount_cents=event.precise_total_amount_cents,
    )


@dataclass(frozen=True, slots=True)
class Outcome:
    status: str
    reason: str | None
    subscription: Subscription | None


class _Context:
    """What one unit of work has loaded: metrics, subscriptions, plans, time zones (cached)."""

    def __init__(self, uow: UnitOfWork, organization_id: UUID) -> None:
        self.uow = uow
        self.organization_id = organization_id
        self.metrics: dict[str, DomainMetric | None] = {}
        self.subscriptions: dict[str, list[Subscription]] = {}
        self.plans: dict[UUID, Plan] = {}
        self.zones: dict[UUID, tzinfo] = {}
        self._org_zone: tzinfo | None = None

    def load_metrics(self, codes: Iterable[str]) -> None:
        missing = {c for c in codes if c not in self.metrics}
        if not missing:
            return
        found = self.uow.billable_metrics.live_by_codes(self.organization_id, missing)
        for code in missing:
            record = found.get(code)
            self.metrics[code] = None if record is None else record.to_domain()

    def load_subscriptions(self, external_ids: Iterable[str]) -> None:
        missing = {e for e in external_ids if e not in self.subscriptions}
        if not missing:
            return
        for e in missing:
            self.subscriptions[e] = []
        for sub in self.uow.subscriptions.for_external_ids(self.organization_id, missing):
            self.subscriptions[sub.external_id].append(sub)

    def plan(self, plan_id: UUID) -> Plan:
        if plan_id not in self.plans:
            stored = self.uow.plans.get_by_id(self.organization_id, plan_id)
            assert stored is not None, f"subscription plan {plan_id} is missing"
            self.plans[plan_id] = stored.plan
        return self.plans[plan_id]

    def load_zones(self, subscriptions: Iterable[Subscription]) -> None:
        customers = {s.customer_id for s in subscriptions} - set(self.zones)
        if not customers:
            return
        own = self.uow.customers.timezones(self.organization_id, customers)
        for customer_id in customers:
            name = own.get(customer_id)
            self.zones[customer_id] = parse_timezone(name) if name else self.org_zone()

    def org_zone(self) -> tzinfo:
        if self._org_zone is None:
            org = self.uow.organizations.get(self.organization_id)
            self._org_zone = parse_timezone(org.timezone) if org and org.timezone else UTC
        return self._org_zone


def classify(context: _Context, event: StoredEvent) -> Outcome:
    """Where `event` goes (see the module docstring for the order of the reasons)."""
    metric = context.metrics.get(event.code)
    if metric is None:
        return Outcome(EVENT_UNMATCHED, UNKNOWN_METRIC_CODE, None)
    candidates = context.subscriptions.get(event.external_subscription_id, [])
    if not candidates:
        return Outcome(EVENT_UNMATCHED, UNKNOWN_SUBSCRIPTION, None)
    subscription = next((s for s in candidates if s.active_at(event.timestamp)), None)
    if subscription is None:
        return Outcome(EVENT_UNMATCHED, OUTSIDE_SUBSCRIPTION, None)
    aggregator = aggregator_for(metric)
    try:
        aggregator.add(aggregator.init(), domain_event(event))
    except DomainError as error:
        return Outcome(EVENT_UNMATCHED, error.code, None)
    return Outcome(EVENT_MATCHED, None, subscription)


class UsageRecorder:
    """Matches events and keeps the per-hour aggregates; always inside the caller's unit of
    work (it never commits)."""

    def __init__(self, now: Callable[[], datetime]) -> None:
        self._now = now

    def record(self, uow: UnitOfWork, organization_id: UUID, events: Sequence[StoredEvent]) -> None:
        """Match new events (setting their status, reason and subscription) and add the
        matched ones to the aggregates. Call before or after inserting them, same transaction."""
        context = _Context(uow, organization_id)
        unmatched = []
        for event, outcome in self._match_and_aggregate(context, events):
            event.status = outcome.status
            event.unmatched_reason = outcome.reason
            event.subscription_id = outcome.subscription.id if outcome.subscription else None
            if outcome.subscription is None:
                unmatched.append(event)
        if unmatched:  # `event.error` webhooks, in this transaction (nothing on the matched path)
            event_errors.report(uow, organization_id, unmatched)

    def _match_and_aggregate(
        self, context: _Context, events: Sequence[StoredEvent]
    ) -> list[tuple[StoredEvent, Outcome]]:
        context.load_metrics({e.code for e in events})
        context.load_subscriptions({e.external_subscription_id for e in events})
        outcomes = []
        for event in events:
            outcome = classify(context, event)
            outcomes.append((event, outcome))
        self._aggregate(context, [(e, o.subscription) for e, o in outcomes if o.subscription])
        return outcomes

    def _aggregate(
        self, context: _Context, matched: Sequence[tuple[StoredEvent, Subscription]]
    ) -> None:
        if not matched:
            return
        subscriptions = {s.id: s for _, s in matched}
        context.load_zones(subscriptions.values())
        fresh: dict[AggregateKey, AggregateState[Any]] = {}
        aggregators: dict[AggregateKey, Aggregator[Any]] = {}
        # Per group, not per event: the charges of (plan, code) with their filter specs and
        # aggregator, and the stored text of each bucket (profile: these were rebuilt per event).
        charges_of: dict[tuple[UUID, str], list[tuple[UUID, Any, Any, Aggregator[Any]]]] = {}
        texts: dict[BucketKey, str] = {}
        for event, subscription in matched:
            wanted = charges_of.get((subscription.plan_id, event.code))
            if wanted is None:
                wanted = [
                    (UUID(c.id), c.filter_specs, c.pricing_group_keys, aggregator_for(c.metric))
                    for c in context.plan(subscription.plan_id).charges
                    if c.metric.code == event.code
                ]
                charges_of[subscription.plan_id, event.code] = wanted
            if not wanted:
                continue
            hour = local_hour(event.timestamp, context.zones[subscription.customer_id])
            domain = domain_event(event)
            for charge_id, specs, group_keys, aggregator in wanted:
                bucket = bucket_of(domain, specs, group_keys)
                text = texts.get(bucket)
                if text is None:
                    text = texts[bucket] = bucket_text(bucket)
                key = AggregateKey(subscription.id, charge_id, text, hour)
                state = fresh.get(key)
                if state is None:
                    aggregators[key] = aggregator
                    state = aggregator.init()
                fresh[key] = aggregator.add(state, domain)
        if not fresh:
            return
        uow, org = context.uow, context.organization_id
        uow.usage_aggregates.lock(sorted({k.subscription_id for k in fresh}))
        existing = uow.usage_aggregates.load(org, list(fresh))
        merged = []
        for key, state in fresh.items():
            aggregator = aggregators[key]
            stored = existing.get(key)
            if stored is not None:
                state = aggregator.merge(aggregator.load_state(stored.state), state)
            merged.append(UsageAggregate(key, aggregator.dump_state(state), state.events_count))
        now = self._now()
        uow.usage_aggregates.upsert(org, merged, now)
        self._roll_up(context, subscriptions, fresh, aggregators, now)

    @staticmethod
    def _roll_up(
        context: _Context,
        subscriptions: dict[UUID, Subscription],
        fresh: dict[AggregateKey, AggregateState[Any]],
        aggregators: dict[AggregateKey, Aggregator[Any]],
        now: datetime,
    ) -> None:
        """Add this group's fresh hourly states to their local days' rollup rows."""
        zones = {s.id: context.zones[s.customer_id] for s in subscriptions.values()}
        days: dict[AggregateKey, AggregateState[Any]] = {}
        day_aggregators: dict[AggregateKey, Aggregator[Any]] = {}
        starts: dict[tuple[UUID, datetime], datetime] = {}
        for key, state in fresh.items():
            at = starts.get((key.subscription_id, key.hour_start))
            if at is None:
                at = local_day(key.hour_start, zones[key.subscription_id])
                starts[key.subscription_id, key.hour_start] = at
            day = AggregateKey(key.subscription_id, key.charge_id, key.bucket, at)
            aggregator = aggregators[key]
            known = days.get(day)
            days[day] = state if known is None else aggregator.merge(known, state)
            day_aggregators[day] = aggregator
        uow, org = context.uow, context.organization_id
        existing = uow.usage_aggregates.load_daily(org, list(days))
        rows = []
        for day, state in days.items():
            aggregator = day_aggregators[day]
            stored = existing.get(day)
            if stored is not None:
                state = aggregator.merge(aggregator.load_state(stored.state), state)
            rows.append(UsageAggregate(day, aggregator.dump_state(state), state.events_count))
        uow.usage_aggregates.upsert_daily(org, rows, now)

    def rematch(
        self,
        uow: UnitOfWork,
        organization_id: UUID,
        external_id: str,
        since: datetime | None = None,
    ) -> int:
        """Recompute one external id from the raw event log: statuses, subscriptions and
        aggregates of its events with timestamp ≥ `since` (all when None). Returns the number
        of events read. Same transaction as the caller's change."""
        context = _Context(uow, organization_id)
        context.load_subscriptions([external_id])
        subscriptions = context.subscriptions[external_id]
        uow.usage_aggregates.lock([s.id for s in subscriptions])
        start = since
        if since is not None:
            # Aggregates are per local hour and rolled up per local day: start from the
            # earliest local day `since` can touch, so each dropped daily row is rebuilt whole.
            context.load_zones(subscriptions)
            days = [
                local_day(
                    local_hour(since, context.zones[s.customer_id]), context.zones[s.customer_id]
                )
                for s in subscriptions
            ]
            start = min(days, default=since)
        for subscription in subscriptions:
            uow.usage_aggregates.delete(organization_id, subscription.id, start)
        after: tuple[datetime, str] | None = None
        total = 0
        while True:
            chunk = uow.events.chunk_for_external_id(
                organization_id, external_id, since=start, after=after, limit=REMATCH_CHUNK
            )
            if not chunk:
                return total
            total += len(chunk)
            outcomes = self._match_and_aggregate(context, chunk)
            changes = [
                (e.id, o.status, o.reason, o.subscription.id if o.subscription else None)
                for e, o in outcomes
                if (e.status, e.unmatched_reason, e.subscription_id)
                != (o.status, o.reason, o.subscription.id if o.subscription else None)
            ]
            if changes:
                uow.events.set_matching(organization_id, changes)
            after = (chunk[-1].timestamp, chunk[-1].transaction_id)


class AggregateRebuilder:
    """`releve aggregates rebuild`: recompute every aggregate and event match from the raw log.

    One external id per transaction (delete its aggregates, re-read its events in chunks of
    `REMATCH_CHUNK`, re-aggregate), so a rebuild never holds one huge transaction and can run
    beside live ingestion: an ingest of the same subscription waits for that external id's
    transaction (advisory lock on PostgreSQL, the write lock on SQLite).
    """

    def __init__(self, uow: UnitOfWorkFactory, recorder: UsageRecorder) -> None:
        self._uow = uow
        self._recorder = recorder

    def organizations(self) -> list[UUID]:
        with self._uow(read_only=True) as uow:
            return uow.organizations.ids()

    def external_ids(self, organization_id: UUID) -> list[str]:
        """Every external id with events or subscriptions, sorted."""
        with self._uow(read_only=True) as uow:
            ids = uow.events.external_ids(organization_id)
            ids |= uow.subscriptions.external_ids(organization_id)
        return sorted(ids)

    def rebuild(self, organization_id: UUID, external_id: str) -> int:
        """Rebuild one external id; returns how many events were read."""

        def attempt() -> int:
            with self._uow() as uow:
                count = self._recorder.rematch(uow, organization_id, external_id)
                uow.commit()
            return count

        return retry_on_conflict(attempt)
