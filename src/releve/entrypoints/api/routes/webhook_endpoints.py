"""Webhook endpoints (Lago v1 shapes), plus Relevé's delivery log and manual retry.

Lago: POST/GET /webhook_endpoints, GET/PUT/DELETE /webhook_endpoints/{lago_id}.
Relevé extensions (additive): GET /webhook_endpoints/{lago_id}/deliveries — every attempt,
newest first, with its HTTP status, response excerpt, error and duration; GET /webhooks/{id};
POST /webhooks/{id}/retry — send a failed webhook again at the next delivery round.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from pydantic import BaseModel

from releve.entrypoints.api.deps import ContainerDep, OrganizationDep, PageDep
from releve.entrypoints.api.exact import ExactJSONResponse, ExactRoute
from releve.entrypoints.api.serializers import iso
from releve.services.webhook_ports import Webhook, WebhookAttempt, WebhookEndpoint

router = APIRouter(route_class=ExactRoute, tags=["webhook_endpoints"])


class WebhookEndpointBody(BaseModel):
    webhook_endpoint: dict[str, Any]


def endpoint_json(e: WebhookEndpoint) -> dict[str, Any]:
    return {
        "lago_id": str(e.id),
        "lago_organization_id": str(e.organization_id),
        "webhook_url": e.webhook_url,
        "signature_algo": e.signature_algo,
        "name": e.name,
        "event_types": e.event_types,
        "created_at": iso(e.created_at),
    }


def webhook_json(w: Webhook) -> dict[str, Any]:
    return {
        "lago_id": str(w.id),
        "lago_webhook_endpoint_id": str(w.webhook_endpoint_id),
        "webhook_type": w.webhook_type,
        "object_type": w.object_type,
        "object_id": w.object_id,
        "status": w.status,
        "retries": max(w.attempts - 1, 0),
        "attempts": w.attempts,
        "http_status": w.last_http_status,
        "last_retried_at": iso(w.last_attempt_at),
        "next_attempt_at": iso(w.next_attempt_at),
        "created_at": iso(w.created_at),
        "updated_at": iso(w.updated_at),
    }


def attempt_json(a: WebhookAttempt, w: Webhook) -> dict[str, Any]:
    return {
        "lago_id": str(a.id),
        "lago_webhook_id": str(a.webhook_id),
        "webhook_type": w.webhook_type,
        "object_type": w.object_type,
        "object_id": w.object_id,
        "attempt": a.attempt,
        "http_status": a.http_status,
        "response": a.response_excerpt,
        "error": a.error,
        "attempted_at": iso(a.attempted_at),
        "duration_ms": a.duration_ms,
        "webhook_status": w.status,
        "next_attempt_at": iso(w.next_attempt_at),
    }


def _one(endpoint: WebhookEndpoint) -> ExactJSONResponse:
    return ExactJSONResponse({"webhook_endpoint": endpoint_json(endpoint)})


@router.post("/webhook_endpoints", summary="Create a webhook endpoint")
def create_webhook_endpoint(
    body: WebhookEndpointBody, org: OrganizationDep, c: ContainerDep
) -> ExactJSONResponse:
    return _one(c.webhooks.create_endpoint(org.id, body.webhook_endpoint))


@router.get("/webhook_endpoints", summary="List webhook endpoints")
def list_webhook_endpoints(
    org: OrganizationDep, c: ContainerDep, page: PageDep
) -> ExactJSONResponse:
    result = c.webhooks.list_endpoints(org.id, page)
    return ExactJSONResponse(
        {"webhook_endpoints": [endpoint_json(e) for e in result.items], "meta": result.meta()}
    )


@router.get("/webhook_endpoints/{lago_id}", summary="Find a webhook endpoint")
def get_webhook_endpoint(lago_id: str, org: OrganizationDep, c: ContainerDep) -> ExactJSONResponse:
    return _one(c.webhooks.get_endpoint(org.id, lago_id))


@router.put("/webhook_endpoints/{lago_id}", summary="Update a webhook endpoint")
def update_webhook_endpoint(
    lago_id: str, body: WebhookEndpointBody, org: OrganizationDep, c: ContainerDep
) -> ExactJSONResponse:
    return _one(c.webhooks.update_endpoint(org.id, lago_id, body.webhook_endpoint))


@router.delete("/webhook_endpoints/{lago_id}", summary="Delete a webhook endpoint")
def delete_webhook_endpoint(
    lago_id: str, org: OrganizationDep, c: ContainerDep
) -> ExactJSONResponse:
    return _one(c.webhooks.delete_endpoint(org.id, lago_id))


@router.get(
    "/webhook_endpoints/{lago_id}/deliveries",
    summary="Delivery log of a webhook endpoint (Relevé extension)",
)
def list_webhook_deliveries(
    lago_id: str, org: OrganizationDep, c: ContainerDep, page: PageDep
) -> ExactJSONResponse:
    result = c.webhooks.deliveries(org.id, lago_id, page)
    return ExactJSONResponse(
        {"deliveries": [attempt_json(a, w) for a, w in result.items], "meta": result.meta()}
    )


@router.get("/webhooks/{lago_id}", summary="Find a webhook (Relevé extension)")
def get_webhook(lago_id: str, org: OrganizationDep, c: ContainerDep) -> ExactJSONResponse:
    return ExactJSONResponse({"webhook": webhook_json(c.webhooks.get_webhook(org.id, lago_id))})


@router.post("/webhooks/{lago_id}/retry", summary="Retry a webhook (Relevé extension)")
def retry_webhook(lago_id: str, org: OrganizationDep, c: ContainerDep) -> ExactJSONResponse:
    return ExactJSONResponse({"webhook": webhook_json(c.webhooks.retry(org.id, lago_id))})
