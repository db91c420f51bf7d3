"""Dashboard wallets: a wallet's balances, ongoing balance and ledger; top up (paid and/or
granted credits) and a new wallet for a customer.

Writes call the same use cases as the API: `WalletService.create_transactions` (POST
/wallet_transactions) and `WalletService.create` (POST /wallets). Another organization's wallet
or customer is the dashboard's 404 page; a refused form comes back with its values and one
sentence per problem (422), and nothing is stored.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response
from starlette.datastructures import FormData

from releve.bootstrap import Container
from releve.entrypoints.web import forms, money_forms
from releve.entrypoints.web.customers import find_customer
from releve.entrypoints.web.security import CheckedFormDep, ContainerDep, PageNotFound, SessionDep
from releve.entrypoints.web.templating import render
from releve.entrypoints.web.views import form_page, formatter, pager
from releve.services.dashboard_auth import DashboardSession
from releve.services.errors import NotFound, ValidationFailed
from releve.services.pagination import PageRequest
from releve.services.records import Customer
from releve.services.wallet_views import WalletView

router = APIRouter(include_in_schema=False)
MOVEMENTS_PER_PAGE = 25
DONE = {"topped-up": "Credits added.", "created": "Wallet created."}


def _wallet(c: Container, session: DashboardSession, wallet_id: str) -> tuple[WalletView, Customer]:
    try:
        view = c.wallets.get(session.organization.id, wallet_id)
    except NotFound:
        raise PageNotFound("wallet") from None
    return view, c.customers.get(session.organization.id, view.customer_external_id)


def _page(
    request: Request,
    session: DashboardSession,
    c: Container,
    wallet_id: str,
    *,
    page: int = 1,
    form: dict[str, Any] | None = None,
    errors: list[forms.FieldError] | None = None,
) -> Response:
    view, customer = _wallet(c, session, wallet_id)
    panel = next(
        p for p in c.customer_money.wallets(customer) if p.view.wallet.id == view.wallet.id
    )
    movements = c.customer_money.movements(
        customer, wallet_id, PageRequest(max(page, 1), MOVEMENTS_PER_PAGE)
    )
    errors = errors or []
    return render(
        request,
        "dashboard/wallet.html",
        status_code=422 if errors else 200,
        fmt=formatter(request, session),
        active="customers",
        customer=customer,
        panel=panel,
        movements=movements,
        pager=pager(movements),
        form=form or {},
        errors=errors,
        field_errors=forms.by_field(errors),
        done=DONE.get(request.query_params.get("done", ""), ""),
    )


@router.get("/wallets/{wallet_id}")
def wallet_detail(
    request: Request, wallet_id: str, session: SessionDep, c: ContainerDep, page: int = 1
) -> Response:
    return _page(request, session, c, wallet_id, page=page)


def _credits(form: FormData, locale: str, names: tuple[str, ...]) -> dict[str, Any]:
    """Credits as the service takes them (Decimal, or the text typed so that it says why)."""
    values: dict[str, Any] = {}
    for name in names:
        value = money_forms.decimal(form, name, locale)
        if value is not None:
            values[name] = value
    return values


@router.post("/wallets/{wallet_id}/top-up")
def top_up(
    request: Request, wallet_id: str, session: SessionDep, c: ContainerDep, form: CheckedFormDep
) -> Response:
    view, _ = _wallet(c, session, wallet_id)  # 404 first: another organization's wallet
    locale = formatter(request, session).locale
    values = _credits(form, locale, ("paid_credits", "granted_credits"))
    raw = {k: v for k, v in form.items() if isinstance(v, str) and k != "csrf_token"}
    if not any(isinstance(v, str) or v != 0 for v in values.values()):  # nothing to add
        errors = [
            forms.FieldError(
                "paid_credits",
                "Paid credits",
                "Enter paid credits, granted credits, or both (a number above zero).",
            )
        ]
        return _page(request, session, c, wallet_id, form=raw, errors=errors)
    if forms.text(form, "name"):
        values["name"] = forms.text(form, "name")
    try:
        c.wallets.create_transactions(
            session.organization.id, {"wallet_id": str(view.wallet.id), **values}
        )
    except ValidationFailed as exc:
        return _page(
            request, session, c, wallet_id, form=raw, errors=money_forms.messages(exc.error_details)
        )
    except NotFound:
        raise PageNotFound("wallet") from None
    return RedirectResponse(f"/wallets/{view.wallet.id}?done=topped-up", status_code=303)


# --- a new wallet -----------------------------------------------------------------------------


def _new_page(
    request: Request,
    session: DashboardSession,
    customer: Customer,
    form: dict[str, Any],
    errors: list[forms.FieldError],
) -> Response:
    return form_page(
        request,
        session,
        "dashboard/wallet_form.html",
        active="customers",
        form=form,
        errors=errors,
        status_code=422 if errors else 200,
        customer=customer,
    )


@router.get("/customers/{external_id}/wallets/new")
def new_wallet(
    request: Request, external_id: str, session: SessionDep, c: ContainerDep
) -> Response:
    customer = find_customer(c, session, external_id)
    form = {"currency": customer.currency or session.organization.default_currency or "EUR"}
    return _new_page(request, session, customer, {**form, "rate_amount": "1"}, [])


@router.post("/customers/{external_id}/wallets/new")
def create_wallet(
    request: Request, external_id: str, session: SessionDep, c: ContainerDep, form: CheckedFormDep
) -> Response:
    customer = find_customer(c, session, external_id)
    locale = formatter(request, session).locale
    values: dict[str, Any] = {
        "external_customer_id": customer.external_id,
        "currency": forms.text(form, "currency"),
        **_credits(form, locale, ("rate_amount", "paid_credits", "granted_credits")),
    }
    if forms.text(form, "name"):
        values["name"] = forms.text(form, "name")
    priority = forms.integer(form, "priority")
    if priority is not None:
        values["priority"] = priority
    raw = {k: v for k, v in form.items() if isinstance(v, str) and k != "csrf_token"}
    try:
        view = c.wallets.create(session.organization.id, values)
    except ValidationFailed as exc:
        return _new_page(request, session, customer, raw, money_forms.messages(exc.error_details))
    return RedirectResponse(f"/wallets/{view.wallet.id}?done=created", status_code=303)
