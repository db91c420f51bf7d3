"""What reduces a subscription invoice after its fees: coupons, credit notes, prepaid credits.

One place gathers them for pricing (`deductions_for`) and one place persists what a finalized
invoice consumed (`settle`), so issuing, refreshing and finalizing a draft all agree. Amounts and
order are the domain's (`invoicing.compute_invoice_totals`): coupons before taxes, then credit
notes, then wallets — wallets only when the invoice is being finalized, as Lago does.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

from releve.domain.coupons import AppliedCoupon
from releve.domain.credit_notes import CreditNoteBalance
from releve.domain.invoicing import InvoiceTotals
from releve.domain.wallets import Wallet
from releve.services import coupons, credit_notes, progressive_credits, wallets
from releve.services.billing_records import Invoice
from releve.services.ports import UnitOfWork
from releve.services.records import Customer


@dataclass(frozen=True, slots=True)
class InvoiceDeductions:
    applied_coupons: tuple[AppliedCoupon, ...] = ()
    credit_notes: tuple[CreditNoteBalance, ...] = ()
    wallets: tuple[Wallet, ...] = ()
    progressive_billing_credit_amount_cents: int = 0


def deductions_for(
    uow: UnitOfWork,
    customer: Customer,
    currency: str,
    at: datetime,
    *,
    finalizing: bool,
    subscription_id: UUID | None = None,
    kind: str | None = None,
) -> InvoiceDeductions:
    """What the customer's invoice in `currency` issued at `at` may deduct; with the
    subscription and invoice kind, what its period's progressive invoices already billed."""
    progressive = (
        progressive_credits.progressive_credit(uow, subscription_id, kind, at)
        if subscription_id is not None and kind is not None
        else 0
    )
    return InvoiceDeductions(
        applied_coupons=coupons.invoice_coupons(uow, customer, currency, at),
        credit_notes=credit_notes.invoice_credit_notes(uow, customer, currency),
        wallets=wallets.invoice_wallets(uow, customer, currency, at) if finalizing else (),
        progressive_billing_credit_amount_cents=progressive,
    )


def settle(uow: UnitOfWork, invoice: Invoice, totals: InvoiceTotals, now: datetime) -> None:
    """Persist what the finalized `invoice` consumed (in its unit of work; no commit)."""
    coupons.settle_coupons(uow, invoice, totals.coupons, now)
    credit_notes.settle_credit_notes(uow, invoice, totals.credit_notes, now)
    wallets.settle_wallets(uow, invoice, totals.wallets, now)
    unapplied = totals.progressive_billing_credit_unapplied_amount_cents
    progressive_credits.refund_excess(uow, invoice, unapplied, now)


def restore(uow: UnitOfWork, invoice: Invoice, now: datetime) -> None:
    """Voiding `invoice` gives back what it consumed (in its unit of work; no commit), as
    Lago's `Invoices::VoidService`: credit note balances and wallet credits (as granted
    credits). Coupons stay consumed, as in Lago."""
    credit_notes.restore_credit_notes(uow, invoice, now)
    wallets.restore_wallets(uow, invoice, now)
