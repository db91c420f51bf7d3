"""Event ingestion: validate, deduplicate forever by (organization, transaction_id), append.

Set-based for speed: per batch one existence query, one metric-code query and one multi-row
insert, in one transaction. All-or-nothing: any invalid event or transaction_id conflict stores
nothing. An exact replay (same payload hash) is accepted and stores nothing. A concurrent request
that wins the unique key makes our commit fail; the whole attempt is then re-run (it sees the
winner's rows), so races end in a replay or a 422, never a 500.

Every new event is matched to a subscription and added to the usage aggregates in the same
transaction (`releve.services.usage_recording`). Events that cannot be counted are stored
`unmatched` with a reason (`unknown_metric_code`, `unknown_subscription`,
`outside_subscription`, `missing_aggregation_property`…), never dropped; they are counted as
soon as what they lacked exists (a metric, a subscription covering their time).
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any
from uuid import UUID

from releve.services.errors import NotFound, ValidationFailed
from releve.services.event_input import EventDraft, parse_event
from releve.services.pagination import Page, PageRequest
from releve.services.ports import Clock, EventFilter, UnitOfWork, UnitOfWorkFactory
from releve.services.records import (
    EVENT_MATCHED,
    EVENT_UNMATCHED,
    UNKNOWN_METRIC_CODE,
    StoredEvent,
)
from releve.services.transactions import retry_on_conflict
from releve.services.usage_recording import UsageRecorder

MAX_BATCH = 100


@dataclass(frozen=True, slots=True)
class IngestResult:
    """The events as stored, in request order (replays show the stored original)."""

    events: list[StoredEvent]
    inserted: int


class EventService:
    def __init__(
        self,
        uow: UnitOfWorkFactory,
        clock: Clock,
        max_batch: int = MAX_BATCH,
        recorder: UsageRecorder | None = None,
    ) -> None:
        self._uow = uow
        self._clock = clock
        self.max_batch = max_batch
        self._recorder = recorder or UsageRecorder(clock.now)

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
        def attempt() -> IngestResult:
            with self._uow() as uow:
                result = self._insert(uow, organization_id, drafts)
                uow.commit()
            return result

        return retry_on_conflict(attempt)

    def _insert(
        self, uow: UnitOfWork, organization_id: UUID, drafts: list[EventDraft]
    ) -> IngestResult:
        tx_ids = {d.transaction_id for d in drafts}
        existing = uow.events.find_many(organization_id, tx_ids)
        errors: dict[str, Any] = {}
        seen: dict[str, str] = {tx: e.payload_hash for tx, e in existing.items()}
        fresh: list[tuple[int, EventDraft]] = []
        for index, d in enumerate(drafts):
            known = seen.get(d.transaction_id)
            if known is None:
                seen[d.transaction_id] = d.payload_hash
                fresh.append((index, d))
            elif known != d.payload_hash:
                errors[str(index)] = {"transaction_id": ["value_already_exist"]}
        if errors:
            raise ValidationFailed(errors)
        now = self._clock.now()
        rows = [
            StoredEvent(
                id=uuid.uuid4(),
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
            for _, d in fresh
        ]
        if rows:
            # Sets each event's status and subscription, and updates the aggregates.
            self._recorder.record(uow, organization_id, rows)
            uow.events.add_many(rows)
        stored = {**existing, **{e.transaction_id: e for e in rows}}
        return IngestResult([stored[d.transaction_id] for d in drafts], len(rows))

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
