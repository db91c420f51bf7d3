"""`event.error` webhooks: an event stored `unmatched` (it cannot be billed now) is reported.

Lago documents two shapes (api-reference/webhooks/messages): the per-event `event.error`
(`object_type` `event_error`: `status`, `error`, `message`, `input_params`), marked deprecated
since Lago v0.50 there, and its replacement `events.errors`, a list of transaction ids per error
sent by an hourly health check. Relevé sends the per-event `event.error`: it is written in the
ingest transaction that stores the event (`UsageRecorder.record`), so a receiver learns at once,
and exactly once, about each event that will not be counted, and a rolled-back batch reports
nothing. `message` is Lago's error code; `unmatched_reason` and `lago_event_id` are additive
(Relevé's reason, as listed by `GET /events?status=unmatched`).

Only new events are reported: a later rematch (a metric or subscription created) that counts
the event sends nothing, nor does a rematch that leaves it unmatched.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC
from typing import Any, cast
from uuid import UUID

from releve.services.ports import UnitOfWork
from releve.services.records import (
    OUTSIDE_SUBSCRIPTION,
    UNKNOWN_METRIC_CODE,
    UNKNOWN_SUBSCRIPTION,
    StoredEvent,
)
from releve.services.webhook_ports import WebhookUnitOfWork

WEBHOOK_TYPE = "event.error"
OBJECT_TYPE = "event_error"

# Relevé's reason → (HTTP status, Lago's error code); any other reason is the metric's own
# complaint about the event's value (`missing_aggregation_property`, `invalid_value`…): a 422.
_NOT_FOUND = {
    UNKNOWN_METRIC_CODE: "billable_metric_not_found",
    UNKNOWN_SUBSCRIPTION: "subscription_not_found",
    OUTSIDE_SUBSCRIPTION: "subscription_not_found",
}


def payload(event: StoredEvent) -> dict[str, Any]:
    """Lago's `event_error` object for one unmatched event (see the module docstring)."""
    reason = event.unmatched_reason or UNKNOWN_METRIC_CODE
    code = _NOT_FOUND.get(reason)
    timestamp = event.timestamp.astimezone(UTC).isoformat().replace("+00:00", "Z")
    amount = event.precise_total_amount_cents
    return {
        "status": 404 if code else 422,
        "error": "Not found" if code else "Unprocessable entity",
        "message": code or reason,
        "input_params": {
            "transaction_id": event.transaction_id,
            "external_subscription_id": event.external_subscription_id,
            "code": event.code,
            "timestamp": timestamp,
            "properties": event.properties,
            "precise_total_amount_cents": None if amount is None else str(amount),
        },
        "lago_event_id": str(event.id),
        "unmatched_reason": reason,
    }


def report(uow: UnitOfWork, organization_id: UUID, events: Sequence[StoredEvent]) -> None:
    """One `event.error` webhook per event of `events` (new, unmatched ones), in the caller's
    unit of work. Costs one endpoint query when no endpoint wants `event.error`."""
    # Imported here: webhooks → subscriptions → usage_recording, which calls this module.
    from releve.services import webhooks

    endpoints = cast(WebhookUnitOfWork, uow).webhooks.endpoints(organization_id)
    if not any(e.wants(WEBHOOK_TYPE) for e in endpoints):
        return  # the common case: nobody listens, one query for the whole batch
    for event in events:
        webhooks.emit(uow, organization_id, WEBHOOK_TYPE, OBJECT_TYPE, payload=payload(event))
