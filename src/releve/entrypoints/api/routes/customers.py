"""POST /customers (upsert), GET /customers, GET/DELETE /customers/{external_id}."""

from __future__ import annotations

from fastapi import APIRouter

from releve.entrypoints.api import serializers
from releve.entrypoints.api.deps import ContainerDep, OrganizationDep, PageDep
from releve.entrypoints.api.exact import ExactJSONResponse, ExactRoute
from releve.entrypoints.api.schemas import CustomerBody

router = APIRouter(route_class=ExactRoute, tags=["customers"])


@router.post("/customers", summary="Create or update a customer (upsert on external_id)")
def upsert_customer(body: CustomerBody, org: OrganizationDep, c: ContainerDep) -> ExactJSONResponse:
    values = body.customer.model_dump(exclude_unset=True)
    billing = values.pop("billing_configuration", None) or {}
    if "invoice_grace_period" in billing:
        values["invoice_grace_period"] = billing["invoice_grace_period"]
    customer, _ = c.customers.upsert(org.id, values)
    return ExactJSONResponse({"customer": serializers.customer(customer, org)})


@router.get("/customers", summary="List customers")
def list_customers(org: OrganizationDep, c: ContainerDep, page: PageDep) -> ExactJSONResponse:
    result = c.customers.list(org.id, page)
    return ExactJSONResponse(
        {
            "customers": [serializers.customer(x, org) for x in result.items],
            "meta": result.meta(),
        }
    )


@router.get("/customers/{external_id}", summary="Find a customer")
def get_customer(external_id: str, org: OrganizationDep, c: ContainerDep) -> ExactJSONResponse:
    return ExactJSONResponse(
        {"customer": serializers.customer(c.customers.get(org.id, external_id), org)}
    )


@router.get("/customers/{external_id}/portal_url", summary="A signed customer portal link")
def portal_url(external_id: str, org: OrganizationDep, c: ContainerDep) -> ExactJSONResponse:
    token = c.portal.issue_token(org.id, external_id)
    return ExactJSONResponse(
        {"customer": {"portal_url": f"{c.settings.public_url}/portal/{token}"}}
    )


@router.delete("/customers/{external_id}", summary="Delete a customer (soft delete)")
def delete_customer(external_id: str, org: OrganizationDep, c: ContainerDep) -> ExactJSONResponse:
    return ExactJSONResponse(
        {"customer": serializers.customer(c.customers.delete(org.id, external_id), org)}
    )
