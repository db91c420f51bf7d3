"""POST/GET /credit_notes, GET/PUT /credit_notes/{lago_id}, PUT .../void,
POST /credit_notes/estimate (Lago v1 shapes). Wrong states are 405 with a code."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Body

from releve.bootstrap import Container
from releve.entrypoints import webhook_objects
from releve.entrypoints.api import credit_note_serializers as serialize
from releve.entrypoints.api.deps import ContainerDep, OrganizationDep, PageDep
from releve.entrypoints.api.errors import envelope
from releve.entrypoints.api.exact import ExactJSONResponse, ExactRoute
from releve.entrypoints.api.routes.plans import root
from releve.services.billing_queries import NotAllowed
from releve.services.credit_notes import CreditNoteView

router = APIRouter(route_class=ExactRoute, tags=["credit_notes"])


@webhook_objects.renderer("credit_note")
def _webhook_object(c: Container, organization_id: UUID, object_id: str) -> dict[str, Any]:
    """`credit_note.created` carries the credit note as GET /credit_notes/{id} returns it."""
    return serialize.credit_note(c.credit_notes.get(organization_id, object_id))


CreditNoteBody = Annotated[
    dict[str, Any],
    Body(
        description='{"credit_note": {invoice_id, reason, description, credit_amount_cents, '
        "refund_amount_cents, offset_amount_cents, items: [{fee_id, amount_cents}]}}"
    ),
]
EstimateBody = Annotated[
    dict[str, Any],
    Body(description='{"credit_note": {invoice_id, items: [{fee_id, amount_cents}]}}'),
]
UpdateBody = Annotated[
    dict[str, Any], Body(description='{"credit_note": {refund_status: pending|succeeded|failed}}')
]


def _one(action: Callable[[], CreditNoteView]) -> ExactJSONResponse:
    try:
        view = action()
    except NotAllowed as exc:
        return envelope(405, exc.code)
    return ExactJSONResponse({"credit_note": serialize.credit_note(view)})


@router.post("/credit_notes", summary="Issue a credit note on a finalized invoice")
def create_credit_note(
    body: CreditNoteBody, org: OrganizationDep, c: ContainerDep
) -> ExactJSONResponse:
    values = root(body, "credit_note")
    return _one(lambda: c.credit_notes.create(org.id, values))


@router.post("/credit_notes/estimate", summary="Estimate a credit note's amounts and maxima")
def estimate_credit_note(
    body: EstimateBody, org: OrganizationDep, c: ContainerDep
) -> ExactJSONResponse:
    values = root(body, "credit_note")
    try:
        estimate = c.credit_notes.estimate(org.id, values)
    except NotAllowed as exc:
        return envelope(405, exc.code)
    return ExactJSONResponse({"estimated_credit_note": serialize.estimated_credit_note(estimate)})


@router.get("/credit_notes", summary="List credit notes")
def list_credit_notes(
    org: OrganizationDep,
    c: ContainerDep,
    page: PageDep,
    external_customer_id: str | None = None,
    invoice_number: str | None = None,
    issuing_date_from: str | None = None,
    issuing_date_to: str | None = None,
    reason: str | None = None,
    credit_status: str | None = None,
    refund_status: str | None = None,
) -> ExactJSONResponse:
    result = c.credit_notes.list_notes(
        org.id,
        page,
        external_customer_id=external_customer_id,
        invoice_number=invoice_number,
        issuing_date_from=issuing_date_from,
        issuing_date_to=issuing_date_to,
        reason=reason,
        credit_status=credit_status,
        refund_status=refund_status,
    )
    return ExactJSONResponse(
        {
            "credit_notes": [serialize.credit_note(v) for v in result.items],
            "meta": result.meta(),
        }
    )


@router.get("/credit_notes/{lago_id}", summary="Find a credit note")
def get_credit_note(lago_id: str, org: OrganizationDep, c: ContainerDep) -> ExactJSONResponse:
    return _one(lambda: c.credit_notes.get(org.id, lago_id))


@router.put("/credit_notes/{lago_id}", summary="Update a credit note's refund status")
def update_credit_note(
    lago_id: str, body: UpdateBody, org: OrganizationDep, c: ContainerDep
) -> ExactJSONResponse:
    values = root(body, "credit_note")
    return _one(lambda: c.credit_notes.update(org.id, lago_id, values))


@router.put("/credit_notes/{lago_id}/void", summary="Void a credit note's remaining balance")
def void_credit_note(lago_id: str, org: OrganizationDep, c: ContainerDep) -> ExactJSONResponse:
    return _one(lambda: c.credit_notes.void(org.id, lago_id))
