"""Coupons (Lago v1 shapes): POST/GET /coupons, GET/PUT/DELETE /coupons/{code}; applied
coupons: POST/GET /applied_coupons, GET /customers/{id}/applied_coupons and
DELETE /customers/{id}/applied_coupons/{applied_coupon_id}."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body, Query

from releve.entrypoints.api import coupon_serializers
from releve.entrypoints.api.deps import ContainerDep, OrganizationDep, PageDep
from releve.entrypoints.api.exact import ExactJSONResponse, ExactRoute
from releve.entrypoints.api.routes.plans import root

router = APIRouter(route_class=ExactRoute, tags=["coupons"])

CouponBody = Annotated[
    dict[str, Any],
    Body(
        description='{"coupon": {name, code, description, coupon_type (fixed_amount|percentage),'
        " amount_cents, amount_currency | percentage_rate, frequency (once|recurring|forever),"
        " frequency_duration, reusable, expiration (no_expiration|time_limit), expiration_at,"
        " applies_to: {plan_codes | billable_metric_codes}}}"
    ),
]
AppliedCouponBody = Annotated[
    dict[str, Any],
    Body(
        description='{"applied_coupon": {external_customer_id, coupon_code, and overrides:'
        " amount_cents, amount_currency, percentage_rate, frequency, frequency_duration}}"
    ),
]


@router.post("/coupons", summary="Create a coupon")
def create_coupon(body: CouponBody, org: OrganizationDep, c: ContainerDep) -> ExactJSONResponse:
    coupon = c.coupons.create(org.id, root(body, "coupon"))
    return ExactJSONResponse({"coupon": coupon_serializers.coupon(coupon)})


@router.get("/coupons", summary="List coupons")
def list_coupons(org: OrganizationDep, c: ContainerDep, page: PageDep) -> ExactJSONResponse:
    result = c.coupons.list(org.id, page)
    return ExactJSONResponse(
        {
            "coupons": [coupon_serializers.coupon(x) for x in result.items],
            "meta": result.meta(),
        }
    )


@router.get("/coupons/{code}", summary="Find a coupon")
def get_coupon(code: str, org: OrganizationDep, c: ContainerDep) -> ExactJSONResponse:
    return ExactJSONResponse({"coupon": coupon_serializers.coupon(c.coupons.get(org.id, code))})


@router.put("/coupons/{code}", summary="Update a coupon (terms only while not applied)")
def update_coupon(
    code: str, body: CouponBody, org: OrganizationDep, c: ContainerDep
) -> ExactJSONResponse:
    coupon = c.coupons.update(org.id, code, root(body, "coupon"))
    return ExactJSONResponse({"coupon": coupon_serializers.coupon(coupon)})


@router.delete("/coupons/{code}", summary="Terminate a coupon (applied ones keep running)")
def delete_coupon(code: str, org: OrganizationDep, c: ContainerDep) -> ExactJSONResponse:
    return ExactJSONResponse({"coupon": coupon_serializers.coupon(c.coupons.delete(org.id, code))})


@router.post("/applied_coupons", summary="Apply a coupon to a customer")
def apply_coupon(
    body: AppliedCouponBody, org: OrganizationDep, c: ContainerDep
) -> ExactJSONResponse:
    view = c.coupons.apply(org.id, root(body, "applied_coupon"))
    return ExactJSONResponse({"applied_coupon": coupon_serializers.applied_coupon(view)})


def _applied_list(
    c: ContainerDep,
    org: OrganizationDep,
    page: PageDep,
    external_customer_id: str | None,
    status: str | None,
    coupon_codes: list[str] | None,
) -> ExactJSONResponse:
    result = c.coupons.list_applied(
        org.id,
        page,
        external_customer_id=external_customer_id,
        status=status,
        coupon_codes=tuple(coupon_codes or ()),
    )
    return ExactJSONResponse(
        {
            "applied_coupons": [coupon_serializers.applied_coupon(v) for v in result.items],
            "meta": result.meta(),
        }
    )


@router.get("/applied_coupons", summary="List applied coupons")
def list_applied_coupons(
    org: OrganizationDep,
    c: ContainerDep,
    page: PageDep,
    external_customer_id: str | None = None,
    status: str | None = None,
    coupon_code: Annotated[list[str] | None, Query(alias="coupon_code[]")] = None,
) -> ExactJSONResponse:
    return _applied_list(c, org, page, external_customer_id, status, coupon_code)


@router.get(
    "/customers/{external_customer_id}/applied_coupons", summary="List a customer's coupons"
)
def list_customer_applied_coupons(
    external_customer_id: str,
    org: OrganizationDep,
    c: ContainerDep,
    page: PageDep,
    status: str | None = None,
) -> ExactJSONResponse:
    c.customers.get(org.id, external_customer_id)  # another organization's: 404
    return _applied_list(c, org, page, external_customer_id, status, None)


@router.delete(
    "/customers/{external_customer_id}/applied_coupons/{applied_coupon_id}",
    summary="Remove an applied coupon from a customer",
)
def delete_applied_coupon(
    external_customer_id: str, applied_coupon_id: str, org: OrganizationDep, c: ContainerDep
) -> ExactJSONResponse:
    view = c.coupons.terminate_applied(org.id, external_customer_id, applied_coupon_id)
    return ExactJSONResponse({"applied_coupon": coupon_serializers.applied_coupon(view)})
