"""The customer portal: /portal/<signed token> → that customer's subscriptions, usage and invoices.

The token names one customer (PortalService.verify); every query below is scoped by that
customer's organization id and external id, never by anything taken from the request: a
subscription or invoice named in the query string is only shown if it is one of theirs. A
tampered link is a 403 page, an expired one a 410 page; neither says anything about the data.

The numbers come from the same services as the API (`services.portal_view`): current usage per
active subscription, with each fee's explanation and amount details, and finalized invoices.
Numbers and dates follow the customer's country (babel) and time zone.

Budget forms post to /portal/<token>/budget[/remove]. The link is the only credential, so the
CSRF token is derived from it: HMAC(organization portal secret, "csrf" ‖ token). Another site
cannot post without knowing the link, and a token of one link is refused on another (403).
Each page load checks the budget (`BudgetService.check`): a crossing shows and fires once.
"""

from __future__ import annotations

import hmac
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from babel.numbers import NumberFormatError, parse_decimal
from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response

from releve.bootstrap import Container
from releve.entrypoints.web.formatting import (
    Formatter,
    locale_for_country,
    locale_from_header,
)
from releve.entrypoints.web.portal_money import money_section
from releve.entrypoints.web.security import CSRF_FIELD, ContainerDep, FormDep
from releve.entrypoints.web.templating import render
from releve.entrypoints.web.views import chart_payload, portal_view
from releve.services.billing_queries import InvoiceView
from releve.services.errors import NotFound, ValidationFailed
from releve.services.pagination import PageRequest
from releve.services.portal import PortalLinkExpired, PortalLinkInvalid
from releve.services.portal_view import (
    budget_panel,
    detail_tables,
    footprint_by_line,
    footprint_chart,
)
from releve.services.ports import EventFilter
from releve.services.records import Customer, Organization
from releve.services.usage_reading import one_reading

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


def portal_csrf(organization: Organization, token: str) -> str:
    """The form token of one portal link (see the module docstring)."""
    mac = hmac.new(organization.portal_secret.encode(), b"csrf\x00" + token.encode(), "sha256")
    return mac.hexdigest()[:40]


def _csrf_ok(organization: Organization, token: str, form: Any) -> bool:
    sent = form.get(CSRF_FIELD)
    return isinstance(sent, str) and hmac.compare_digest(
        sent.encode(), portal_csrf(organization, token).encode()
    )


def _forbidden(request: Request, fmt: Formatter) -> Response:
    return render(
        request,
        "portal/error.html",
        status_code=403,
        fmt=fmt,
        title="This form has expired",
        message="Reload the page from your link and try again.",
    )


def _budget_message(code: str, currency: Any) -> str:
    exponent = getattr(currency, "exponent", 2)
    name = getattr(currency, "code", "")
    return {
        "too_many_decimals": f"Budget can have at most {exponent} decimals in {name}."
        if exponent
        else f"Budget must be a whole amount in {name}.",
        "value_is_too_large": "Budget is larger than we can track; enter a smaller amount.",
        "no_active_subscription": "Budget can be set once you have an active subscription.",
    }.get(code, "Budget must be an amount above zero, such as 100 or 250.50.")


def _parse_amount(text: str, locale: str) -> Any:
    """The customer's number in their own notation ("1 234,50" in French), else the text as
    typed so that the service reports it; never a float."""
    text = text.strip()
    try:
        return parse_decimal(text, locale=locale, strict=True)
    except (NumberFormatError, ValueError):
        return text


@router.get("/portal/{token}")
def portal_page(
    request: Request,
    token: str,
    c: ContainerDep,
    sub: str = "",
    metric: str = "",
    page: int = 1,
    budget: str = "",
) -> Response:
    verified = _verify(request, c, token)
    if isinstance(verified, Response):
        return verified
    customer, organization = verified
    fmt = _formatter(request, customer, organization)
    with one_reading():  # every section shows the same reading of usage (read once)
        return _page(request, c, token, customer, organization, fmt, sub, metric, page, budget)


