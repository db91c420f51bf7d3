"""Dashboard credit notes: create one from an invoice (amount per fee, reason; the estimate
first), see one with the invoices that used it, void what is left of it.

The same use cases as the API: `CreditNoteService.estimate` (POST /credit_notes/estimate),
`create` (POST /credit_notes) and `void` (PUT /credit_notes/{id}/void). Amounts are typed in
the invoice currency's major units in the operator's notation and sent as integer minor units.
When credit, refund and offset are all left blank the whole total is credited (the estimate
says how much that is). A refused form comes back with its values and one sentence per problem
(422), nothing stored; another organization's invoice or credit note is a 404.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from babel.numbers import get_currency_precision
from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response
from starlette.datastructures import FormData

from releve.bootstrap import Container
from releve.entrypoints.web import forms, money_forms
from releve.entrypoints.web.security import CheckedFormDep, ContainerDep, PageNotFound, SessionDep
from releve.entrypoints.web.templating import render
from releve.entrypoints.web.views import formatter
from releve.services.billing_queries import InvoiceView, NotAllowed
from releve.services.credit_note_records import REASONS
from releve.services.credit_notes import CreditNoteEstimate
from releve.services.dashboard_auth import DashboardSession
from releve.services.errors import NotFound, ValidationFailed

router = APIRouter(include_in_schema=False)
SPLIT = ("credit_amount", "refund_amount", "offset_amount")
NOT_CREDITABLE = (
    "A credit note can only be issued on a finalized invoice with an amount above zero; "
    "this one is {status}."
)
NOT_VOIDABLE = "Nothing is left to void on this credit note: it is used up or already voided."


def _invoice(c: Container, session: DashboardSession, invoice_id: str) -> InvoiceView:
    try:
        return c.invoices.get(session.organization.id, invoice_id)
    except NotFound:
        raise PageNotFound("invoice") from None


def _form_page(
    request: Request,
    session: DashboardSession,
    view: InvoiceView,
    *,
    form: dict[str, Any],
    errors: list[forms.FieldError],
    estimate: CreditNoteEstimate | None = None,
    status_code: int = 200,
) -> Response:
    return render(
        request,
        "dashboard/credit_note_form.html",
        status_code=status_code,
        fmt=formatter(request, session),
        active="invoices",
        view=view,
        reasons=REASONS,
        form=form,
        errors=errors,
        field_errors=forms.by_field(errors),
        estimate=estimate,
    )


@router.get("/invoices/{invoice_id}/credit-notes/new")
def new_credit_note(
    request: Request, invoice_id: str, session: SessionDep, c: ContainerDep
) -> Response:
    view = _invoice(c, session, invoice_id)
    return _form_page(request, session, view, form={"reason": "other"}, errors=[])


def _values(
    form: FormData, view: InvoiceView, locale: str
) -> tuple[dict[str, Any], list[forms.FieldError]]:
    """The request the API would get, and the amounts the edge could not read."""
    currency = view.invoice.currency
    items = []
    errors: list[forms.FieldError] = []
    for fee in view.fees:
        name = f"item_{fee.id}"
        cents = money_forms.minor_units(money_forms.decimal(form, name, locale), currency)
        if isinstance(cents, str):
            label = fee.invoice_display_name or fee.item_name
            errors += [forms.FieldError(name, label, f"{label}: {money_forms.SPECIFIC[cents]}")]
        elif cents:
            items.append({"fee_id": str(fee.id), "amount_cents": cents})
    values: dict[str, Any] = {
        "invoice_id": str(view.invoice.id),
        "items": items,
        "reason": forms.text(form, "reason"),
        "description": forms.text(form, "description"),
    }
    for name in SPLIT:
        cents = money_forms.minor_units(money_forms.decimal(form, name, locale), currency)
        if isinstance(cents, str):
            label = money_forms.LABELS[f"{name}_cents"]
            errors += [forms.FieldError(name, label, f"{label} {money_forms.SPECIFIC[cents]}")]
        elif cents is not None:
            values[f"{name}_cents"] = cents
    return values, errors


def _major(cents: int, currency: str) -> str:
    return str(Decimal(cents).scaleb(-get_currency_precision(currency)))


@router.post("/invoices/{invoice_id}/credit-notes")
def create_credit_note(
    request: Request, invoice_id: str, session: SessionDep, c: ContainerDep, form: CheckedFormDep
) -> Response:
    view = _invoice(c, session, invoice_id)  # 404 first: another organization's invoice
    org_id = session.organization.id
    raw = {k: v for k, v in form.items() if isinstance(v, str) and k != "csrf_token"}
    values, errors = _values(form, view, formatter(request, session).locale)
    if errors:
        return _form_page(request, session, view, form=raw, errors=errors, status_code=422)
    try:
        estimate = c.credit_notes.estimate(org_id, values)
        if forms.text(form, "action") != "create":
            if not any(forms.text(form, name) for name in SPLIT):
                currency = view.invoice.currency
                raw["credit_amount"] = _major(estimate.max_amount("creditable"), currency)
            return _form_page(request, session, view, form=raw, errors=[], estimate=estimate)
        if not any(f"{name}_cents" in values for name in SPLIT):
            values["credit_amount_cents"] = estimate.amounts.total_amount_cents
        note = c.credit_notes.create(org_id, values)
    except ValidationFailed as exc:
        errors = money_forms.messages(exc.error_details)
        return _form_page(request, session, view, form=raw, errors=errors, status_code=422)
    except NotAllowed:
        text = NOT_CREDITABLE.format(status=view.invoice.status)
        errors = [forms.FieldError("base", "Invoice", text)]
        return _form_page(request, session, view, form=raw, errors=errors, status_code=409)
    except NotFound:
        raise PageNotFound("invoice") from None
    return RedirectResponse(f"/credit-notes/{note.note.id}?done=created", status_code=303)


def _detail(
    request: Request,
    session: DashboardSession,
    c: Container,
    credit_note_id: str,
    *,
    error: str = "",
    status_code: int = 200,
) -> Response:
    org_id = session.organization.id
    try:
        view = c.credit_notes.get(org_id, credit_note_id)
    except NotFound:
        raise PageNotFound("credit note") from None
    row = c.customer_money.credit_note(view.invoice.customer, credit_note_id)
    done = {"created": "Credit note issued.", "voided": "Voided: what was left is dropped."}
    return render(
        request,
        "dashboard/credit_note.html",
        status_code=status_code,
        fmt=formatter(request, session),
        active="invoices",
        view=view,
        row=row,
        can_void=view.note.credit_status == "available" and view.note.balance_amount_cents > 0,
        done=done.get(request.query_params.get("done", ""), ""),
        error=error,
    )


@router.get("/credit-notes/{credit_note_id}")
def credit_note_detail(
    request: Request, credit_note_id: str, session: SessionDep, c: ContainerDep
) -> Response:
    return _detail(request, session, c, credit_note_id)


@router.post("/credit-notes/{credit_note_id}/void")
def void_credit_note(
    request: Request, credit_note_id: str, session: SessionDep, c: ContainerDep, _: CheckedFormDep
) -> Response:
    try:
        c.credit_notes.void(session.organization.id, credit_note_id)
    except NotFound:
        raise PageNotFound("credit note") from None
    except NotAllowed:
        return _detail(request, session, c, credit_note_id, error=NOT_VOIDABLE, status_code=409)
    return RedirectResponse(f"/credit-notes/{credit_note_id}?done=voided", status_code=303)
