"""Plans in the catalog: list, detail (charges and their pricing, readably), create and edit.

The form has friendly fields for what every plan has (name, code, interval, price, currency,
in advance) and a JSON textarea for the rest of the Lago plan body (charges, trial, taxes,
commitment…). The two are merged and sent to `PlanService` — the same parser and rules as
`POST /api/v1/plans` — whose errors come back next to their field, or, for the JSON body, as a
sentence that starts with the JSON path of the bad value
(`charges[0].properties.graduated_ranges: range 1 must start at …`).
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal, InvalidOperation
from typing import Any
from urllib.parse import quote

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response
from starlette.datastructures import FormData

from releve.adapters.currency_catalog import currency as currency_of
from releve.domain.errors import DomainError
from releve.domain.periods import Interval
from releve.domain.plans import Plan, plan_to_lago
from releve.entrypoints.web import forms
from releve.entrypoints.web.plan_display import charge_views, pretty_json
from releve.entrypoints.web.security import CheckedFormDep, ContainerDep, PageNotFound, SessionDep
from releve.entrypoints.web.templating import render
from releve.entrypoints.web.views import form_page, formatter, pager
from releve.services import exact_json
from releve.services.dashboard_auth import DashboardSession
from releve.services.errors import NotFound, ValidationFailed
from releve.services.pagination import PageRequest
from releve.services.records import StoredPlan

router = APIRouter(include_in_schema=False)
PER_PAGE = 50
INTERVALS = [i.value for i in Interval]
FRIENDLY = {  # Lago key → form field
    "name": "name",
    "code": "code",
    "interval": "interval",
    "amount_cents": "amount",
    "amount_currency": "amount_currency",
    "pay_in_advance": "pay_in_advance",
    "description": "description",
}
LABELS = {
    "name": "Name",
    "code": "Code",
    "interval": "Interval",
    "amount": "Price per interval",
    "amount_currency": "Currency",
    "pay_in_advance": "Paid in advance",
    "description": "Description",
    "body": "Charges and other settings (JSON)",
}
CODES = {
    "value_is_mandatory": "is required.",
    "value_already_exist": "is already used by another plan; codes are unique.",
    "value_is_invalid": "is not valid.",
}


def _stored(c: ContainerDep, session: DashboardSession, code: str) -> StoredPlan:
    try:
        return c.plans.get(session.organization.id, code)
    except NotFound:
        raise PageNotFound("plan") from None


@router.get("/plans")
def plan_list(request: Request, session: SessionDep, c: ContainerDep, page: int = 1) -> Response:
    result = c.plans.list(session.organization.id, PageRequest(max(page, 1), PER_PAGE))
    return render(
        request,
        "dashboard/plans.html",
        fmt=formatter(request, session),
        active="plans",
        plans=[s.plan for s in result.items],
        pager=pager(result),
    )


@router.get("/plans/new")
def new_plan(request: Request, session: SessionDep) -> Response:
    form = {
        "interval": "monthly",
        "amount": "0",
        "amount_currency": session.organization.default_currency,
        "body": pretty_json({"charges": [], "trial_period": 0, "tax_codes": []}),
    }
    return _form_page(request, session, plan=None, form=form, errors=[])


@router.post("/plans/new")
def create_plan(
    request: Request, session: SessionDep, c: ContainerDep, form: CheckedFormDep
) -> Response:
    payload, errors = _payload(form)
    if not errors:
        try:
            stored = c.plans.create(session.organization.id, payload)
        except ValidationFailed as exc:
            errors = _messages(exc)
        else:
            return RedirectResponse(_url(stored.plan) + "?saved=1", status_code=303)
    return _form_page(
        request, session, plan=None, form=forms.submitted(form), errors=errors, status_code=422
    )


@router.get("/plans/{code}")
def plan_detail(request: Request, code: str, session: SessionDep, c: ContainerDep) -> Response:
    plan = _stored(c, session, code).plan
    return render(
        request,
        "dashboard/plan.html",
        fmt=formatter(request, session),
        active="plans",
        plan=plan,
        charges=charge_views(plan),
        saved=request.query_params.get("saved") == "1",
    )


@router.get("/plans/{code}/edit")
def edit_plan(request: Request, code: str, session: SessionDep, c: ContainerDep) -> Response:
    plan = _stored(c, session, code).plan
    return _form_page(request, session, plan=plan, form=_form_from(plan), errors=[])


@router.post("/plans/{code}/edit")
def update_plan(
    request: Request, code: str, session: SessionDep, c: ContainerDep, form: CheckedFormDep
) -> Response:
    plan = _stored(c, session, code).plan
    payload, errors = _payload(form)
    if not errors:
        try:
            stored = c.plans.update(session.organization.id, plan.code, payload)
        except NotFound:
            raise PageNotFound("plan") from None
        except ValidationFailed as exc:
            errors = _messages(exc)
        else:
            return RedirectResponse(_url(stored.plan) + "?saved=1", status_code=303)
    return _form_page(
        request, session, plan=plan, form=forms.submitted(form), errors=errors, status_code=422
    )


def _url(plan: Plan) -> str:
    return f"/plans/{quote(plan.code, safe='')}"


def _form_page(
    request: Request,
    session: DashboardSession,
    *,
    plan: Plan | None,
    form: dict[str, Any],
    errors: list[forms.FieldError],
    status_code: int = 200,
) -> Response:
    return form_page(
        request,
        session,
        "dashboard/plan_form.html",
        active="plans",
        form=form,
        errors=errors,
        status_code=status_code,
        plan=plan,
        intervals=INTERVALS,
    )


def _form_from(plan: Plan) -> dict[str, Any]:
    """The stored plan as the form shows it: friendly fields, the rest as Lago JSON. Charges
    keep their `id` so that editing them keeps their usage (PlanService.update)."""
    body: dict[str, Any] = dict(plan_to_lago(plan))
    body.pop("lago_id", None)
    body.pop("lago_parent_id", None)
    for key in FRIENDLY:
        body.pop(key, None)
    body["charges"] = [
        {"id": c["lago_id"], **{k: v for k, v in c.items() if not k.startswith("lago_")}}
        for c in body.get("charges", [])
    ]
    return {
        "name": plan.name,
        "code": plan.code,
        "interval": plan.interval.value,
        "amount": str(Decimal(plan.amount_cents).scaleb(-plan.currency.exponent)),
        "amount_currency": plan.currency.code,
        "pay_in_advance": "on" if plan.pay_in_advance else "",
        "description": plan.description or "",
        "body": pretty_json(body),
    }


def _payload(form: FormData) -> tuple[dict[str, Any], list[forms.FieldError]]:
    """Friendly fields on top of the JSON body; what cannot even be read is reported here."""
    errors: list[forms.FieldError] = []
    raw_body = forms.text(form, "body") or "{}"
    try:
        body = exact_json.loads(raw_body)  # numbers as Decimal: never a float
    except ValueError as exc:
        body = {}
        errors.append(_error("body", f"is not valid JSON ({exc})."))
    if isinstance(body, Mapping) and isinstance(body.get("plan"), Mapping):
        body = body["plan"]  # the API's wrapped form is accepted too
    if not isinstance(body, Mapping):
        body = {}
        errors.append(_error("body", 'must be a JSON object, such as {"charges": []}.'))
    payload: dict[str, Any] = {**body}
    for key in ("name", "code", "interval", "description"):
        payload[key] = forms.text(form, key)
    payload["pay_in_advance"] = form.get("pay_in_advance") == "on"
    code = (forms.text(form, "amount_currency") or "").upper()
    payload["amount_currency"] = code or None
    amount = forms.text(form, "amount") or "0"
    try:
        exponent = currency_of(code).exponent if code else 2
        cents = Decimal(amount).scaleb(exponent)
        if not cents.is_finite() or cents != cents.to_integral_value() or cents < 0:
            raise InvalidOperation
        payload["amount_cents"] = int(cents)
    except DomainError:
        payload["amount_cents"] = 0  # the service names the currency
    except InvalidOperation:
        errors.append(
            _error("amount", "must be an amount of 0 or more, at most the currency's decimals.")
        )
    return payload, errors


def _error(field: str, text: str) -> forms.FieldError:
    return forms.FieldError(field, LABELS[field], f"{LABELS[field]} {text}")


def _messages(exc: ValidationFailed) -> list[forms.FieldError]:
    """Service errors → sentences. Friendly fields get their label; everything inside the JSON
    body is reported on the textarea, starting with the JSON path of the bad value."""
    cause = exc.__cause__
    detail = (
        str(cause) if isinstance(cause, DomainError) and not isinstance(cause, NotFound) else ""
    )
    result = []
    for path, codes in exc.error_details.items():
        for code in codes if isinstance(codes, list) else [codes]:
            field = FRIENDLY.get(path)
            if field is not None:
                text = detail or CODES.get(code, f"is not valid ({code}).")
                if field == "amount_currency" and code == "value_is_invalid":
                    text = "must be an ISO 4217 currency code, such as EUR or USD."
                if text == detail:
                    text = f"is not valid: {detail}."
                result.append(_error(field, text))
                continue
            reason = detail or code.replace("_", " ")
            head, sep, rest = reason.partition(": ")
            if sep and path.endswith(head):  # the domain names the field relative to its part
                reason = rest
            sentence = f"{path}: {reason}." if path != "base" else f"{reason}."
            result.append(forms.FieldError("body", LABELS["body"], sentence))
    return result
