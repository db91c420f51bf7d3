"""POST/GET /billable_metrics, GET/PUT/DELETE /billable_metrics/{code}."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from releve.entrypoints.api import serializers
from releve.entrypoints.api.deps import ContainerDep, OrganizationDep, PageDep
from releve.entrypoints.api.exact import ExactJSONResponse, ExactRoute
from releve.entrypoints.api.schemas import BillableMetricBody

router = APIRouter(route_class=ExactRoute, tags=["billable_metrics"])


def _values(body: BillableMetricBody) -> dict[str, Any]:
    return body.billable_metric.model_dump(exclude_unset=True)


@router.post("/billable_metrics", summary="Create a billable metric")
def create_metric(
    body: BillableMetricBody, org: OrganizationDep, c: ContainerDep
) -> ExactJSONResponse:
    metric = c.billable_metrics.create(org.id, _values(body))
    return ExactJSONResponse({"billable_metric": serializers.billable_metric(metric)})


@router.get("/billable_metrics", summary="List billable metrics")
def list_metrics(org: OrganizationDep, c: ContainerDep, page: PageDep) -> ExactJSONResponse:
    result = c.billable_metrics.list(org.id, page)
    return ExactJSONResponse(
        {
            "billable_metrics": [serializers.billable_metric(m) for m in result.items],
            "meta": result.meta(),
        }
    )


@router.get("/billable_metrics/{code}", summary="Find a billable metric")
def get_metric(code: str, org: OrganizationDep, c: ContainerDep) -> ExactJSONResponse:
    return ExactJSONResponse(
        {"billable_metric": serializers.billable_metric(c.billable_metrics.get(org.id, code))}
    )


@router.put("/billable_metrics/{code}", summary="Update a billable metric")
def update_metric(
    code: str, body: BillableMetricBody, org: OrganizationDep, c: ContainerDep
) -> ExactJSONResponse:
    metric = c.billable_metrics.update(org.id, code, _values(body))
    return ExactJSONResponse({"billable_metric": serializers.billable_metric(metric)})


@router.delete("/billable_metrics/{code}", summary="Delete a billable metric")
def delete_metric(code: str, org: OrganizationDep, c: ContainerDep) -> ExactJSONResponse:
    metric = c.billable_metrics.delete(org.id, code)
    return ExactJSONResponse({"billable_metric": serializers.billable_metric(metric)})
