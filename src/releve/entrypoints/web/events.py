"""Events explorer: latest events with filters and paging, and a JSON tail for live updates.

Unmatched events (unknown metric code, and later unknown subscription) are listed with their
reason, so nothing accepted is ever silently not counted.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response

from releve.entrypoints.web.formatting import Formatter
from releve.entrypoints.web.security import SECURITY_NO_STORE, ContainerDep, SessionDep
from releve.entrypoints.web.templating import render
from releve.entrypoints.web.views import METRIC_PAGE, formatter, pager
from releve.services.errors import ValidationFailed
from releve.services.pagination import PageRequest
from releve.services.ports import EventFilter
from releve.services.records import EVENT_MATCHED, EVENT_UNMATCHED, StoredEvent

router = APIRouter(include_in_schema=False)
PER_PAGE = 50
TAIL_LIMIT = 50
REASONS = {
    "unknown_metric_code": "No billable metric has this code (yet).",
    "unknown_subscription": "No subscription has this external id (yet).",
}


def _local(value: str, timezone: str) -> datetime | None:
    """An `<input type=datetime-local>` value, read in the organization's time zone."""
    try:
        naive = datetime.fromisoformat(value)
    except ValueError:
        return None
    if naive.tzinfo is not None:
        return naive
    return naive.replace(tzinfo=ZoneInfo(timezone))


@router.get("/events")
def event_list(
    request: Request,
    session: SessionDep,
    c: ContainerDep,
    subscription: str = "",
    code: str = "",
    status: str = "",
    since: str = "",
    until: str = "",
    page: int = 1,
) -> Response:
    org = session.organization
    problems: list[str] = []
    start = _local(since, org.timezone) if since else None
    end = _local(until, org.timezone) if until else None
    if since and start is None:
        problems.append("From is not a date and time.")
    if until and end is None:
        problems.append("To is not a date and time.")
    if status not in ("", EVENT_MATCHED, EVENT_UNMATCHED):
        problems.append("Status must be matched or unmatched.")
        status = ""
    filters = EventFilter(
        external_subscription_id=subscription.strip() or None,
        code=code.strip() or None,
        timestamp_from=start,
        timestamp_to=end,
        status=status or None,
    )
    try:
        result = c.events.list(org.id, filters, PageRequest(max(page, 1), PER_PAGE))
    except ValidationFailed:
        result = c.events.list(org.id, EventFilter(), PageRequest(1, PER_PAGE))
        problems.append("The filters were not valid; showing all events.")
    metrics = c.billable_metrics.list(org.id, PageRequest(1, METRIC_PAGE)).items
    newest = c.analytics.latest_events(org.id, limit=1)
    return render(
        request,
        "dashboard/events.html",
        fmt=formatter(request, session),
        active="events",
        events=result.items,
        pager=pager(result),
        filters={
            "subscription": subscription,
            "code": code,
            "status": status,
            "since": since,
            "until": until,
        },
        problems=problems,
        metric_codes=[m.code for m in metrics],
        reasons=REASONS,
        unmatched=c.analytics.unmatched_by_reason(org.id),
        tail_after=newest[0].created_at.isoformat() if newest else "",
    )


def event_json(event: StoredEvent, fmt: Formatter) -> dict[str, Any]:
    return {
        "transaction_id": event.transaction_id,
        "external_subscription_id": event.external_subscription_id,
        "code": event.code,
        "timestamp": event.timestamp.isoformat(),
        "timestamp_text": fmt.datetime(event.timestamp),
        "received_at": event.created_at.isoformat(),
        "status": event.status,
        "unmatched_reason": event.unmatched_reason,
        "reason_text": REASONS.get(event.unmatched_reason or "", event.unmatched_reason or ""),
    }


@router.get("/events/tail.json")
def event_tail(
    request: Request, session: SessionDep, c: ContainerDep, after: str = ""
) -> JSONResponse:
    """Events received after `after` (ISO 8601 with offset), newest first; for the live tail."""
    since: datetime | None = None
    if after:
        try:
            since = datetime.fromisoformat(after)
        except ValueError:
            since = None
        if since is not None and since.tzinfo is None:
            since = None
    events = c.analytics.latest_events(session.organization.id, after=since, limit=TAIL_LIMIT)
    fmt = formatter(request, session)
    return JSONResponse({"events": [event_json(e, fmt) for e in events]}, headers=SECURITY_NO_STORE)
