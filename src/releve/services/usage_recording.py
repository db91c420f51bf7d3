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

from collections.abc import Callable, Sequence
from datetime import datetime
from uuid import UUID

from releve.services import event_errors
from releve.services.ports import UnitOfWork, UnitOfWorkFactory
from releve.services.records import AggregateKey, StoredEvent
from releve.services.transactions import retry_on_conflict
from releve.services.usage_fold import (
    Entry,
    Fold,
    MatchContext,
    Outcome,
    Slot,
    bucket_text,
    domain_event,
    merged,
    parse_bucket,
)
from releve.services.usage_hours import local_day, local_hour

__all__ = ["AggregateRebuilder", "UsageRecorder", "bucket_text", "domain_event", "parse_bucket"]

REMATCH_CHUNK = 1000


class UsageRecorder:
    """Matches events and keeps the per-hour aggregates; always inside the caller's unit of
    work (it never commits)."""

    def __init__(self, now: Callable[[], datetime]) -> None:
        self._now = now

    def record(self, uow: UnitOfWork, organization_id: UUID, events: Sequence[StoredEvent]) -> None:
        """Match new events (setting their status, reason and subscription) and add the
        matched ones to the aggregates. Call before or after inserting them, same transaction."""
        context = MatchContext(uow, organization_id)
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
        self, context: MatchContext, events: Sequence[StoredEvent]
    ) -> list[tuple[StoredEvent, Outcome]]:
        context.load_metrics({e.code for e in events})
        context.load_subscriptions({e.external_subscription_id for e in events})
        context.load_zones([s for subs in context.subscriptions.values() for s in subs])
        fold = Fold(context)
        outcomes = [(event, fold.add(event)) for event in events]
        self._write(fold)
        return outcomes

    def _write(self, fold: Fold) -> None:
        """Merge the fold's fresh states into the stored ones (hourly, then daily rollup)."""
        if not fold.fresh:
            return
        context = fold.context
        uow, org = context.uow, context.organization_id
        entries = list(fold.fresh.values())
        uow.usage_aggregates.lock(sorted({e.key.subscription_id for e in entries}))
        now = self._now()
        uow.usage_aggregates.upsert(org, merged(org, entries, uow.usage_aggregates.load), now)
        zones = {s.id.int: context.zones[s.customer_id] for s in fold.subscriptions.values()}
        days: dict[Slot, Entry] = {}
        for (sid, cid, text, hour), entry in fold.fresh.items():
            at = fold.hours.day(hour, zones[sid])
            day = days.get((sid, cid, text, at))
            if day is None:
                key = AggregateKey(entry.key.subscription_id, entry.key.charge_id, text, at)
                days[sid, cid, text, at] = Entry(key, entry.aggregator, entry.state)
            else:
                day.state = entry.aggregator.merge(day.state, entry.state)
        daily = merged(org, list(days.values()), uow.usage_aggregates.load_daily)
        uow.usage_aggregates.upsert_daily(org, daily, now)

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
        context = MatchContext(uow, organization_id)
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
