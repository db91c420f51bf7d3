"""The customer portal: /portal/<signed token> → that customer's usage, and nothing else.

The token names one customer (PortalService.verify); every query below is scoped by that
customer's organization id and external id, never by anything taken from the request. A
tampered link is a 403 page, an expired one a 410 page; neither says anything about the data.

Numbers and dates follow the customer's country (babel) and time zone. Until subscriptions and
current usage exist, usage is the events sent with the customer's external id as subscription id.
"""

from __future__ import annotations

from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Request
from fastapi.responses import Response

from releve.entrypoints.web.formatting import (
    Formatter,
    locale_for_country,
    locale_from_header,
)
from releve.entrypoints.web.security import ContainerDep
from releve.entrypoints.web.templating import render
from releve.entrypoints.web.views import METRIC_PAGE, chart_payload
from releve.services.pagination import PageRequest
from releve.services.portal import PortalLinkExpired, PortalLinkInvalid
from releve.services.ports import EventFilter

router = APIRouter(include_in_schema=False)
WINDOW_DAYS = 30
EVENTS_PER_PAGE = 10


@router.get("/portal/{token}")
def portal_page(
    request: Request, token: str, c: ContainerDep, metric: str = "", page: int = 1
) -> Response:
    fallback = locale_from_header(request.headers.get("accept-language"))
    try:
        customer, organization = c.portal.verify(token)
    except PortalLinkExpired:
        return render(
            request,
            "portal/error.html",
            status_code=410,
            fmt=Formatter(fallback),
            title="This link has expired",
            message="Usage links are valid for a limited time so that they stay private. "
            "Ask your provider for a new link; it will show the same information.",
        )
    except PortalLinkInvalid:
        return render(
            request,
            "portal/error.html",
            status_code=403,
            fmt=Formatter(fallback),
            title="This link is not valid",
            message="The link may be incomplete or mistyped. Open it again from the message "
            "you received, or ask your provider for a new one.",
        )
    timezone = customer.timezone or organization.timezone
    fmt = Formatter(locale_for_country(customer.country, fallback), timezone)
    subscription_ids = [customer.external_id]
    series = c.analytics.daily_events(
        organization.id,
        days=WINDOW_DAYS,
        timezone=timezone,
        external_subscription_ids=subscription_ids,
    )
    metrics = {
        m.code: m
        for m in c.billable_metrics.list(organization.id, PageRequest(1, METRIC_PAGE)).items
    }
    names = {code: m.name for code, m in metrics.items()}
    # The events behind one line, paged; the other lines stay collapsed.
    selected = metric if metric in series.series else ""
    behind = None
    if selected:
        behind = c.events.list(
            organization.id,
            EventFilter(
                external_subscription_id=customer.external_id,
                code=selected,
                timestamp_from=datetime.combine(series.days[0], time(), ZoneInfo(timezone)),
            ),
            PageRequest(max(page, 1), EVENTS_PER_PAGE),
        )
    return render(
        request,
        "portal/page.html",
        fmt=fmt,
        customer=customer,
        organization=organization,
        series=series,
        metrics=metrics,
        names=names,
        chart=chart_payload(series, names, f"Events per day, last {WINDOW_DAYS} days"),
        selected=selected,
        behind=behind,
        page=max(page, 1),
        per_page=EVENTS_PER_PAGE,
        token=token,
        window_start=series.days[0],
        window_end=series.days[-1],
        today=series.days[-1],
        days_left=None,
        week=timedelta(days=7),
    )
