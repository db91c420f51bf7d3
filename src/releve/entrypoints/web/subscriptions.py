"""A customer's subscriptions from the dashboard: subscribe to a plan, terminate (confirmed).

Both call `SubscriptionService` — `create` is `POST /api/v1/subscriptions`, `terminate` is
`DELETE /api/v1/subscriptions/{external_id}` — so the start invoice of an in-advance plan and
the final invoice of a termination are issued by billing in the same unit of work, exactly as
through the API, and appear on the customer page at once.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from urllib.parse import quote, urlencode
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response

from releve.entrypoints.web import forms
from releve.entrypoints.web.customers import customer_page, find_customer
from releve.entrypoints.web.security import CheckedFormDep, ContainerDep, PageNotFound, SessionDep
from releve.entrypoints.web.templating import render
from releve.entrypoints.web.views import formatter
from releve.services.dashboard_auth import DashboardSession
from releve.services.errors import NotFound, ValidationFailed
from releve.services.records import SUBSCRIPTION_ACTIVE, SUBSCRIPTION_PENDING, Customer
from releve.services.subscriptions import SubscriptionView

router = APIRouter(include_in_schema=False)

LABELS = {
    "plan_code": "Plan",
    "external_id": "Subscription ID",
    "billing_time": "Billing time",
    "subscription_at": "Start",
    "name": "Display name",
}
MESSAGES = {
    ("plan_code", "value_is_mandatory"): "Choose a plan.",
    ("plan_code", "plan_not_found"): "This plan does not exist (any more); choose another one.",
    ("external_id", "value_is_mandatory"): (
        "Subscription ID is required: the id your events send as external_subscription_id."
    ),
    ("external_id", "value_already_exist"): (
        "Subscription ID is already used by another customer's subscription."
    ),
    ("billing_time", "value_is_invalid"): "Billing time must be calendar or anniversary.",
    ("subscription_at", "invalid_date"): "Start must be a date and time, such as 2024-03-01 00:00.",
}


def _url(customer: Customer, **params: str) -> str:
    query = f"?{urlencode(params)}" if params else ""
    return f"/customers/{quote(customer.external_id, safe='')}{query}"


def _zone(session: DashboardSession, customer: Customer) -> ZoneInfo:
    return ZoneInfo(customer.timezone or session.organization.timezone or "UTC")


def _start(value: str | None, zone: ZoneInfo) -> str | None:
    """A `datetime-local` value read on the customer's wall clock; other text goes to the
    service unchanged so that it names the field."""
    if value is None:
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return value
    return (moment if moment.tzinfo else moment.replace(tzinfo=zone)).isoformat()


def _errors(details: dict[str, Any]) -> list[forms.FieldError]:
    result = []
    for field, codes in details.items():
        label = LABELS.get(field, field.replace("_", " ").capitalize())
        for code in codes if isinstance(codes, list) else [codes]:
            text = MESSAGES.get((field, code)) or f"{label} is not valid ({code})."
            result.append(forms.FieldError(field if field in LABELS else "plan_code", label, text))
    return result


@router.post("/customers/{external_id}/subscriptions")
def subscribe(
    request: Request, external_id: str, session: SessionDep, c: ContainerDep, form: CheckedFormDep
) -> Response:
    customer = find_customer(c, session, external_id)
    raw = forms.submitted(form)
    values = {
        "external_customer_id": customer.external_id,
        "plan_code": forms.text(form, "plan_code"),
        "external_id": forms.text(form, "external_id"),
        "billing_time": forms.text(form, "billing_time") or "calendar",
        "subscription_at": _start(forms.text(form, "subscription_at"), _zone(session, customer)),
        "name": forms.text(form, "name"),
    }
    try:
        created = c.subscriptions.create(
            session.organization.id, {k: v for k, v in values.items() if v is not None}
        )
    except ValidationFailed as exc:
        errors = _errors(exc.error_details)
    except NotFound:
        errors = _errors({"plan_code": ["plan_not_found"]})
    else:
        sub = created.subscription
        notice = f"Subscription {sub.external_id} is {sub.status}."
        return RedirectResponse(_url(customer, notice=notice), status_code=303)
    return customer_page(
        request,
        session,
        c,
        customer,
        subscription_form=raw,
        subscription_errors=errors,
        status_code=422,
    )


def _live(
    c: ContainerDep, session: DashboardSession, customer: Customer, subscription_id: str
) -> SubscriptionView:
    """The customer's active or pending subscription; anything else (another customer's,
    another organization's, already terminated) is not found."""
    try:
        view = c.subscriptions.get(session.organization.id, subscription_id)
    except NotFound:
        raise PageNotFound("subscription") from None
    sub = view.subscription
    if sub.customer_id != customer.id or sub.status not in (
        SUBSCRIPTION_ACTIVE,
        SUBSCRIPTION_PENDING,
    ):
        raise PageNotFound("subscription")
    return view


@router.get("/customers/{external_id}/subscriptions/{subscription_id}/terminate")
def confirm_termination(
    request: Request, external_id: str, subscription_id: str, session: SessionDep, c: ContainerDep
) -> Response:
    customer = find_customer(c, session, external_id)
    view = _live(c, session, customer, subscription_id)
    return render(
        request,
        "dashboard/terminate.html",
        fmt=formatter(request, session),
        active="customers",
        customer=customer,
        view=view,
        now=c.clock.now(),
    )


@router.post("/customers/{external_id}/subscriptions/{subscription_id}/terminate")
def terminate(
    external_id: str,
    subscription_id: str,
    session: SessionDep,
    c: ContainerDep,
    _: CheckedFormDep,
) -> Response:
    customer = find_customer(c, session, external_id)
    view = _live(c, session, customer, subscription_id)
    try:
        done = c.subscriptions.terminate(session.organization.id, view.subscription.external_id)
    except NotFound:
        raise PageNotFound("subscription") from None
    notice = (
        f"Subscription {done.subscription.external_id} is {done.subscription.status}. "
        "Its final invoice, if any is due, is listed below."
    )
    return RedirectResponse(_url(customer, notice=notice), status_code=303)
