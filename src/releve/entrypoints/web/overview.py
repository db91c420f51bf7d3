"""Overview: revenue per month and MRR (per currency), invoices by status, top customers by
revenue and by growth, usage per metric per day, most active subscriptions, unmatched events.

Every figure comes from `AnalyticsService` (set-based queries); the definitions shown on the
page (MRR, growth) are the service's. Currencies are never added together: one chart and one
figure per currency.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from babel.numbers import get_currency_precision
from fastapi import APIRouter, Request
from fastapi.responses import Response

from releve.entrypoints.web.security import ContainerDep, SessionDep
from releve.entrypoints.web.templating import render
from releve.entrypoints.web.views import METRIC_PAGE, chart_payload, formatter
from releve.services.analytics import WINDOWS, MonthlyRevenue
from releve.services.pagination import PageRequest

router = APIRouter(include_in_schema=False)
DEFAULT_WINDOW = 30


def revenue_charts(revenue: MonthlyRevenue) -> list[dict[str, Any]]:
    """One Plotly payload per currency; amounts as exact decimal strings of major units."""
    charts = []
    for currency, cents in revenue.by_currency.items():
        exponent = get_currency_precision(currency)
        charts.append(
            {
                "currency": currency,
                "title": f"Revenue invoiced per month ({currency})",
                "x": [m.isoformat() for m in revenue.months],
                "series": [
                    {
                        "code": currency,
                        "name": currency,
                        "y": [str(Decimal(c).scaleb(-exponent)) for c in cents],
                    }
                ],
                "y_title": currency,
                "timezone": "",
                "total": sum(cents),
            }
        )
    return charts


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
    revenue = analytics.revenue_by_month(org.id, timezone=org.timezone)
    by_revenue, by_growth = analytics.top_customers(org.id, timezone=org.timezone)
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
        revenue=revenue,
        revenue_charts=revenue_charts(revenue),
        mrr=analytics.mrr(org.id, timezone=org.timezone),
        top_revenue=by_revenue,
        top_growth=by_growth,
        statuses=analytics.invoices_by_status(org.id),
    )
