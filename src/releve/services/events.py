"""Event ingestion: validate, deduplicate forever by (organization, transaction_id), append.

Validation (parsing, hashing) runs in the caller's thread; the validated batch then joins a
group commit (`releve.services.ingest_batcher`): concurrent batches share one transaction with
one existence query, one metric query, one aggregate upsert and one insert. Per batch,
all-or-nothing: any invalid event or transaction_id conflict stores nothing of that batch. An
exact replay (same payload hash) is accepted and stores nothing. A concurrent writer that wins
the unique key makes the commit fail; the group is then re-run (it sees the winner's rows), so
races end in a replay or a 422, never a 500.

Every new event is matched to a subscription and added to the usage aggregates in the same
transaction (`releve.services.usage_recording`). Events that cannot be counted are stored
`unmatched` with a reason (`unknown_metric_code`, `unknown_subscription`,
`outside_subscription`, `missing_aggregation_property`…), never dropped; they are counted as
soon as what they lacked exists (a metric, a subscription covering their time).
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Sequence
from typing import Any
from uuid import UUID

from releve.services.errors import NotFound, ValidationFailed
from releve.services.event_input import EventDraft, parse_event
from releve.services.ingest_batcher import GroupCommitter, IngestResult
from releve.services.pagination import Page, PageRequest
from releve.services.ports import Clock, EventFilter, UnitOfWorkFactory
from releve.services.records import EVENT_MATCHED, EVENT_UNMATCHED, StoredEvent
from releve.services.usage_recording import UsageRecorder

MAX_BATCH = 100
__all__ = ["MAX_BATCH", "EventService", "IngestResult"]


class EventService:
    def __init__(
        self,
        uow: UnitOfWorkFactory,
        clock: Clock,
        max_batch: int = MAX_BATCH,
        recorder: UsageRecorder | None = None,
        on_ingested: Callable[[UUID, Collection[UUID]], None] | None = None,
    ) -> None:
        self._uow = uow
        # After each commit: the subscriptions whose usage changed (`usage_evaluator.notify`).
        self._on_ingested = on_ingested
        self._clock = clock
        self.max_batch = max_batch
        self._recorder = recorder or UsageRecorder(clock.now)
        self._committer = GroupCommitter(uow, clock.now, self._recorder)

    def ingest_one(self, organization_id: UUID, raw: Any) -> StoredEvent:
        """One event; errors are keyed by field (not by index)."""
        draft = parse_event(raw, self._clock.now())
        if isinstance(draft, dict):
            raise ValidationFailed(draft)
        try:
            return self._store(organization_id, [draft]).events[0]
        except ValidationFailed as exc:
            raise ValidationFailed(exc.error_details.get("0", exc.error_details)) from None

    def ingest_batch(
        self, organization_id: UUID, raws: Sequence[Any], *, max_batch: int | None = None
    ) -> IngestResult:
        """Up to `max_batch` events, all or nothing; errors keyed by index: {"0": {...}}."""
        limit = self.max_batch if max_batch is None else max_batch
        if not raws:
            raise ValidationFailed.one("events", "no_events")
        if len(raws) > limit:
            raise ValidationFailed.one("events", "too_many_events")
        now = self._clock.now()
        drafts: list[EventDraft] = []
        errors: dict[str, Any] = {}
        for index, raw in enumerate(raws):
            draft = parse_event(raw, now)
            if isinstance(draft, dict):
                errors[str(index)] = draft
            else:
                drafts.append(draft)
        if errors:
            raise ValidationFailed(errors)
        return self._store(organization_id, drafts)

    def _store(self, organization_id: UUID, drafts: list[EventDraft]) -> IngestResult:
        # Joins the next group transaction (see `ingest_batcher`); returns after its commit.
        result = self._committer.submit(organization_id, drafts)
        if self._on_ingested is not None and result.inserted:
            touched = {e.subscription_id for e in result.events if e.subscription_id is not None}
            self._on_ingested(organization_id, touched)
        return result

    def get(self, organization_id: UUID, transaction_id: str) -> StoredEvent:
        with self._uow(read_only=True) as uow:
            event = uow.events.get(organization_id, transaction_id)
        if event is None:
            raise NotFound("event")
        return event

    def list(
        self, organization_id: UUID, filters: EventFilter, page: PageRequest
    ) -> Page[StoredEvent]:
        if filters.status not in (None, EVENT_MATCHED, EVENT_UNMATCHED):
            raise ValidationFailed.one("status", "value_is_invalid")
        with self._uow(read_only=True) as uow:
            items, total = uow.events.list(organization_id, filters, page)
        return Page(items, page, total)
