"""Customers: search, detail (metadata, subscriptions, invoices, recent events, a fresh portal
link), create and edit. Subscribing and terminating live in `web.subscriptions`.

Writes go through `CustomerService.upsert`, the same use case as `POST /api/v1/customers`.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response
from starlette.datastructures import FormData

from releve.entrypoints.web import forms
from releve.entrypoints.web.customer_money import customer_money
from releve.entrypoints.web.security import CheckedFormDep, ContainerDep, PageNotFound, SessionDep
from releve.entrypoints.web.templating import render
from releve.entrypoints.web.views import form_page, formatter, pager, portal_view
from releve.services.customers import CUSTOMER_TYPES
from releve.services.dashboard_auth import DashboardSession
from releve.services.errors import NotFound, ValidationFailed
from releve.services.pagination import PageRequest
from releve.services.ports import EventFilter
from releve.services.records import (
    SUBSCRIPTION_ACTIVE,
    SUBSCRIPTION_PENDING,
    SUBSCRIPTION_TERMINATED,
    Customer,
)
from releve.services.usage_reading import one_reading

router = APIRouter(include_in_schema=False)
PER_PAGE = 25
RECENT_EVENTS = 20
CUSTOMER_INVOICES = 20
CUSTOMER_SUBSCRIPTIONS = 50
SUBSCRIPTION_STATUSES = (SUBSCRIPTION_ACTIVE, SUBSCRIPTION_PENDING, SUBSCRIPTION_TERMINATED)
PLAN_CHOICES = 200
TEXT_FIELDS = (
    "name",
    "firstname",
    "lastname",
    "email",
    "phone",
    "customer_type",
    "currency",
    "timezone",
    "country",
    "address_line1",
    "city",
    "zipcode",
    "legal_name",
    "tax_identification_number",
)


def find_customer(c: ContainerDep, session: DashboardSession, external_id: str) -> Customer:
    try:
        return c.customers.get(session.organization.id, external_id)
    except NotFound:
        raise PageNotFound("customer") from None


@router.get("/customers")
def customer_list(
    request: Request, session: SessionDep, c: ContainerDep, q: str = "", page: int = 1
) -> Response:
    result = c.analytics.search_customers(
        session.organization.id, q, PageRequest(max(page, 1), PER_PAGE)
    )
    return render(
        request,
        "dashboard/customers.html",
        fmt=formatter(request, session),
        active="customers",
        q=q,
        customers=result.items,
        pager=pager(result),
    )


def _values_from(form: FormData) -> tuple[dict[str, Any], list[forms.FieldError]]:
    values: dict[str, Any] = {name: forms.text(form, name) for name in TEXT_FIELDS}
    values["net_payment_term"] = forms.integer(form, "net_payment_term")
    errors: list[forms.FieldError] = []
    pairs = forms.key_values(forms.text(form, "metadata"), "=")
    if pairs is None:
        errors += forms.messages({"metadata": ["value_is_invalid"]})
    else:
        values["metadata"] = [{"key": k, "value": v} for k, v in pairs]
    return values, errors


def _form_page(
    request: Request,
    session: DashboardSession,
    *,
    customer: Customer | None,
    form: dict[str, Any],
    errors: list[forms.FieldError],
    status_code: int = 200,
) -> Response:
    return form_page(
        request,
        session,
        "dashboard/customer_form.html",
        active="customers",
        form=form,
        errors=errors,
        status_code=status_code,
        customer=customer,
        customer_types=CUSTOMER_TYPES,
    )


def _form_from_customer(customer: Customer | None) -> dict[str, Any]:
    if customer is None:
        return {"external_id": "", "metadata": ""}
    form: dict[str, Any] = {name: getattr(customer, name) or "" for name in TEXT_FIELDS}
    form["external_id"] = customer.external_id
    form["net_payment_term"] = (
        "" if customer.net_payment_term is None else customer.net_payment_term
    )
    form["metadata"] = "\n".join(f"{m['key']} = {m.get('value') or ''}" for m in customer.metadata)
    return form


@router.get("/customers/new")
def new_customer(request: Request, session: SessionDep) -> Response:
    return _form_page(request, session, customer=None, form=_form_from_customer(None), errors=[])


@router.post("/customers/new")
def create_customer(
    request: Request, session: SessionDep, c: ContainerDep, form: CheckedFormDep
) -> Response:
    values, errors = _values_from(form)
    values["external_id"] = forms.text(form, "external_id")
    raw = forms.submitted(form)
    if not errors:
        org_id = session.organization.id
        if values["external_id"] and _exists(c, org_id, values["external_id"]):
            errors = forms.messages({"external_id": ["value_already_exist"]})
        else:
            try:
                customer, _ = c.customers.upsert(
                    org_id, {k: v for k, v in values.items() if v is not None}
                )
            except ValidationFailed as exc:
                errors = forms.messages(exc.error_details)
            else:
                return RedirectResponse(_detail_url(customer), status_code=303)
    return _form_page(request, session, customer=None, form=raw, errors=errors, status_code=422)


def _exists(c: ContainerDep, organization_id: Any, external_id: str) -> bool:
    try:
        c.customers.get(organization_id, external_id)
    except NotFound:
        return False
    return True


def _detail_url(customer: Customer) -> str:
    return f"/customers/{quote(customer.external_id, safe='')}"


@router.get("/customers/{external_id}/edit")
def edit_customer(
    request: Request, external_id: str, session: SessionDep, c: ContainerDep
) -> Response:
    customer = find_customer(c, session, external_id)
    return _form_page(
        request, session, customer=customer, form=_form_from_customer(customer), errors=[]
    )


@router.post("/customers/{external_id}/edit")
def update_customer(
    request: Request,
    external_id: str,
    session: SessionDep,
    c: ContainerDep,
    form: CheckedFormDep,
) -> Response:
    customer = find_customer(c, session, external_id)
    values, errors = _values_from(form)
    raw = forms.submitted(form)
    raw["external_id"] = customer.external_id
    if not errors:
        values["external_id"] = customer.external_id
        values.setdefault("metadata", [])
        try:
            updated, _ = c.customers.upsert(session.organization.id, values)
        except ValidationFailed as exc:
            errors = forms.messages(exc.error_details)
        else:
            return RedirectResponse(_detail_url(updated) + "?saved=1", status_code=303)
    return _form_page(request, session, customer=customer, form=raw, errors=errors, status_code=422)


def customer_page(
    request: Request,
    session: DashboardSession,
    c: ContainerDep,
    customer: Customer,
    portal_url: str | None = None,
    *,
    subscription_form: dict[str, Any] | None = None,
    subscription_errors: list[forms.FieldError] | None = None,
    status_code: int = 200,
) -> Response:
    """The customer page; also re-rendered with the subscription form's errors (422)."""
    org = session.organization
    # Until subscriptions exist, a customer's events are those sent with its external_id as
    # external_subscription_id (as the portal and the demo do).
    recent = c.events.list(
        org.id,
        EventFilter(external_subscription_id=customer.external_id),
        PageRequest(1, RECENT_EVENTS),
    )
    # The same usage summary as the customer's portal, in the customer's time zone.
    zone = ZoneInfo(customer.timezone or org.timezone or "UTC")
    summaries = portal_view(c).subscriptions(org.id, customer.external_id, c.clock.now(), zone)
    subscriptions = c.subscriptions.list(
        org.id,
        PageRequest(1, CUSTOMER_SUBSCRIPTIONS),
        statuses=SUBSCRIPTION_STATUSES,
        external_customer_id=customer.external_id,
    )
    invoices = c.invoices.list(
        org.id, PageRequest(1, CUSTOMER_INVOICES), external_customer_id=customer.external_id
    )
    plans = c.plans.list(org.id, PageRequest(1, PLAN_CHOICES)).items
    errors = subscription_errors or []
    return render(
        request,
        "dashboard/customer.html",
        status_code=status_code,
        fmt=formatter(request, session),
        active="customers",
        customer=customer,
        events=recent.items,
        summaries=summaries,
        event_total=recent.total_count,
        portal_url=portal_url,
        saved=request.query_params.get("saved") == "1",
        subscriptions=subscriptions.items,
        invoices=invoices.items,
        invoice_total=invoices.total_count,
        plans=[p.plan for p in plans],
        sub_form=subscription_form or {"billing_time": "calendar"},
        sub_errors=errors,
        sub_field_errors=forms.by_field(errors),
        notice=request.query_params.get("notice", ""),
        money=customer_money(c, customer),
    )


@router.get("/customers/{external_id}")
def customer_detail(
    request: Request, external_id: str, session: SessionDep, c: ContainerDep
) -> Response:
    with one_reading():  # every section shows the same reading of usage (read once)
        return customer_page(request, session, c, find_customer(c, session, external_id))


@router.post("/customers/{external_id}/portal-link")
def portal_link(
    request: Request,
    external_id: str,
    session: SessionDep,
    c: ContainerDep,
    _: CheckedFormDep,
) -> Response:
    """A fresh signed link, shown once on the page (it is a credential: never stored)."""
    customer = find_customer(c, session, external_id)
    token = c.portal.issue_token(session.organization.id, customer.external_id)
    url = f"{c.settings.public_url}/portal/{token}"  # the address customers can reach
    return customer_page(request, session, c, customer, portal_url=url)