def _page(
    request: Request,
    c: Container,
    token: str,
    customer: Customer,
    organization: Organization,
    fmt: Formatter,
    sub: str = "",
    metric: str = "",
    page: int = 1,
    flash: str = "",
    form: dict[str, str] | None = None,
    errors: list[str] | None = None,
) -> Response:
    now = c.clock.now()
    c.budgets.check(organization.id, customer.id)  # a crossing shows (and fires) once
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
    # Events whose code is no metric of the customer's plans (a typo, say) are not priced.
    names |= {code: f"{code} (not on your plan)" for code in series.series if code not in names}
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
    status = c.budgets.status(organization.id, customer.external_id)
    currency = c.budgets.currency_for(organization.id, customer.external_id)
    footprint = c.footprint.for_customer(organization.id, customer.external_id)
    form = form if form is not None else {}
    if status is not None and "amount" not in form:
        form["amount"] = fmt.number(
            status.budget.amount_cents / Decimal(10) ** (currency.exponent if currency else 2)
        )
    return render(
        request,
        "portal/page.html",
        status_code=422 if errors else 200,
        fmt=fmt,
        csrf_token=portal_csrf(organization, token),
        budget=budget_panel(status, zone),
        budget_currency=currency,
        budget_flash={"saved": "Your budget is saved.", "removed": "Your budget is removed."}.get(
            flash, ""
        ),
        form=form,
        errors=errors or [],
        comparisons=c.plan_comparison.compare(organization.id, customer.external_id),
        footprint=footprint,
        footprints=footprint_by_line(footprint),
        footprint_chart=footprint_chart(footprint),
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
        money=money_section(c, customer),
        token=token,
        now=now,
    )


@router.post("/portal/{token}/budget")
def portal_set_budget(request: Request, token: str, c: ContainerDep, form: FormDep) -> Response:
    verified = _verify(request, c, token)
    if isinstance(verified, Response):
        return verified
    customer, organization = verified
    fmt = _formatter(request, customer, organization)
    if not _csrf_ok(organization, token, form):
        return _forbidden(request, fmt)
    raw = form.get("amount")
    text = raw if isinstance(raw, str) else ""
    try:
        c.budgets.set_amount(organization.id, customer.external_id, _parse_amount(text, fmt.locale))
    except ValidationFailed as error:
        codes = error.error_details.get("amount") or error.error_details.get("amount_cents") or [""]
        currency = c.budgets.currency_for(organization.id, customer.external_id)
        return _page(
            request, c, token, customer, organization, fmt,
            form={"amount": text}, errors=[_budget_message(codes[0], currency)],
        )  # fmt: skip
    return RedirectResponse(f"/portal/{token}?budget=saved#budget", status_code=303)


@router.post("/portal/{token}/budget/remove")
def portal_remove_budget(request: Request, token: str, c: ContainerDep, form: FormDep) -> Response:
    verified = _verify(request, c, token)
    if isinstance(verified, Response):
        return verified
    customer, organization = verified
    if not _csrf_ok(organization, token, form):
        return _forbidden(request, _formatter(request, customer, organization))
    c.budgets.remove(organization.id, customer.external_id)
    return RedirectResponse(f"/portal/{token}?budget=removed#budget", status_code=303)


@router.get("/portal/{token}/invoices/{invoice_id}")
def portal_invoice(request: Request, token: str, invoice_id: str, c: ContainerDep) -> Response:
    verified = _verify(request, c, token)
    if isinstance(verified, Response):
        return verified
    customer, organization = verified
    fmt = _formatter(request, customer, organization)
    invoice = _customer_invoice(request, c, customer, organization, invoice_id)
    if isinstance(invoice, Response):
        return invoice
    return render(
        request,
        "portal/invoice.html",
        fmt=fmt,
        customer=customer,
        organization=organization,
        view=invoice,
        tables={f.id: detail_tables(f.amount_details) for f in invoice.fees},
        credit_lines=c.customer_money.invoice_credits(invoice),
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
    invoice = _customer_invoice(request, c, customer, organization, invoice_id)
    if isinstance(invoice, Response):
        return invoice
    return pdf_response(lambda: c.invoice_documents.pdf(invoice))


def _customer_invoice(
    request: Request, c: Container, customer: Customer, organization: Organization, lago_id: str
) -> InvoiceView | Response:
    """The invoice if it is this customer's and visible to them, else the portal's 404 page: the
    page and its PDF must refuse the same invoices with the same words."""
    try:
        return portal_view(c).invoice_for_customer(organization.id, customer.id, lago_id)
    except NotFound:
        return render(
            request,
            "portal/error.html",
            status_code=404,
            fmt=_formatter(request, customer, organization),
            title="Invoice not found",
            message="This invoice does not exist or is not available here.",
        )
