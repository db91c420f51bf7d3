"""GET /subscriptions/{external_id}/pending_adjustments (Relevé extension, not in Lago).

Late events in finalized periods, before they are settled: per period and charge bucket, what
was invoiced, what the period costs now, and the difference the next invoice will carry (a
positive `adjustment` fee) or credit (a credit note on the original invoice).
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from releve.entrypoints.api.deps import ContainerDep, OrganizationDep
from releve.entrypoints.api.exact import ExactJSONResponse, ExactRoute
from releve.entrypoints.api.serializers import iso
from releve.services.late_settlement import PendingAdjustment

router = APIRouter(route_class=ExactRoute, tags=["subscriptions"])


def pending_adjustment(item: PendingAdjustment) -> dict[str, Any]:
    period = item.period.period
    adjustment = item.adjustment
    body: dict[str, Any] = {
        "external_subscription_id": item.subscription_external_id,
        "lago_subscription_id": str(period.subscription_id),
        "period_from": iso(period.period_start),
        "period_to": iso(period.period_end),
        "original_invoice_id": str(period.invoice_id),
        "original_invoice_number": period.number,
        "late_events_count": item.late_events_count,
        "blocked_reason": item.period.blocked,
    }
    if adjustment is None:
        return body
    key = adjustment.key
    return {
        **body,
        "lago_charge_id": key.charge_id,
        "charge_code": adjustment.metric_code,
        "filter": None
        if key.whole_charge
        else {"index": key.filter_index, "group": list(key.group)},
        "name": adjustment.label,
        "units": str(adjustment.units),
        "invoiced_amount_cents": adjustment.invoiced_cents,
        "current_amount_cents": adjustment.current_cents,
        "adjustment_amount_cents": adjustment.amount_cents,
        "currency": adjustment.currency.code,
        "settlement": "next_invoice" if adjustment.amount_cents > 0 else "credit_note",
        "explanation": adjustment.explanation,
    }


@router.get(
    "/subscriptions/{external_id}/pending_adjustments",
    summary="Late-event adjustments of finalized periods, not invoiced yet (Relevé extension)",
)
def list_pending_adjustments(
    external_id: str, org: OrganizationDep, c: ContainerDep
) -> ExactJSONResponse:
    items = c.billing.pending_adjustments(org.id, external_id)
    return ExactJSONResponse({"pending_adjustments": [pending_adjustment(i) for i in items]})
