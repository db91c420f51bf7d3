"""Add-ons (Lago v1 shapes): POST/GET /add_ons, GET/PUT/DELETE /add_ons/{code}."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body

from releve.entrypoints.api import coupon_serializers
from releve.entrypoints.api.deps import ContainerDep, OrganizationDep, PageDep
from releve.entrypoints.api.exact import ExactJSONResponse, ExactRoute
from releve.entrypoints.api.routes.plans import root

router = APIRouter(route_class=ExactRoute, tags=["add_ons"])

AddOnBody = Annotated[
    dict[str, Any],
    Body(
        description='{"add_on": {name, code, invoice_display_name, amount_cents, '
        "amount_currency, description, tax_codes}}"
    ),
]


@router.post("/add_ons", summary="Create an add-on")
def create_add_on(body: AddOnBody, org: OrganizationDep, c: ContainerDep) -> ExactJSONResponse:
    return ExactJSONResponse(
        {"add_on": coupon_serializers.add_on(*c.add_ons.create(org.id, root(body, "add_on")))}
    )


@router.get("/add_ons", summary="List add-ons")
def list_add_ons(org: OrganizationDep, c: ContainerDep, page: PageDep) -> ExactJSONResponse:
    result = c.add_ons.list(org.id, page)
    return ExactJSONResponse(
        {
            "add_ons": [coupon_serializers.add_on(a, t) for a, t in result.items],
            "meta": result.meta(),
        }
    )


@router.get("/add_ons/{code}", summary="Find an add-on")
def get_add_on(code: str, org: OrganizationDep, c: ContainerDep) -> ExactJSONResponse:
    return ExactJSONResponse({"add_on": coupon_serializers.add_on(*c.add_ons.get(org.id, code))})


@router.put("/add_ons/{code}", summary="Update an add-on")
def update_add_on(
    code: str, body: AddOnBody, org: OrganizationDep, c: ContainerDep
) -> ExactJSONResponse:
    updated = c.add_ons.update(org.id, code, root(body, "add_on"))
    return ExactJSONResponse({"add_on": coupon_serializers.add_on(*updated)})


@router.delete("/add_ons/{code}", summary="Delete an add-on (invoices keep their fees)")
def delete_add_on(code: str, org: OrganizationDep, c: ContainerDep) -> ExactJSONResponse:
    return ExactJSONResponse({"add_on": coupon_serializers.add_on(*c.add_ons.delete(org.id, code))})
