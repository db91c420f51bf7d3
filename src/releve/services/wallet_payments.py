"""A credit invoice's payment decides its purchased credits (Lago `invoice_requires_successful_
payment`): `succeeded` settles the pending purchase, `failed` fails it. Called by
`billing_queries.InvoiceQueries.update` in its unit of work; no commit. Kept apart from
`wallets` so invoice code can call it without importing the usage machinery.
"""

from __future__ import annotations

from datetime import datetime

from releve.services import webhooks
from releve.services.billing_records import PAYMENT_FAILED, PAYMENT_SUCCEEDED, Invoice
from releve.services.ports import UnitOfWork
from releve.services.wallet_records import (
    PURCHASED,
    TX_FAILED,
    TX_PENDING,
    TX_SETTLED,
    wallet_uow,
)


def on_invoice_payment_status(uow: UnitOfWork, invoice: Invoice, now: datetime) -> None:
    """Settle or fail the pending purchases `invoice` bills (a no-op for other invoices)."""
    if invoice.invoice_type != "credit" or invoice.payment_status not in (
        PAYMENT_SUCCEEDED,
        PAYMENT_FAILED,
    ):
        return
    repo = wallet_uow(uow).wallets
    for transaction in repo.for_invoice(invoice.organization_id, invoice.id):
        if transaction.transaction_status != PURCHASED or transaction.status != TX_PENDING:
            continue
        if invoice.payment_status == PAYMENT_SUCCEEDED:
            transaction.status, transaction.settled_at = TX_SETTLED, now
        else:
            transaction.status, transaction.failed_at = TX_FAILED, now
        repo.set_transaction_status(transaction)
        webhooks.emit(
            uow,
            invoice.organization_id,
            "wallet_transaction.updated",
            "wallet_transaction",
            object_id=str(transaction.id),
        )
