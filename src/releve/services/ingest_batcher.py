"""Group commit: the validated batches of concurrent requests share one transaction.

Why: a durable commit costs a WAL flush, and on SQLite only one transaction writes at a time, so
one commit per 100-event request makes request threads queue on the write lock. Here the first
request thread that finds no commit in progress becomes the *leader*: it takes every pending
batch (up to `max_events`), and in one unit of work deduplicates them, matches and aggregates
their new events, inserts them and commits. Batches arriving meanwhile wait and form the next
group. Each request returns only after the commit that contains its batch (or with its own
error), so a 2xx still means "stored and counted".

Per-batch semantics are those of one batch alone, applied in arrival order:
- validation happened before `submit` (a batch that fails it never joins a group);
- a batch whose transaction_id is already stored — or stored by an earlier batch of the same
  group — with another payload is rejected with its per-index 422 and stores nothing; the other
  batches of the group go on;
- an exact replay stores nothing and returns the stored original;
- a unique-key race with another process re-runs the whole group (it then sees the winner);
- any other failure of the group transaction (e.g. a value one store refuses) re-runs each batch
  of the group alone, so one bad batch can only fail itself.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from uuid import UUID

from releve.services.errors import ValidationFailed
from releve.services.event_input import EventDraft
from releve.services.ids import time_ordered_id
from releve.services.ports import UnitOfWork, UnitOfWorkFactory
from releve.services.records import EVENT_UNMATCHED, UNKNOWN_METRIC_CODE, StoredEvent
from releve.services.transactions import retry_on_conflict
from releve.services.usage_recording import UsageRecorder

# Events per group transaction: large enough to absorb every connection's batch at once, small
# enough that one group's transaction stays short (the write lock is held while it runs).
MAX_GROUP_EVENTS = 5_000


@dataclass(frozen=True, slots=True)
class IngestResult:
    """The events as stored, in request order (replays show the stored original)."""

    events: list[StoredEvent]
    inserted: int


@dataclass(eq=False, slots=True)
class _Batch:
    organization_id: UUID
    drafts: Sequence[EventDraft]
    result: IngestResult | None = None
    error: BaseException | None = None
    done: bool = False


@dataclass(slots=True)
class _Plan:
    """What one attempt decided, applied to the batches only once its commit succeeded."""

    results: dict[_Batch, IngestResult] = field(default_factory=dict)
    rejected: dict[_Batch, ValidationFailed] = field(default_factory=dict)


class GroupCommitter:
    """One per process (per `EventService`): at most one group transaction in flight."""

    def __init__(
        self,
        uow: UnitOfWorkFactory,
        now: Callable[[], datetime],
        recorder: UsageRecorder,
        max_events: int = MAX_GROUP_EVENTS,
    ) -> None:
        self._uow = uow
        self._now = now
        self._recorder = recorder
        self.max_events = max_events
        self._cond = threading.Condition()
        self._pending: list[_Batch] = []
        self._busy = False

    def submit(self, organization_id: UUID, drafts: Sequence[EventDraft]) -> IngestResult:
        """Store one validated batch, all or nothing; returns after its commit."""
        batch = _Batch(organization_id, drafts)
        with self._cond:
            self._pending.append(batch)
            while not batch.done:
                if self._busy:
                    self._cond.wait()
                    continue
                self._busy = True
                group = self._take()
                self._cond.release()
                try:
                    self._commit(group)
                finally:
                    self._cond.acquire()
                    self._busy = False
                    self._cond.notify_all()
        if batch.error is not None:
            raise batch.error
        assert batch.result is not None
        return batch.result

    def _take(self) -> list[_Batch]:
        """The oldest pending batches, at least one, up to `max_events` events."""
        group, size = [], 0
        while self._pending and (
            not group or size + len(self._pending[0].drafts) <= self.max_events
        ):
            batch = self._pending.pop(0)
            group.append(batch)
            size += len(batch.drafts)
        return group

    def _commit(self, group: list[_Batch]) -> None:
        try:
            try:
                self._apply(retry_on_conflict(lambda: self._attempt(group)))
            except Exception as exc:  # isolated below: re-raised per batch
                if len(group) == 1:
                    group[0].error = exc
                else:
                    for batch in group:  # alone, so one bad batch fails only itself
                        try:
                            self._apply(retry_on_conflict(lambda b=batch: self._attempt([b])))
                        except Exception as alone:  # this batch's own error
                            batch.error = alone
        except BaseException as exc:  # KeyboardInterrupt…: no waiter may hang
            for batch in group:
                if not batch.done and batch.error is None and batch.result is None:
                    batch.error = exc
            raise
        finally:
            for batch in group:
                batch.done = True

    @staticmethod
    def _apply(plan: _Plan) -> None:
        for batch, result in plan.results.items():
            batch.result = result
        for batch, error in plan.rejected.items():
            batch.error = error

    def _attempt(self, group: list[_Batch]) -> _Plan:
        plan = _Plan()
        with self._uow() as uow:
            fresh: list[StoredEvent] = []
            for org in dict.fromkeys(b.organization_id for b in group):
                mine = [b for b in group if b.organization_id == org]
                new = self._decide(uow, org, mine, plan)
                if new:
                    # Sets each event's status and subscription, and updates the aggregates.
                    self._recorder.record(uow, org, new)
                    fresh.extend(new)
            if fresh:
                uow.events.add_many(fresh)
            uow.commit()
        return plan

    def _decide(
        self, uow: UnitOfWork, organization_id: UUID, batches: list[_Batch], plan: _Plan
    ) -> list[StoredEvent]:
        """Deduplicate the batches of one organization in order; returns their new events."""
        tx_ids = {d.transaction_id for b in batches for d in b.drafts}
        stored: dict[str, StoredEvent] = dict(uow.events.find_many(organization_id, tx_ids))
        now = self._now()
        new: list[StoredEvent] = []
        for batch in batches:
            mine: dict[str, StoredEvent] = {}
            errors: dict[str, Any] = {}
            for index, d in enumerate(batch.drafts):
                known = mine.get(d.transaction_id) or stored.get(d.transaction_id)
                if known is None:
                    mine[d.transaction_id] = _new_event(organization_id, d, now)
                elif known.payload_hash != d.payload_hash:
                    errors[str(index)] = {"transaction_id": ["value_already_exist"]}
            if errors:
                plan.rejected[batch] = ValidationFailed(errors)
                continue
            stored.update(mine)
            new.extend(mine.values())
            plan.results[batch] = IngestResult(
                [stored[d.transaction_id] for d in batch.drafts], len(mine)
            )
        return new


def _new_event(organization_id: UUID, d: EventDraft, now: datetime) -> StoredEvent:
    return StoredEvent(
        id=time_ordered_id(),  # appended to the primary-key index, not scattered in it
        organization_id=organization_id,
        transaction_id=d.transaction_id,
        external_subscription_id=d.external_subscription_id,
        code=d.code,
        timestamp=d.timestamp,
        properties=d.properties,
        precise_total_amount_cents=d.precise_total_amount_cents,
        payload_hash=d.payload_hash,
        created_at=now,
        status=EVENT_UNMATCHED,
        unmatched_reason=UNKNOWN_METRIC_CODE,
    )
