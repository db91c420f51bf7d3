"""Dashboard webhooks: the organization's endpoints (add, delete) and each endpoint's delivery
log (every attempt with its HTTP status or error), with a retry button on failed webhooks.

The same use cases as the API: `WebhookService.create_endpoint` / `delete_endpoint` (POST,
DELETE /webhook_endpoints), `deliveries` (GET /webhook_endpoints/{id}/deliveries) and `retry`
(POST /webhooks/{id}/retry). Another organization's endpoint or webhook is a 404.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response

from releve.bootstrap import Container
from releve.entrypoints.web import forms, money_forms
from releve.entrypoints.web.security import CheckedFormDep, ContainerDep, PageNotFound, SessionDep
from releve.entrypoints.web.templating import render
from releve.entrypoints.web.views import formatter, pager
from releve.services.dashboard_auth import DashboardSession
from releve.services.errors import NotFound, ValidationFailed
from releve.services.pagination import PageRequest
from releve.services.webhook_ports import WebhookEndpoint

router = APIRouter(include_in_schema=False)
ENDPOINTS = 100
ATTEMPTS_PER_PAGE = 25
DONE = {
    "added": "Endpoint added: new webhooks are sent to it.",
    "deleted": "Endpoint deleted, with its pending webhooks and its log.",
    "retry": "The webhook will be sent again at the next delivery round.",
}


def _list(
    request: Request,
    session: DashboardSession,
    c: Container,
    form: dict[str, Any] | None = None,
    errors: list[forms.FieldError] | None = None,
) -> Response:
    endpoints = c.webhooks.list_endpoints(session.organization.id, PageRequest(1, ENDPOINTS))
    errors = errors or []
    return render(
        request,
        "dashboard/webhooks.html",
        status_code=422 if errors else 200,
        fmt=formatter(request, session),
        active="webhooks",
        endpoints=endpoints.items,
        form=form or {},
        errors=errors,
        field_errors=forms.by_field(errors),
        done=DONE.get(request.query_params.get("done", ""), ""),
    )


@router.get("/webhooks")
def webhook_endpoints(request: Request, session: SessionDep, c: ContainerDep) -> Response:
    return _list(request, session, c)


@router.post("/webhooks")
def add_endpoint(
    request: Request, session: SessionDep, c: ContainerDep, form: CheckedFormDep
) -> Response:
    values: dict[str, Any] = {"webhook_url": forms.text(form, "webhook_url")}
    if forms.text(form, "name"):
        values["name"] = forms.text(form, "name")
    raw = {k: v for k, v in form.items() if isinstance(v, str) and k != "csrf_token"}
    try:
        endpoint = c.webhooks.create_endpoint(session.organization.id, values)
    except ValidationFailed as exc:
        return _list(request, session, c, raw, money_forms.messages(exc.error_details))
    return RedirectResponse(f"/webhooks/{endpoint.id}?done=added", status_code=303)


def _endpoint(c: Container, session: DashboardSession, endpoint_id: str) -> WebhookEndpoint:
    try:
        return c.webhooks.get_endpoint(session.organization.id, endpoint_id)
    except NotFound:
        raise PageNotFound("webhook endpoint") from None


@router.get("/webhooks/{endpoint_id}")
def endpoint_log(
    request: Request, endpoint_id: str, session: SessionDep, c: ContainerDep, page: int = 1
) -> Response:
    endpoint = _endpoint(c, session, endpoint_id)
    log = c.webhooks.deliveries(
        session.organization.id, str(endpoint.id), PageRequest(max(page, 1), ATTEMPTS_PER_PAGE)
    )
    return render(
        request,
        "dashboard/webhook_log.html",
        fmt=formatter(request, session),
        active="webhooks",
        endpoint=endpoint,
        attempts=log.items,
        pager=pager(log),
        done=DONE.get(request.query_params.get("done", ""), ""),
    )


@router.post("/webhooks/{endpoint_id}/delete")
def delete_endpoint(
    endpoint_id: str, session: SessionDep, c: ContainerDep, _: CheckedFormDep
) -> Response:
    endpoint = _endpoint(c, session, endpoint_id)
    c.webhooks.delete_endpoint(session.organization.id, str(endpoint.id))
    return RedirectResponse("/webhooks?done=deleted", status_code=303)


@router.post("/webhooks/deliveries/{webhook_id}/retry")
def retry(webhook_id: str, session: SessionDep, c: ContainerDep, _: CheckedFormDep) -> Response:
    try:
        webhook = c.webhooks.retry(session.organization.id, webhook_id)
    except NotFound:
        raise PageNotFound("webhook") from None
    except ValidationFailed:
        webhook = c.webhooks.get_webhook(session.organization.id, webhook_id)
        return RedirectResponse(f"/webhooks/{webhook.webhook_endpoint_id}", status_code=303)
    return RedirectResponse(f"/webhooks/{webhook.webhook_endpoint_id}?done=retry", status_code=303)
