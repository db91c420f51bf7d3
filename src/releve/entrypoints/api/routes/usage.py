"""GET /customers/{external_customer_id}/current_usage?external_subscription_id=..."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from releve.entrypoints.api import serializers
from releve.entrypoints.api.deps import ContainerDep, OrganizationDep
from releve.entrypoints.api.exact import ExactJSONResponse, ExactRoute

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
    return ExactJSONResponse({"customer_usage": serializers.customer_usage(usage)})
