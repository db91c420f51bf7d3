"""What progressive invoices already billed, for the period-end invoice (`invoice_deductions`).

Kept apart from `progressive_billing` (which issues invoices through `billing_lifecycle`) so the
invoice deductions can import it without an import cycle. Rules: `progressive_billing`.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import cast
from uuid import UUID

from releve.domain.billing.period_invoice import InvoiceKind
from releve.services import credit_note_issuing
from releve.services.alert_records import AlertUnitOfWork
from releve.services.billing_records import INVOICE_FINALIZED, Invoice
from releve.services.credit_note_amounts import CreditLine, compute
from releve.services.credit_note_records import CreditNoteUnitOfWork
from releve.services.ports import UnitOfWork

log = logging.getLogger(__name__)
CHARGE_KINDS = (
    InvoiceKind.PERIOD_END.value,
    InvoiceKind.TERMINATION.value,
    InvoiceKind.UPGRADE.value,
)


def progressive_credit(uow: UnitOfWork, subscription_id: UUID, kind: str, at: datetime) -> int:
    """What the progressive invoices of the charge period billed by an invoice of `kind` at
    `at` already billed (0 for invoices without charges: start, trial end)."""
    if kind not in CHARGE_KINDS:
        return 0
    return _alerts(uow).alerts.progressive_billed_cents(subscription_id, at)


def _alerts(uow: UnitOfWork) -> AlertUnitOfWork:
    return cast(AlertUnitOfWork, uow)  # the SQL unit of work carries `alerts`


def refund_excess(uow: UnitOfWork, invoice: Invoice, excess_cents: int, now: datetime) -> None:
    """Lago (PR #4436): progressive invoices billed more than the period's usage — credit the
    excess back on the newest progressive invoices of that period (credit notes, reason
    `other`), before taxes as billed. In the finalizing unit of work; no commit."""
    if excess_cents <= 0:
        return
    notes = _alerts(uow)
    links = notes.invoices.links_for([invoice.id])[invoice.id]
    if not links:
        return
    link = links[0]
    left = excess_cents
    for invoice_id in notes.alerts.progressive_invoices(link.subscription_id, link.boundary):
        if left <= 0:
            break
        billed = notes.invoices.get_for_update(invoice.organization_id, invoice_id)
        if billed is None or billed.status != INVOICE_FINALIZED:
            continue
        credit_uow = _credit_notes(uow)
        already = credit_uow.credit_notes.credited_by_fee(
            [f.id for f in notes.invoices.fees_for([invoice_id])[invoice_id]]
        )
        lines = []
        for fee in notes.invoices.fees_for([invoice_id])[invoice_id]:
            room = fee.sub_total_excluding_taxes_amount_cents - already.get(fee.id, 0)
            take = min(room, left)
            if take > 0:
                lines.append(CreditLine(fee, take, 0))  # net: no discount share
                left -= take
        if not lines:
            continue
        amounts = compute(lines)
        limits = credit_note_issuing.maxima(credit_uow, billed)
        total = min(amounts.total_amount_cents, limits.max_creditable_amount_cents)
        if total <= 0:
            continue
        credit_note_issuing.issue_in(
            credit_uow,
            billed,
            amounts,
            credit_note_issuing.Split(total, 0, 0),
            reason="other",
            description="Progressive billing above the period's usage",
            now=now,
            automatic_key=f"progressive:{invoice.id}:{invoice_id}",
        )
    if left > 0:
        log.warning("progressive excess of %s on %s: %s cents not credited", excess_cents,
                    invoice.id, left)  # fmt: skip


def _credit_notes(uow: UnitOfWork) -> CreditNoteUnitOfWork:
    return cast(CreditNoteUnitOfWork, uow)
