"""POST/GET /taxes, GET/PUT/DELETE /taxes/{code}."""

from __future__ import annotations

from fastapi import APIRouter

from releve.entrypoints.api import serializers
from releve.entrypoints.api.deps import ContainerDep, OrganizationDep, PageDep
from releve.entrypoints.api.exact import ExactJSONResponse, ExactRoute
from releve.entrypoints.api.schemas import TaxBody

router = APIRouter(route_class=ExactRoute, tags=["taxes"])


@router.post("/taxes", summary="Create a tax")
def create_tax(body: TaxBody, org: OrganizationDep, c: ContainerDep) -> ExactJSONResponse:
    tax = c.taxes.create(org.id, body.tax.model_dump(exclude_unset=True))
    return ExactJSONResponse({"tax": serializers.tax(tax)})


@router.get("/taxes", summary="List taxes")
def list_taxes(org: OrganizationDep, c: ContainerDep, page: PageDep) -> ExactJSONResponse:
    result = c.taxes.list(org.id, page)
    return ExactJSONResponse(
        {"taxes": [serializers.tax(t) for t in result.items], "meta": result.meta()}
    )


@router.get("/taxes/{code}", summary="Find a tax")
def get_tax(code: str, org: OrganizationDep, c: ContainerDep) -> ExactJSONResponse:
    return ExactJSONResponse({"tax": serializers.tax(c.taxes.get(org.id, code))})


@router.put("/taxes/{code}", summary="Update a tax")
def update_tax(
    code: str, body: TaxBody, org: OrganizationDep, c: ContainerDep
) -> ExactJSONResponse:
    tax = c.taxes.update(org.id, code, body.tax.model_dump(exclude_unset=True))
    return ExactJSONResponse({"tax": serializers.tax(tax)})


@router.delete("/taxes/{code}", summary="Delete a tax")
def delete_tax(code: str, org: OrganizationDep, c: ContainerDep) -> ExactJSONResponse:
    return ExactJSONResponse({"tax": serializers.tax(c.taxes.delete(org.id, code))})
