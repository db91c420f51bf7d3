"""Small helpers shared by the dashboard routes: formatter per session, chart payloads, paging."""

from __future__ import annotations

from typing import Any

from fastapi import Request
from fastapi.responses import Response

from releve.bootstrap import Container
from releve.entrypoints.web import forms
from releve.entrypoints.web.formatting import Formatter, locale_from_header
from releve.entrypoints.web.templating import render
from releve.services.analytics import DailySeries
from releve.services.dashboard_auth import DashboardSession
from releve.services.pagination import Page
from releve.services.portal_view import CustomerPortalView

METRIC_PAGE = 1000  # the catalog is small; one page names every metric code


def formatter(request: Request, session: DashboardSession) -> Formatter:
    """The operator's language (Accept-Language) and the organization's time zone."""
    return Formatter(
        locale_from_header(request.headers.get("accept-language")), session.organization.timezone
    )


def chart_payload(series: DailySeries, names: dict[str, str], title: str) -> dict[str, Any]:
    """What app.js hands to Plotly: plain lists, ISO dates, no number formatting."""
    return {
        "title": title,
        "x": [day.isoformat() for day in series.days],
        "series": [
            {"code": code, "name": names.get(code, code), "y": values}
            for code, values in series.series.items()
        ],
        "timezone": series.timezone,
    }


def pager(page: Page[Any]) -> dict[str, int | None]:
    meta = page.meta()
    return {
        "current": meta["current_page"],
        "next": meta["next_page"],
        "prev": meta["prev_page"],
        "pages": meta["total_pages"],
        "total": meta["total_count"],
    }


def portal_view(c: Container) -> CustomerPortalView:
    """The portal's read model, on the container's own services (cheap to build per request)."""
    return CustomerPortalView(c.subscriptions, c.usage, c.invoices)


def form_page(
    request: Request,
    session: DashboardSession,
    template: str,
    *,
    active: str,
    form: dict[str, Any],
    errors: list[forms.FieldError],
    status_code: int = 200,
    **context: Any,
) -> Response:
    """A create/edit form page: the submitted values back, every error next to its field."""
    return render(
        request,
        template,
        status_code=status_code,
        fmt=formatter(request, session),
        active=active,
        form=form,
        errors=errors,
        field_errors=forms.by_field(errors),
        **context,
    )
