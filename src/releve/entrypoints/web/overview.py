"""Overview: counts, events per day per metric, most active subscriptions, unmatched events.

Revenue, MRR and invoices by status need invoicing, which does not exist yet: the page says
"no invoices yet" instead of showing a number nobody computed.
"""

from __future__ import annotations

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
        invoicing=getattr(c, "invoices", None) is not None,
    )
