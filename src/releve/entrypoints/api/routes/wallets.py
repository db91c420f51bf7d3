"""Wallets and wallet transactions (Lago v1 shapes): POST/GET /wallets, GET/PUT/DELETE
/wallets/{lago_id} (DELETE terminates), GET /customers/{external_id}/wallets,
POST /wallet_transactions (returns a list), GET /wallet_transactions/{lago_id},
GET /wallets/{lago_id}/wallet_transactions. Also registers the webhook renderers of
`wallet` and `wallet_transaction`."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Body

from releve.entrypoints import webhook_objects
from releve.entrypoints.api import wallet_serializers
from releve.entrypoints.api.deps import ContainerDep, OrganizationDep, PageDep
from releve.entrypoints.api.exact import ExactJSONResponse, ExactRoute
from releve.entrypoints.api.routes.plans import root

if TYPE_CHECKING:
    from releve.bootstrap import Container

router = APIRouter(route_class=ExactRoute, tags=["wallets"])

WalletBody = Annotated[
    dict[str, Any],
    Body(
        description='{"wallet": {external_customer_id, name, currency, rate_amount, '
        "paid_credits, granted_credits, expiration_at, priority, "
        "invoice_requires_successful_payment}}"
    ),
]
TransactionBody = Annotated[
    dict[str, Any],
    Body(
        description='{"wallet_transaction": {wallet_id, paid_credits, granted_credits, '
        "voided_credits, invoice_requires_successful_payment, name}}"
    ),
]


def _one(view: Any) -> ExactJSONResponse:
    return ExactJSONResponse({"wallet": wallet_serializers.wallet(view)})


@router.post("/wallets", summary="Create a wallet (optionally with paid and granted credits)")
def create_wallet(body: WalletBody, org: OrganizationDep, c: ContainerDep) -> ExactJSONResponse:
    return _one(c.wallets.create(org.id, root(body, "wallet")))


@router.get("/wallets", summary="List wallets, with balances and ongoing balances")
def list_wallets(
    org: OrganizationDep, c: ContainerDep, page: PageDep, external_customer_id: str | None = None
) -> ExactJSONResponse:
    result = c.wallets.list(org.id, page, external_customer_id=external_customer_id)
    return ExactJSONResponse(
        {
            "wallets": [wallet_serializers.wallet(v) for v in result.items],
            "meta": result.meta(),
        }
    )


@router.get("/customers/{external_id}/wallets", summary="List a customer's wallets")
def list_customer_wallets(
    external_id: str, org: OrganizationDep, c: ContainerDep, page: PageDep
) -> ExactJSONResponse:
    return list_wallets(org, c, page, external_customer_id=external_id)


@router.get("/wallets/{lago_id}", summary="Find a wallet (ongoing balance exact at this moment)")
def get_wallet(lago_id: str, org: OrganizationDep, c: ContainerDep) -> ExactJSONResponse:
    return _one(c.wallets.get(org.id, lago_id))


@router.put("/wallets/{lago_id}", summary="Update a wallet's name, priority or expiration")
def update_wallet(
    lago_id: str, body: WalletBody, org: OrganizationDep, c: ContainerDep
) -> ExactJSONResponse:
    return _one(c.wallets.update(org.id, lago_id, root(body, "wallet")))


@router.delete("/wallets/{lago_id}", summary="Terminate a wallet")
def terminate_wallet(lago_id: str, org: OrganizationDep, c: ContainerDep) -> ExactJSONResponse:
    return _one(c.wallets.terminate(org.id, lago_id))


@router.post("/wallet_transactions", summary="Top up (paid, granted) or void credits")
def create_wallet_transactions(
    body: TransactionBody, org: OrganizationDep, c: ContainerDep
) -> ExactJSONResponse:
    created = c.wallets.create_transactions(org.id, root(body, "wallet_transaction"))
    return ExactJSONResponse(
        {"wallet_transactions": [wallet_serializers.wallet_transaction(v) for v in created]}
    )


@router.get("/wallet_transactions/{lago_id}", summary="Find a wallet transaction")
def get_wallet_transaction(
    lago_id: str, org: OrganizationDep, c: ContainerDep
) -> ExactJSONResponse:
    view = c.wallets.get_transaction(org.id, lago_id)
    return ExactJSONResponse({"wallet_transaction": wallet_serializers.wallet_transaction(view)})


@router.get("/wallets/{lago_id}/wallet_transactions", summary="A wallet's ledger, newest first")
def list_wallet_transactions(
    lago_id: str,
    org: OrganizationDep,
    c: ContainerDep,
    page: PageDep,
    status: str | None = None,
    transaction_type: str | None = None,
    transaction_status: str | None = None,
) -> ExactJSONResponse:
    result = c.wallets.transactions(
        org.id,
        lago_id,
        page,
        status=status,
        transaction_type=transaction_type,
        transaction_status=transaction_status,
    )
    return ExactJSONResponse(
        {
            "wallet_transactions": [wallet_serializers.wallet_transaction(v) for v in result.items],
            "meta": result.meta(),
        }
    )


@webhook_objects.renderer("wallet")
def _wallet_object(c: Container, organization_id: UUID, object_id: str) -> dict[str, Any]:
    return wallet_serializers.wallet(c.wallets.get(organization_id, object_id))


@webhook_objects.renderer("wallet_transaction")
def _transaction_object(c: Container, organization_id: UUID, object_id: str) -> dict[str, Any]:
    view = c.wallets.get_transaction(organization_id, object_id)
    return wallet_serializers.wallet_transaction(view)
