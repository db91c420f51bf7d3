"""POST/GET /plans, GET/PUT/DELETE /plans/{code} (charges and charge filters inline)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body, HTTPException

from releve.entrypoints.api import serializers
from releve.entrypoints.api.deps import ContainerDep, OrganizationDep, PageDep
from releve.entrypoints.api.exact import ExactJSONResponse, ExactRoute

router = APIRouter(route_class=ExactRoute, tags=["plans"])

PlanBody = Annotated[
    dict[str, Any],
    Body(
        description='{"plan": {...}} as Lago: name, code, interval, amount_cents, '
        "amount_currency, charges[{billable_metric_id or billable_metric_code, charge_model, "
        "properties, filters[]}], ...",
    ),
]


def root(body: dict[str, Any], key: str) -> dict[str, Any]:
    """The wrapped object; a missing or non-object wrapper is Lago's 400."""
    value = body.get(key)
    if not isinstance(value, dict):
        raise HTTPException(400, f"param is missing or the value is empty: {key}")
    return value


@router.post("/plans", summary="Create a plan with its charges")
def create_plan(body: PlanBody, org: OrganizationDep, c: ContainerDep) -> ExactJSONResponse:
    stored = c.plans.create(org.id, root(body, "plan"))
    return ExactJSONResponse({"plan": serializers.plan(stored)})


@router.get("/plans", summary="List plans")
def list_plans(org: OrganizationDep, c: ContainerDep, page: PageDep) -> ExactJSONResponse:
    result = c.plans.list(org.id, page)
    return ExactJSONResponse(
        {"plans": [serializers.plan(p) for p in result.items], "meta": result.meta()}
    )


@router.get("/plans/{code}", summary="Find a plan")
def get_plan(code: str, org: OrganizationDep, c: ContainerDep) -> ExactJSONResponse:
    return ExactJSONResponse({"plan": serializers.plan(c.plans.get(org.id, code))})


@router.put("/plans/{code}", summary="Update a plan (sent keys only; charges as a whole list)")
def update_plan(
    code: str, body: PlanBody, org: OrganizationDep, c: ContainerDep
) -> ExactJSONResponse:
    stored = c.plans.update(org.id, code, root(body, "plan"))
    return ExactJSONResponse({"plan": serializers.plan(stored)})


@router.delete("/plans/{code}", summary="Delete a plan (its subscriptions are terminated)")
def delete_plan(code: str, org: OrganizationDep, c: ContainerDep) -> ExactJSONResponse:
    stored = c.plans.delete(org.id, code, terminate=c.subscriptions.terminate_plan_subscriptions)
    return ExactJSONResponse({"plan": serializers.plan(stored)})
