"""POST /events, POST /events/batch, GET /events/{transaction_id}, GET /events."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Query

from releve.entrypoints.api import serializers
from releve.entrypoints.api.deps import ContainerDep, OrganizationDep, PageDep
from releve.entrypoints.api.exact import ExactJSONResponse, ExactRoute
from releve.entrypoints.api.schemas import EventBatchBody, EventBody
from releve.services.errors import ValidationFailed
from releve.services.event_input import parse_timestamp
from releve.services.ports import EventFilter

router = APIRouter(route_class=ExactRoute, tags=["events"])


@router.post("/events", summary="Send one usage event")
def create_event(body: EventBody, org: OrganizationDep, c: ContainerDep) -> ExactJSONResponse:
    raw = body.event.model_dump(exclude_unset=True)
    stored = c.events.ingest_one(org.id, raw)
    return ExactJSONResponse({"event": serializers.event(stored)})


@router.post("/events/batch", summary="Send up to 100 events, all stored or none")
def create_batch(body: EventBatchBody, org: OrganizationDep, c: ContainerDep) -> ExactJSONResponse:
    result = c.events.ingest_batch(org.id, body.events)
    return ExactJSONResponse({"events": [serializers.event(e) for e in result.events]})


@router.get("/events/{transaction_id}", summary="Find an event by transaction_id")
def get_event(transaction_id: str, org: OrganizationDep, c: ContainerDep) -> ExactJSONResponse:
    return ExactJSONResponse({"event": serializers.event(c.events.get(org.id, transaction_id))})


def _filter_time(name: str, value: str | None) -> datetime | None:
    """Unix seconds, offset ISO 8601, or (for filters only) a naive time/date read as UTC."""
    if value is None:
        return None
    parsed = parse_timestamp(value)
    if parsed is None:
        try:
            naive = datetime.fromisoformat(value)
        except ValueError:
            raise ValidationFailed.one(name, "invalid_format") from None
        parsed = naive if naive.tzinfo else naive.replace(tzinfo=UTC)
    return parsed


@router.get("/events", summary="List events (newest first)")
def list_events(
    org: OrganizationDep,
    c: ContainerDep,
    page: PageDep,
    external_subscription_id: str | None = None,
    code: str | None = None,
    timestamp_from: str | None = None,
    timestamp_to: str | None = None,
    status: Annotated[str | None, Query(description="Our extension: matched or unmatched.")] = None,
) -> ExactJSONResponse:
    filters = EventFilter(
        external_subscription_id=external_subscription_id,
        code=code,
        timestamp_from=_filter_time("timestamp_from", timestamp_from),
        timestamp_to=_filter_time("timestamp_to", timestamp_to),
        status=status,
    )
    result = c.events.list(org.id, filters, page)
    return ExactJSONResponse(
        {"events": [serializers.event(e) for e in result.items], "meta": result.meta()}
    )
