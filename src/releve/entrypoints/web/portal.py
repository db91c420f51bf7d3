"""The customer portal: /portal/<signed token> → that customer's subscriptions, usage and invoices.

The token names one customer (PortalService.verify); every query below is scoped by that
customer's organization id and external id, never by anything taken from the request: a
subscription or invoice named in the query string is only shown if it is one of theirs. A
tampered link is a 403 page, an expired one a 410 page; neither says anything about the data.

The numbers come from the same services as the API (`services.portal_view`): current usage per
active subscription, with each fee's explanation and amount details, and finalized invoices.
Numbers and dates follow the customer's country (babel) and time zone.
"""

from __future__ import annotations

from typing import Any
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Request
from fastapi.responses import Response

from releve.bootstrap import Container
from releve.entrypoints.web.formatting import (
    Formatter,
    locale_for_country,
    locale_from_header,
)
from releve.entrypoints.web.security import ContainerDep
from releve.entrypoints.web.templating import render
from releve.entrypoints.web.views import chart_payload, portal_view
from releve.services.errors import NotFound
from releve.services.pagination import PageRequest
from releve.services.portal import PortalLinkExpired, PortalLinkInvalid
from releve.services.portal_view import detail_tables
from releve.services.ports import EventFilter
from releve.services.records import Customer, Organization

router = APIRouter(include_in_schema=False)
WINDOW_DAYS = 30
EVENTS_PER_PAGE = 10
INVOICES_PER_PAGE = 20


def _verify(request: Request, c: Container, token: str) -> tuple[Customer, Organization] | Response:
    fallback = locale_from_header(request.headers.get("accept-language"))
    try:
        return c.portal.verify(token)
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


def _formatter(request: Request, customer: Customer, organization: Organization) -> Formatter:
    fallback = locale_from_header(request.headers.get("accept-language"))
    timezone = customer.timezone or organization.timezone or "UTC"
    return Formatter(locale_for_country(customer.country, fallback), timezone)


@router.get("/portal/{token}")
def portal_page(
    request: Request,
    token: str,
    c: ContainerDep,
    sub: str = "",
    metric: str = "",
    page: int = 1,
) -> Response:
    verified = _verify(request, c, token)
    if isinstance(verified, Response):
        return verified
    customer, organization = verified
    fmt = _formatter(request, customer, organization)
    now = c.clock.now()
    view = portal_view(c)
    zone = ZoneInfo(fmt.timezone)
    summaries = view.subscriptions(organization.id, customer.external_id, now, zone)
    series = c.analytics.daily_events(
        organization.id,
        days=WINDOW_DAYS,
        timezone=fmt.timezone,
        external_subscription_ids=[s.external_id for s in summaries] or [customer.external_id],
    )
    names = {line.metric_code: line.name for s in summaries for line in s.lines}
    # The events behind one line, paged; only a line of this customer's own subscriptions.
    behind: Any = None
    selected = next(
        (
            (s, line)
            for s in summaries
            if s.external_id == sub
            for line in s.lines
            if line.metric_code == metric
        ),
        None,
    )
    page = max(page, 1)
    if selected is not None:
        summary, line = selected
        behind = c.events.list(
            organization.id,
            EventFilter(
                external_subscription_id=summary.external_id,
                code=line.metric_code,
                timestamp_from=summary.usage.period.start,
                timestamp_to=summary.usage.period.end,
            ),
            PageRequest(page, EVENTS_PER_PAGE),
        )
    invoices = view.invoices(
        organization.id, customer.external_id, PageRequest(1, INVOICES_PER_PAGE), zone
    )
    return render(
        request,
        "portal/page.html",
        fmt=fmt,
        customer=customer,
        organization=organization,
        summaries=summaries,
        series=series,
        chart=chart_payload(series, names, f"Events per day, last {WINDOW_DAYS} days"),
        selected_sub=selected[0].external_id if selected else "",
        selected_metric=selected[1].metric_code if selected else "",
        behind=behind,
        page=page,
        invoices=invoices,
        token=token,
        now=now,
    )


@router.get("/portal/{token}/invoices/{invoice_id}")
def portal_invoice(request: Request, token: str, invoice_id: str, c: ContainerDep) -> Response:
    verified = _verify(request, c, token)
    if isinstance(verified, Response):
        return verified
    customer, organization = verified
    fmt = _formatter(request, customer, organization)
    try:
        invoice = portal_view(c).invoice_for_customer(organization.id, customer.id, invoice_id)
    except NotFound:
        return render(
            request,
            "portal/error.html",
            status_code=404,
            fmt=fmt,
            title="Invoice not found",
            message="This invoice does not exist or is not available here.",
        )
    return render(
        request,
        "portal/invoice.html",
        fmt=fmt,
        customer=customer,
        organization=organization,
        view=invoice,
        tables={f.id: detail_tables(f.amount_details) for f in invoice.fees},
        token=token,
    )


@router.get("/portal/{token}/invoices/{invoice_id}/pdf")
def portal_invoice_pdf(request: Request, token: str, invoice_id: str, c: ContainerDep) -> Response:
    """The invoice's PDF for the customer the link names (finalized invoices of theirs only)."""
    from releve.entrypoints.api.routes.invoice_files import pdf_response

    verified = _verify(request, c, token)
    if isinstance(verified, Response):
        return verified
    customer, organization = verified
    try:
        invoice = portal_view(c).invoice_for_customer(organization.id, customer.id, invoice_id)
    except NotFound:
        return render(
            request,
            "portal/error.html",
            status_code=404,
            fmt=_formatter(request, customer, organization),
            title="Invoice not found",
            message="This invoice does not exist or is not available here.",
        )
    return pdf_response(lambda: c.invoice_documents.pdf(invoice))
