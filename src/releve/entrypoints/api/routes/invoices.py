"""GET /invoices, GET/PUT/DELETE /invoices/{lago_id}, PUT .../finalize, PUT .../refresh,
POST .../void (Lago shapes; drafts, finalized, voided). Wrong states are 405 with a code."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Body

from releve.entrypoints.api import billing_serializers
from releve.entrypoints.api.deps import ContainerDep, OrganizationDep, PageDep
from releve.entrypoints.api.errors import envelope
from releve.entrypoints.api.exact import ExactJSONResponse, ExactRoute
from releve.entrypoints.api.routes.plans import root
from releve.services.billing_queries import InvoiceView, NotAllowed

router = APIRouter(route_class=ExactRoute, tags=["invoices"])

InvoiceBody = Annotated[
    dict[str, Any],
    Body(description='{"invoice": {payment_status, metadata: [{key, value}]}}'),
]


@router.post("/invoices", summary="Create a one-off invoice of add-on fees")
def create_one_off_invoice(
    body: Annotated[
        dict[str, Any],
        Body(
            description='{"invoice": {external_customer_id, currency, fees: [{add_on_code, '
            "units, unit_amount_cents, description, invoice_display_name, tax_codes}]}}"
        ),
    ],
    org: OrganizationDep,
    c: ContainerDep,
) -> ExactJSONResponse:
    view = c.add_ons.create_one_off_invoice(org.id, root(body, "invoice"))
    return ExactJSONResponse({"invoice": billing_serializers.invoice(view)})


@router.get("/invoices", summary="List invoices")
def list_invoices(
    org: OrganizationDep,
    c: ContainerDep,
    page: PageDep,
    external_customer_id: str | None = None,
    status: str | None = None,
    payment_status: str | None = None,
    invoice_type: str | None = None,
    issuing_date_from: str | None = None,
    issuing_date_to: str | None = None,
) -> ExactJSONResponse:
    result = c.invoices.list(
        org.id,
        page,
        external_customer_id=external_customer_id,
        status=status,
        payment_status=payment_status,
        invoice_type=invoice_type,
        issuing_date_from=issuing_date_from,
        issuing_date_to=issuing_date_to,
    )
    return ExactJSONResponse(
        {
            "invoices": [billing_serializers.invoice(v) for v in result.items],
            "meta": result.meta(),
        }
    )


@router.get("/invoices/{lago_id}", summary="Find an invoice, with its fees and taxes")
def get_invoice(lago_id: str, org: OrganizationDep, c: ContainerDep) -> ExactJSONResponse:
    return ExactJSONResponse(
        {"invoice": billing_serializers.invoice(c.invoices.get(org.id, lago_id))}
    )


@router.put("/invoices/{lago_id}", summary="Update an invoice's payment status or metadata")
def update_invoice(
    lago_id: str, body: InvoiceBody, org: OrganizationDep, c: ContainerDep
) -> ExactJSONResponse:
    try:
        view = c.invoices.update(org.id, lago_id, root(body, "invoice"))
    except NotAllowed as exc:
        return envelope(405, exc.code)
    return ExactJSONResponse({"invoice": billing_serializers.invoice(view)})


def _transition(
    action: Callable[[UUID, str], InvoiceView], org_id: UUID, lago_id: str
) -> ExactJSONResponse:
    try:
        view = action(org_id, lago_id)
    except NotAllowed as exc:
        return envelope(405, exc.code)
    return ExactJSONResponse({"invoice": billing_serializers.invoice(view)})


@router.put("/invoices/{lago_id}/finalize", summary="Finalize a draft invoice")
def finalize_invoice(lago_id: str, org: OrganizationDep, c: ContainerDep) -> ExactJSONResponse:
    return _transition(c.billing.finalize_invoice, org.id, lago_id)


@router.put("/invoices/{lago_id}/refresh", summary="Refresh a draft invoice from current usage")
def refresh_invoice(lago_id: str, org: OrganizationDep, c: ContainerDep) -> ExactJSONResponse:
    return _transition(c.billing.refresh_invoice, org.id, lago_id)


@router.post("/invoices/{lago_id}/void", summary="Void a finalized, unpaid invoice")
def void_invoice(lago_id: str, org: OrganizationDep, c: ContainerDep) -> ExactJSONResponse:
    return _transition(c.billing.void_invoice, org.id, lago_id)


@router.delete("/invoices/{lago_id}", summary="Delete a draft invoice")
def delete_invoice(lago_id: str, org: OrganizationDep, c: ContainerDep) -> ExactJSONResponse:
    return _transition(c.billing.delete_invoice, org.id, lago_id)
