"""Subscription alerts, Lago v1: `/subscriptions/{external_id}/alerts`.

POST takes one alert `{"alert": {...}}` (→ `{"alert": ...}`) or Lago's batch
`{"alerts": [...]}` (→ `{"alerts": [...]}`, all or nothing); DELETE without a code removes all
of the subscription's alerts. `GET .../alerts/{code}/triggered_alerts` (a Relevé extension:
Lago only sends them as `alert.triggered` webhooks) lists an alert's firings, newest first, in
the webhook's `triggered_alert` shape. Another organization's subscription is a 404.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body, HTTPException

from releve.entrypoints.api.alert_serializers import alert
from releve.entrypoints.api.deps import ContainerDep, OrganizationDep, PageDep
from releve.entrypoints.api.exact import ExactJSONResponse, ExactRoute
from releve.entrypoints.api.routes.plans import root

router = APIRouter(route_class=ExactRoute, tags=["alerts"])
BASE = "/subscriptions/{external_id}/alerts"

AlertBody = Annotated[
    dict[str, Any],
    Body(
        description='{"alert": {"alert_type": "current_usage_amount", "code": "spend", '
        '"thresholds": [{"code": "warn", "value": "5000"}]}} or {"alerts": [...]}; amount '
        "values in minor units.",
    ),
]


@router.post(BASE, summary='Create an alert (or several: {"alerts": [...]})')
def create_alert(
    external_id: str, body: AlertBody, org: OrganizationDep, c: ContainerDep
) -> ExactJSONResponse:
    if "alerts" in body and "alert" not in body:
        items = body["alerts"]
        if not isinstance(items, list):
            raise HTTPException(400, "param is missing or the value is empty: alerts")
        views = c.alerts.create_many(org.id, external_id, items)
        return ExactJSONResponse({"alerts": [alert(v) for v in views]})
    view = c.alerts.create(org.id, external_id, root(body, "alert"))
    return ExactJSONResponse({"alert": alert(view)})


@router.get(BASE, summary="List a subscription's alerts")
def list_alerts(
    external_id: str, org: OrganizationDep, c: ContainerDep, page: PageDep
) -> ExactJSONResponse:
    result = c.alerts.list(org.id, external_id, page)
    return ExactJSONResponse({"alerts": [alert(v) for v in result.items], "meta": result.meta()})


@router.delete(BASE, summary="Delete all of a subscription's alerts")
def delete_alerts(external_id: str, org: OrganizationDep, c: ContainerDep) -> ExactJSONResponse:
    views = c.alerts.delete(org.id, external_id)
    return ExactJSONResponse({"alerts": [alert(v) for v in views]})


@router.get(BASE + "/{code}", summary="Find an alert")
def get_alert(
    external_id: str, code: str, org: OrganizationDep, c: ContainerDep
) -> ExactJSONResponse:
    return ExactJSONResponse({"alert": alert(c.alerts.get(org.id, external_id, code))})


@router.put(BASE + "/{code}", summary="Update an alert")
def update_alert(
    external_id: str, code: str, body: AlertBody, org: OrganizationDep, c: ContainerDep
) -> ExactJSONResponse:
    view = c.alerts.update(org.id, external_id, code, root(body, "alert"))
    return ExactJSONResponse({"alert": alert(view)})


@router.delete(BASE + "/{code}", summary="Delete an alert")
def delete_alert(
    external_id: str, code: str, org: OrganizationDep, c: ContainerDep
) -> ExactJSONResponse:
    (view,) = c.alerts.delete(org.id, external_id, code)
    return ExactJSONResponse({"alert": alert(view)})


@router.get(BASE + "/{code}/triggered_alerts", summary="An alert's firings (Relevé extension)")
def triggered_alerts(
    external_id: str, code: str, org: OrganizationDep, c: ContainerDep, page: PageDep
) -> ExactJSONResponse:
    result = c.alerts.triggered(org.id, external_id, code, page)
    return ExactJSONResponse({"triggered_alerts": list(result.items), "meta": result.meta()})
