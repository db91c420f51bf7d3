"""Invoices: list with filters and paging, detail with every fee explained, and the lifecycle
actions Finalize, Void and Mark paid.

The actions call the same use cases as the API (`BillingService.finalize_invoice` = PUT
/invoices/{id}/finalize, `void_invoice` = POST /invoices/{id}/void, `InvoiceQueries.update` =
PUT /invoices/{id} with a payment status); a transition the invoice's state does not allow is
shown as a sentence on the invoice page (409), nothing changed. Another organization's invoice
id is a 404, like an id that does not exist.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from uuid import UUID

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response

from releve.entrypoints.web.security import (
    CheckedFormDep,
    ContainerDep,
    PageNotFound,
    SessionDep,
    get_container,
)
from releve.entrypoints.web.templating import render
from releve.entrypoints.web.views import formatter, pager
from releve.services.billing_queries import InvoiceView, NotAllowed
from releve.services.billing_records import (
    INVOICE_DRAFT,
    INVOICE_FINALIZED,
    PAYMENT_STATUSES,
    PAYMENT_SUCCEEDED,
    VISIBLE_STATUSES,
)
from releve.services.dashboard_auth import DashboardSession
from releve.services.errors import NotFound, ValidationFailed
from releve.services.pagination import PageRequest
from releve.services.portal_view import detail_tables

router = APIRouter(include_in_schema=False)
PER_PAGE = 25

NOT_ALLOWED = {
    "not_draft": "Only a draft invoice can be finalized; this one is {status}.",
    "not_voidable": (
        "Only a finalized invoice that is not paid can be voided; this one is {status}"
        " (payment {payment_status})."
    ),
    "invoice_not_finalized": ("Only a finalized invoice can be marked paid; this one is {status}."),
}
DONE = {
    "finalized": "Finalized: the invoice has its number and was sent to the webhooks.",
    "voided": "Voided: the invoice no longer counts as revenue.",
    "paid": "Marked paid.",
}
FILTER_PROBLEMS = {
    "status": "Status must be draft, finalized or voided.",
    "payment_status": "Payment status must be pending, succeeded or failed.",
    "issuing_date_from": "Issued from must be a date (YYYY-MM-DD).",
    "issuing_date_to": "Issued to must be a date (YYYY-MM-DD).",
}


def _view(c: ContainerDep, session: DashboardSession, invoice_id: str) -> InvoiceView:
    try:
        return c.invoices.get(session.organization.id, invoice_id)
    except NotFound:
        raise PageNotFound("invoice") from None


@router.get("/invoices")
def invoice_list(
    request: Request,
    session: SessionDep,
    c: ContainerDep,
    status: str = "",
    payment_status: str = "",
    customer: str = "",
    issuing_date_from: str = "",
    issuing_date_to: str = "",
    page: int = 1,
) -> Response:
    filters = {
        "status": status.strip(),
        "payment_status": payment_status.strip(),
        "customer": customer.strip(),
        "issuing_date_from": issuing_date_from.strip(),
        "issuing_date_to": issuing_date_to.strip(),
    }
    request_page = PageRequest(max(page, 1), PER_PAGE)
    problems: list[str] = []
    try:
        result = c.invoices.list(
            session.organization.id,
            request_page,
            external_customer_id=filters["customer"] or None,
            status=filters["status"] or None,
            payment_status=filters["payment_status"] or None,
            issuing_date_from=filters["issuing_date_from"] or None,
            issuing_date_to=filters["issuing_date_to"] or None,
        )
    except ValidationFailed as exc:
        problems = [FILTER_PROBLEMS.get(k, f"{k} is not valid.") for k in exc.error_details]
        result = c.invoices.list(session.organization.id, PageRequest(1, PER_PAGE))
        problems.append("Showing every invoice instead.")
    return render(
        request,
        "dashboard/invoices.html",
        status_code=422 if problems else 200,
        fmt=formatter(request, session),
        active="invoices",
        invoices=result.items,
        pager=pager(result),
        filters=filters,
        problems=problems,
        statuses=VISIBLE_STATUSES,
        payment_statuses=PAYMENT_STATUSES,
    )


def _detail(
    request: Request,
    session: DashboardSession,
    view: InvoiceView,
    *,
    error: str | None = None,
    status_code: int = 200,
) -> Response:
    invoice = view.invoice
    return render(
        request,
        "dashboard/invoice.html",
        status_code=status_code,
        fmt=formatter(request, session),
        active="invoices",
        view=view,
        tables={f.id: detail_tables(f.amount_details) for f in view.fees},
        can_finalize=invoice.status == INVOICE_DRAFT,
        can_void=invoice.status == INVOICE_FINALIZED
        and invoice.payment_status != PAYMENT_SUCCEEDED,
        can_mark_paid=(
            invoice.status == INVOICE_FINALIZED and invoice.payment_status != PAYMENT_SUCCEEDED
        ),
        done=DONE.get(request.query_params.get("done", "")),
        error=error,
        credit_lines=get_container(request).customer_money.invoice_credits(view),
        can_credit=invoice.status == INVOICE_FINALIZED,
    )


@router.get("/invoices/{invoice_id}")
def invoice_detail(
    request: Request, invoice_id: str, session: SessionDep, c: ContainerDep
) -> Response:
    return _detail(request, session, _view(c, session, invoice_id))


def _act(
    request: Request,
    session: DashboardSession,
    c: ContainerDep,
    invoice_id: str,
    done: str,
    action: Callable[[UUID, str], Any],
) -> Response:
    """Run `action(organization_id, invoice_id)`; a refused transition shows the invoice again
    with a sentence saying why, instead of an error page."""
    view = _view(c, session, invoice_id)  # 404 first: another organization's id shows nothing
    try:
        action(session.organization.id, invoice_id)
    except NotFound:
        raise PageNotFound("invoice") from None
    except NotAllowed as exc:
        current = _view(c, session, invoice_id)
        message = NOT_ALLOWED.get(exc.code, "This action is not allowed on this invoice.")
        text = message.format(
            status=current.invoice.status, payment_status=current.invoice.payment_status
        )
        return _detail(request, session, current, error=text, status_code=409)
    return RedirectResponse(f"/invoices/{view.invoice.id}?done={done}", status_code=303)


@router.post("/invoices/{invoice_id}/finalize")
def finalize(
    request: Request, invoice_id: str, session: SessionDep, c: ContainerDep, _: CheckedFormDep
) -> Response:
    return _act(request, session, c, invoice_id, "finalized", c.billing.finalize_invoice)


@router.post("/invoices/{invoice_id}/void")
def void(
    request: Request, invoice_id: str, session: SessionDep, c: ContainerDep, _: CheckedFormDep
) -> Response:
    return _act(request, session, c, invoice_id, "voided", c.billing.void_invoice)


@router.post("/invoices/{invoice_id}/mark-paid")
def mark_paid(
    request: Request, invoice_id: str, session: SessionDep, c: ContainerDep, _: CheckedFormDep
) -> Response:
    def paid(organization_id: UUID, lago_id: str) -> Any:
        return c.invoices.update(organization_id, lago_id, {"payment_status": PAYMENT_SUCCEEDED})

    return _act(request, session, c, invoice_id, "paid", paid)
