"""Overview: counts, events per day per metric, most active subscriptions, unmatched events.

Revenue, MRR and invoices by status are not charted yet: the page says "no invoices yet" (or how
many exist, counted by the invoice service) instead of showing a number nobody computed.
"""

from __future__ import annotations

from uuid import UUID

from fastapi import APIRouter, Request
from fastapi.responses import Response

from releve.entrypoints.web.security import ContainerDep, SessionDep
from releve.entrypoints.web.templating import render
from releve.entrypoints.web.views import METRIC_PAGE, chart_payload, formatter
from releve.services.analytics import WINDOWS
from releve.services.pagination import PageRequest

router = APIRouter(include_in_schema=False)
DEFAULT_WINDOW = 30


@router.get("/")
def overview(
    request: Request, session: SessionDep, c: ContainerDep, days: int = DEFAULT_WINDOW
) -> Response:
    days = days if days in WINDOWS else DEFAULT_WINDOW
    org = session.organization
    analytics = c.analytics
    metrics = c.billable_metrics.list(org.id, PageRequest(1, METRIC_PAGE)).items
    names = {m.code: m.name for m in metrics}
    series = analytics.daily_events(org.id, days=days, timezone=org.timezone)
    return render(
        request,
        "dashboard/overview.html",
        fmt=formatter(request, session),
        active="overview",
        days=days,
        windows=WINDOWS,
        counts=analytics.counts(org.id),
        series=series,
        names=names,
        chart=chart_payload(series, names, f"Events per day, last {days} days"),
        top=analytics.top_subscriptions(org.id, days=days),
        reasons=analytics.unmatched_by_reason(org.id),
        invoice_count=_invoice_count(c, org.id),
    )


def _invoice_count(c: ContainerDep, organization_id: UUID) -> int | None:
    """How many invoices exist (None while invoicing is not wired): real data, never a guess."""
    invoices = getattr(c, "invoices", None)
    if invoices is None:
        return None
    return int(invoices.list(organization_id, PageRequest(1, 1)).total_count)
