"""GET /fees, GET /fees/{lago_id} (fees of visible invoices)."""

from __future__ import annotations

from fastapi import APIRouter

from releve.entrypoints.api import billing_serializers
from releve.entrypoints.api.deps import ContainerDep, OrganizationDep, PageDep
from releve.entrypoints.api.exact import ExactJSONResponse, ExactRoute

router = APIRouter(route_class=ExactRoute, tags=["fees"])


@router.get("/fees", summary="List fees")
def list_fees(
    org: OrganizationDep,
    c: ContainerDep,
    page: PageDep,
    fee_type: str | None = None,
    external_subscription_id: str | None = None,
    external_customer_id: str | None = None,
    payment_status: str | None = None,
    event_transaction_id: str | None = None,
) -> ExactJSONResponse:
    result = c.invoices.list_fees(
        org.id,
        page,
        fee_type=fee_type,
        external_subscription_id=external_subscription_id,
        external_customer_id=external_customer_id,
        payment_status=payment_status,
        event_transaction_id=event_transaction_id,
    )
    return ExactJSONResponse(
        {"fees": [billing_serializers.fee_view(v) for v in result.items], "meta": result.meta()}
    )


@router.get("/fees/{lago_id}", summary="Find a fee")
def get_fee(lago_id: str, org: OrganizationDep, c: ContainerDep) -> ExactJSONResponse:
    return ExactJSONResponse(
        {"fee": billing_serializers.fee_view(c.invoices.get_fee(org.id, lago_id))}
    )
