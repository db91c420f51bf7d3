"""GET /customers/{external_customer_id}/current_usage, /projected_usage and /past_usage.

`external_subscription_id` is required on all three (422 when missing); another customer's
subscription is not found (404). Projection rule: `services.projection`; past usage is read from
finalized invoices' fees (`CurrentUsageService.past_usage`).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from releve.entrypoints.api import usage_serializers
from releve.entrypoints.api.deps import ContainerDep, OrganizationDep, PageDep
from releve.entrypoints.api.exact import ExactJSONResponse, ExactRoute
from releve.services.projection import project_usage

router = APIRouter(route_class=ExactRoute, tags=["customer usage"])


@router.get(
    "/customers/{external_customer_id}/current_usage",
    summary="Usage and amounts of the current period so far",
)
def current_usage(
    external_customer_id: str,
    org: OrganizationDep,
    c: ContainerDep,
    external_subscription_id: Annotated[str, Query()],
    apply_taxes: bool = True,
) -> ExactJSONResponse:
    usage = c.usage.current_usage(
        org.id, external_customer_id, external_subscription_id, apply_taxes=apply_taxes
    )
    return ExactJSONResponse({"customer_usage": usage_serializers.customer_usage(usage)})


@router.get(
    "/customers/{external_customer_id}/projected_usage",
    summary="Current usage and its projection to the end of the period",
)
def projected_usage(
    external_customer_id: str,
    org: OrganizationDep,
    c: ContainerDep,
    external_subscription_id: Annotated[str, Query()],
    apply_taxes: bool = True,
) -> ExactJSONResponse:
    usage = c.usage.current_usage(
        org.id, external_customer_id, external_subscription_id, apply_taxes=apply_taxes
    )
    projected = project_usage(usage, c.clock.now())
    return ExactJSONResponse(
        {"customer_projected_usage": usage_serializers.customer_projected_usage(projected)}
    )


@router.get(
    "/customers/{external_customer_id}/past_usage",
    summary="Usage of past periods, as invoiced",
)
def past_usage(
    external_customer_id: str,
    org: OrganizationDep,
    c: ContainerDep,
    page: PageDep,
    external_subscription_id: Annotated[str, Query()],
    billable_metric_code: str | None = None,
    periods_count: Annotated[int | None, Query(ge=1)] = None,
) -> ExactJSONResponse:
    result = c.usage.past_usage(
        org.id,
        external_customer_id,
        external_subscription_id,
        c.invoices,
        page,
        billable_metric_code=billable_metric_code,
        periods_count=periods_count,
    )
    return ExactJSONResponse(
        {
            "usage_periods": [usage_serializers.past_usage_period(p) for p in result.items],
            "meta": result.meta(),
        }
    )
