"""Lago's lifecycle of a period invoice after it is issued: draft → finalized → voided.

- refresh (draft only): the fees and totals are priced again from the current usage — events
  that arrived late, during the grace period, count — under the same invoice id, period and
  issuing date; the old fees and applied taxes are replaced.
- finalize (draft only): refresh with `finalizing`, then take the organization's next number
  (gapless: in the same transaction) and set `finalized_at`; a zero total is `succeeded` at
  once (the domain's payment status). A period that ends with no fee, or a zero total the
  customer skips, becomes `closed` instead (as when issued without a grace period).
- void (finalized, not paid): `voided`, `voided_at`. The database triggers allow exactly that.
  What it consumed of credit notes and wallets is given back (`invoice_deductions.restore`).
- delete (draft only): status `deleted` — the period stays billed, so no run re-issues it.
- `finalize_due`: the billing run finalizes every draft whose grace period (customer's, else
  organization's, in days after the invoice's period boundary) is over.

Every transition locks the invoice row first (`get_for_update`), so a run and an API call that
race finalize a draft once; the loser sees a non-draft. Wrong states are 405 (`NotAllowed`):
`not_draft` for finalize / refresh / delete, `not_voidable` for void.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime, timedelta
from uuid import UUID

from releve.domain.billing.period_invoice import InvoiceKind
from releve.domain.invoicing import InvoiceTotals
from releve.services import webhooks
from releve.services.billing_invoice import invoice_number
from releve.services.billing_ports import BillingUnitOfWork, BillingUnitOfWorkFactory
from releve.services.billing_pricing import PricedInvoice, grace_period, price_invoice
from releve.services.billing_queries import InvoiceQueries, InvoiceView, NotAllowed, parse_id
from releve.services.billing_records import (
    INVOICE_CLOSED,
    INVOICE_DELETED,
    INVOICE_DRAFT,
    INVOICE_FINALIZED,
    INVOICE_VOIDED,
    PAYMENT_SUCCEEDED,
    VISIBLE_STATUSES,
    Invoice,
)
from releve.services.errors import NotFound
from releve.services.invoice_deductions import restore, settle
from releve.services.ports import Clock
from releve.services.records import Organization
from releve.services.transactions import retry_on_conflict

log = logging.getLogger(__name__)


def finalize_in(
    uow: BillingUnitOfWork,
    organization: Organization,
    invoice: Invoice,
    now: datetime,
    totals: InvoiceTotals,
) -> None:
    """Number and finalize a stored draft inside the caller's unit of work (no commit), and
    persist what it consumed of coupons, credit notes and wallets (`totals`, priced with
    `finalizing=True`)."""
    sequential_id = uow.invoices.next_sequential_id(organization.id)
    invoice.sequential_id = sequential_id
    invoice.number = invoice_number(organization, sequential_id)
    invoice.status = INVOICE_FINALIZED
    invoice.finalized_at = now
    invoice.updated_at = now
    uow.invoices.update(invoice)
    settle(uow, invoice, totals, now)
    webhooks.emit(
        uow, invoice.organization_id, "invoice.created", "invoice", object_id=str(invoice.id)
    )


def refresh_in(
    uow: BillingUnitOfWork, invoice: Invoice, now: datetime, *, finalizing: bool
) -> PricedInvoice:
    """Price a draft again from the current usage and replace its lines (no commit). The
    result's `shown()` says whether it is still shown (False: no fee, or a zero total to
    skip)."""
    (link,) = uow.invoices.links_for([invoice.id])[invoice.id]
    subscription = uow.subscriptions.get_by_id(invoice.organization_id, link.subscription_id)
    assert subscription is not None
    priced = price_invoice(
        uow,
        subscription,
        InvoiceKind(link.kind),
        link.boundary,
        period_start=link.period_start,
        finalizing=finalizing,
        now=now,
        invoice_id=invoice.id,
    )
    fresh = priced.rows.invoice
    for name in (
        "payment_status",
        "fees_amount_cents",
        "coupons_amount_cents",
        "progressive_billing_credit_amount_cents",
        "sub_total_excluding_taxes_amount_cents",
        "taxes_amount_cents",
        "sub_total_including_taxes_amount_cents",
        "credit_notes_amount_cents",
        "prepaid_credit_amount_cents",
        "prepaid_granted_credit_amount_cents",
        "prepaid_purchased_credit_amount_cents",
        "total_amount_cents",
        "taxes_rate",
    ):
        setattr(invoice, name, getattr(fresh, name))
    invoice.updated_at = now
    uow.invoices.replace_lines(invoice, priced.rows.fees, priced.rows.taxes)
    return priced


class InvoiceLifecycle:
    def __init__(self, uow: BillingUnitOfWorkFactory, clock: Clock) -> None:
        self._uow = uow
        self._clock = clock
        self._queries = InvoiceQueries(uow, clock)

    def _transition(
        self,
        organization_id: UUID,
        lago_id: str,
        change: Callable[[BillingUnitOfWork, Invoice, datetime], None],
    ) -> InvoiceView:
        invoice_id = parse_id(lago_id, "invoice")

        def attempt() -> InvoiceView:
            with self._uow() as uow:
                invoice = uow.invoices.get_for_update(organization_id, invoice_id)
                if invoice is None or invoice.status not in VISIBLE_STATUSES:
                    raise NotFound("invoice")
                change(uow, invoice, self._clock.now())
                view = self._queries.views_in(uow, [invoice])[0]
                uow.commit()
            return view

        return retry_on_conflict(attempt)

    @staticmethod
    def _finalize(uow: BillingUnitOfWork, invoice: Invoice, now: datetime) -> None:
        if invoice.status != INVOICE_DRAFT:
            raise NotAllowed("not_draft")
        priced = refresh_in(uow, invoice, now, finalizing=True)
        if not priced.shown():
            invoice.status = INVOICE_CLOSED
            uow.invoices.update(invoice)
            return
        finalize_in(uow, priced.organization, invoice, now, priced.assembled.totals)

    def finalize(self, organization_id: UUID, lago_id: str) -> InvoiceView:
        return self._transition(organization_id, lago_id, self._finalize)

    def refresh(self, organization_id: UUID, lago_id: str) -> InvoiceView:
        def change(uow: BillingUnitOfWork, invoice: Invoice, now: datetime) -> None:
            if invoice.status != INVOICE_DRAFT:
                raise NotAllowed("not_draft")
            refresh_in(uow, invoice, now, finalizing=False)

        return self._transition(organization_id, lago_id, change)

    def void(self, organization_id: UUID, lago_id: str) -> InvoiceView:
        def change(uow: BillingUnitOfWork, invoice: Invoice, now: datetime) -> None:
            if invoice.status != INVOICE_FINALIZED or invoice.payment_status == PAYMENT_SUCCEEDED:
                raise NotAllowed("not_voidable")
            invoice.status = INVOICE_VOIDED
            invoice.voided_at = now
            invoice.updated_at = now
            uow.invoices.update(invoice)
            restore(uow, invoice, now)
            webhooks.emit(
                uow, invoice.organization_id, "invoice.voided", "invoice", object_id=str(invoice.id)
            )

        return self._transition(organization_id, lago_id, change)

    def delete(self, organization_id: UUID, lago_id: str) -> InvoiceView:
        def change(uow: BillingUnitOfWork, invoice: Invoice, now: datetime) -> None:
            if invoice.status != INVOICE_DRAFT:
                raise NotAllowed("not_draft")
            invoice.status = INVOICE_DELETED
            invoice.updated_at = now
            uow.invoices.update(invoice)

        return self._transition(organization_id, lago_id, change)

    def finalize_due(self, at: datetime, errors: list[str]) -> list[Invoice]:
        """Refresh and finalize every draft whose grace period is over at `at` (all
        organizations); each in its own unit of work. Returns the invoices finalized."""
        with self._uow(read_only=True) as uow:
            due = []
            for draft in uow.invoices.drafts():
                customer = uow.customers.get_by_id(draft.customer_id)
                organization = uow.organizations.get(draft.organization_id)
                links = uow.invoices.links_for([draft.id])[draft.id]
                if customer is None or organization is None or not links:
                    continue
                days = grace_period(customer, organization)
                if links[0].boundary + timedelta(days=days) <= at:
                    due.append(draft)
        finalized = []
        for draft in due:
            try:
                view = self._finalize_if_draft(draft)
            except Exception as exc:  # one broken draft must not stop the run
                log.exception("billing: cannot finalize draft %s", draft.id)
                errors.append(f"draft {draft.id}: {exc}")
                continue
            if view is not None:
                finalized.append(view)
        return finalized

    def _finalize_if_draft(self, draft: Invoice) -> Invoice | None:
        def attempt() -> Invoice | None:
            with self._uow() as uow:
                invoice = uow.invoices.get_for_update(draft.organization_id, draft.id)
                if invoice is None or invoice.status != INVOICE_DRAFT:
                    return None  # finalized or deleted meanwhile
                self._finalize(uow, invoice, self._clock.now())
                uow.commit()
            return invoice if invoice.status == INVOICE_FINALIZED else None

        return retry_on_conflict(attempt)
