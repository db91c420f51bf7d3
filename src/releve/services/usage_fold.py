"""Matching events one by one and folding them into fresh per-hour states (the ingest's
per-event work; `usage_recording` loads what it needs and writes the result).

Kept apart from the recorder because it is the hot loop: the profile drove its shape (one
pass per event, per-group caches, int keys), see `Fold`.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, tzinfo
from typing import Any
from uuid import UUID

from releve.domain.aggregations import AggregateState, Aggregator, aggregator_for
from releve.domain.errors import DomainError
from releve.domain.filters import BucketKey, bucket_of
from releve.domain.metering import BillableMetric as DomainMetric
from releve.domain.periods import parse_timezone
from releve.domain.plans import Plan
from releve.domain.usage import Event
from releve.services.ports import UnitOfWork
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
from releve.services.usage_hours import LocalHours


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


class MatchContext:
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


_UNKNOWN_METRIC = Outcome(EVENT_UNMATCHED, UNKNOWN_METRIC_CODE, None)
_UNKNOWN_SUBSCRIPTION = Outcome(EVENT_UNMATCHED, UNKNOWN_SUBSCRIPTION, None)
_OUTSIDE = Outcome(EVENT_UNMATCHED, OUTSIDE_SUBSCRIPTION, None)
# (charge id, its int, filter specs, pricing group keys, aggregator) of a charge on one metric
_Charge = tuple[UUID, int, Any, Any, Aggregator[Any]]
# In-memory keys: (subscription id int, charge id int, bucket text, hour or day start). Ints,
# not UUIDs: `UUID.__hash__` is Python code, and these keys are hashed several times per event.
Slot = tuple[int, int, str, datetime]


@dataclass(slots=True)
class Entry:
    """A fresh state of one stored key, with the aggregator that folds and merges it."""

    key: AggregateKey
    aggregator: Aggregator[Any]
    state: AggregateState[Any]


class Fold:
    """Matches events one by one and folds the matched ones into fresh per-hour states.

    One pass per event (profile: per-event work dominates ingest): the subscription, then each
    charge of its plan on the event's metric adds the event to its (bucket, local hour) state.
    Adding is also the validation of the event's value: the first charge refusing it makes the
    event unmatched with the metric's error, and none of its states change (they are
    immutable values, assigned only once every charge accepted). A metric with no charge in
    the plan is validated on an empty state. Per group, not per event: the charges of (plan,
    code), each bucket's stored text, the local hour of each quarter hour.
    """

    def __init__(self, context: MatchContext) -> None:
        self.context = context
        self.fresh: dict[Slot, Entry] = {}
        self.subscriptions: dict[UUID, Subscription] = {}
        self._charges: dict[tuple[UUID, str], list[_Charge]] = {}
        self._validators: dict[str, Aggregator[Any]] = {}
        self._matched: dict[UUID, Outcome] = {}
        self._texts: dict[BucketKey, str] = {}
        self.hours = LocalHours()

    def add(self, event: StoredEvent) -> Outcome:
        """Where `event` goes (module docstring: the order of the reasons); folds it if matched."""
        context = self.context
        metric = context.metrics.get(event.code)
        if metric is None:
            return _UNKNOWN_METRIC
        candidates = context.subscriptions.get(event.external_subscription_id)
        if not candidates:
            return _UNKNOWN_SUBSCRIPTION
        moment = event.timestamp
        subscription = next((s for s in candidates if s.active_at(moment)), None)
        if subscription is None:
            return _OUTSIDE
        domain = domain_event(event)
        charges = self._charges_of(subscription.plan_id, event.code)
        try:
            if not charges:
                validator = self._validators.get(event.code)
                if validator is None:
                    validator = self._validators[event.code] = aggregator_for(metric)
                validator.add(validator.init(), domain)
            else:
                self._fold(subscription, charges, domain)
        except DomainError as error:
            return Outcome(EVENT_UNMATCHED, error.code, None)
        outcome = self._matched.get(subscription.id)
        if outcome is None:
            outcome = self._matched[subscription.id] = Outcome(EVENT_MATCHED, None, subscription)
            self.subscriptions[subscription.id] = subscription
        return outcome

    def _fold(self, subscription: Subscription, charges: list[_Charge], domain: Event) -> None:
        hour = self.hours(domain.timestamp, self.context.zones[subscription.customer_id])
        fresh, texts, sid = self.fresh, self._texts, subscription.id.int
        added = []
        for charge_id, cid, specs, group_keys, aggregator in charges:
            bucket = bucket_of(domain, specs, group_keys)
            text = texts.get(bucket)
            if text is None:
                text = texts[bucket] = bucket_text(bucket)
            at = (sid, cid, text, hour)
            entry = fresh.get(at)
            state = aggregator.init() if entry is None else entry.state
            # Raises for an unreadable value: nothing is assigned until every charge accepted.
            added.append((at, entry, charge_id, aggregator, aggregator.add(state, domain)))
        for at, entry, charge_id, aggregator, state in added:
            if entry is None:
                key = AggregateKey(subscription.id, charge_id, at[2], hour)
                fresh[at] = Entry(key, aggregator, state)
            else:
                entry.state = state

    def _charges_of(self, plan_id: UUID, code: str) -> list[_Charge]:
        charges = self._charges.get((plan_id, code))
        if charges is None:
            charges = self._charges[plan_id, code] = []
            for c in self.context.plan(plan_id).charges:
                if c.metric.code == code:
                    charge_id = UUID(c.id)
                    aggregator = aggregator_for(c.metric)
                    charges.append(
                        (charge_id, charge_id.int, c.filter_specs, c.pricing_group_keys, aggregator)
                    )
        return charges


def merged(
    organization_id: UUID,
    entries: list[Entry],
    load: Callable[[UUID, list[AggregateKey]], dict[AggregateKey, UsageAggregate]],
) -> list[UsageAggregate]:
    """Each fresh state merged with the stored state of its key (`load`), dumped to store."""
    existing = load(organization_id, [e.key for e in entries])
    merged = []
    for entry in entries:
        aggregator, state = entry.aggregator, entry.state
        stored = existing.get(entry.key)
        if stored is not None:
            state = aggregator.merge(aggregator.load_state(stored.state), state)
        merged.append(UsageAggregate(entry.key, aggregator.dump_state(state), state.events_count))
    return merged
