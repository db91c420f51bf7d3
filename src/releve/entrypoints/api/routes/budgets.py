"""GET/PUT/DELETE /customers/{external_id}/budget — a Relevé extension (not in Lago).

The customer's spending budget per billing period, with this period's spend (usage, taxes
included) and the 80 % / 100 % crossings already recorded (`services.budgets` states the rule).
Amounts are integers in minor units, as everywhere in the API.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body

from releve.entrypoints.api.deps import ContainerDep, OrganizationDep
from releve.entrypoints.api.exact import ExactJSONResponse, ExactRoute
from releve.entrypoints.api.routes.plans import root
from releve.entrypoints.api.serializers import iso
from releve.services.budgets import BudgetStatus

router = APIRouter(route_class=ExactRoute, tags=["budgets (Relevé extension)"])

BudgetBody = Annotated[
    dict[str, Any],
    Body(
        description='{"budget": {"amount_cents": 10000, "currency": "EUR"}}: per billing '
        "period; currency defaults to the customer's subscriptions'.",
    ),
]


def _budget(external_id: str, status: BudgetStatus | None) -> dict[str, Any]:
    if status is None:
        return {"external_customer_id": external_id, "amount_cents": None, "alerts": []}
    b = status.budget
    return {
        "lago_id": str(b.id),
        "lago_customer_id": str(b.customer_id),
        "external_customer_id": external_id,
        "amount_cents": b.amount_cents,
        "currency": b.currency,
        "current_spend_amount_cents": status.spend_cents,
        "current_percent": status.percent,
        "from_datetime": iso(status.period.start) if status.period else None,
        "to_datetime": iso(status.period.end) if status.period else None,
        "alerts": [
            {
                "threshold_percent": a.threshold,
                "spend_amount_cents": a.spend_cents,
                "budget_amount_cents": a.budget_cents,
                "created_at": iso(a.created_at),
            }
            for a in status.alerts
        ],
        "created_at": iso(b.created_at),
        "updated_at": iso(b.updated_at),
    }


@router.get("/customers/{external_id}/budget", summary="Find a customer's budget")
def get_budget(external_id: str, org: OrganizationDep, c: ContainerDep) -> ExactJSONResponse:
    return ExactJSONResponse(
        {"budget": _budget(external_id, c.budgets.status(org.id, external_id))}
    )


@router.put("/customers/{external_id}/budget", summary="Set a customer's budget per period")
def put_budget(
    external_id: str, body: BudgetBody, org: OrganizationDep, c: ContainerDep
) -> ExactJSONResponse:
    sent = root(body, "budget")
    status = c.budgets.set(org.id, external_id, sent.get("amount_cents"), sent.get("currency"))
    return ExactJSONResponse({"budget": _budget(external_id, status)})


@router.delete("/customers/{external_id}/budget", summary="Remove a customer's budget")
def delete_budget(external_id: str, org: OrganizationDep, c: ContainerDep) -> ExactJSONResponse:
    c.budgets.remove(org.id, external_id)
    return ExactJSONResponse({"budget": _budget(external_id, None)})
