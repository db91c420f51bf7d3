"""POST/GET /subscriptions, GET/PUT/DELETE /subscriptions/{external_id}."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body, Query

from releve.entrypoints.api import serializers
from releve.entrypoints.api.deps import ContainerDep, OrganizationDep, PageDep
from releve.entrypoints.api.exact import ExactJSONResponse, ExactRoute
from releve.entrypoints.api.routes.plans import root

router = APIRouter(route_class=ExactRoute, tags=["subscriptions"])

SubscriptionBody = Annotated[
    dict[str, Any],
    Body(
        description='{"subscription": {external_customer_id, plan_code, external_id, name, '
        "billing_time, subscription_at, ending_at, plan_overrides}}",
    ),
]


@router.post("/subscriptions", summary="Create a subscription, or change its plan")
def create_subscription(
    body: SubscriptionBody, org: OrganizationDep, c: ContainerDep
) -> ExactJSONResponse:
    view = c.subscriptions.create(org.id, root(body, "subscription"))
    return ExactJSONResponse({"subscription": serializers.subscription(view)})


@router.get("/subscriptions", summary="List subscriptions (active unless status[] is given)")
def list_subscriptions(
    org: OrganizationDep,
    c: ContainerDep,
    page: PageDep,
    status_list: Annotated[list[str] | None, Query(alias="status[]")] = None,
    status: Annotated[list[str] | None, Query()] = None,
    external_customer_id: str | None = None,
    plan_code: str | None = None,
) -> ExactJSONResponse:
    result = c.subscriptions.list(
        org.id,
        page,
        statuses=[*(status_list or ()), *(status or ())],
        external_customer_id=external_customer_id,
        plan_code=plan_code,
    )
    return ExactJSONResponse(
        {
            "subscriptions": [serializers.subscription(v) for v in result.items],
            "meta": result.meta(),
        }
    )


@router.get("/subscriptions/{external_id}", summary="Find a subscription")
def get_subscription(external_id: str, org: OrganizationDep, c: ContainerDep) -> ExactJSONResponse:
    view = c.subscriptions.get(org.id, external_id)
    return ExactJSONResponse({"subscription": serializers.subscription(view)})


@router.put("/subscriptions/{external_id}", summary="Update a subscription")
def update_subscription(
    external_id: str, body: SubscriptionBody, org: OrganizationDep, c: ContainerDep
) -> ExactJSONResponse:
    view = c.subscriptions.update(org.id, external_id, root(body, "subscription"))
    return ExactJSONResponse({"subscription": serializers.subscription(view)})


@router.delete("/subscriptions/{external_id}", summary="Terminate (or cancel a pending one)")
def terminate_subscription(
    external_id: str,
    org: OrganizationDep,
    c: ContainerDep,
    status: str | None = None,
    on_termination_credit_note: str | None = None,
    on_termination_invoice: str | None = None,
) -> ExactJSONResponse:
    view = c.subscriptions.terminate(
        org.id,
        external_id,
        status=status,
        on_termination_credit_note=on_termination_credit_note,
        on_termination_invoice=on_termination_invoice,
    )
    return ExactJSONResponse({"subscription": serializers.subscription(view)})
