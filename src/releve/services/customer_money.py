"""What a customer's money looks like on the portal and the dashboard: wallets with their ongoing
balance and ledger, credit notes with the invoices that consumed them, and the named credit lines
of an invoice (coupons, credit notes, prepaid credits).

Read-only view data over the same stores and rules as the API (`wallet_views` for balances and
the ongoing balance, the credit-note and wallet ledgers for consumptions); templates lay it out.

- Isolation: every read is scoped by (organization id, customer id) taken from a verified portal
  token or dashboard session; a wallet or credit note of anyone else is `NotFound`.
- Ongoing balance, in the words the pages use: balance − usage so far this period (taxes
  included) − invoices awaiting finalization, split over the customer's wallets in the order an
  invoice would use them and never below zero (`wallet_views`). The parts are shown too.
- Which later invoices consumed a credit note: the customer's finalized invoices issued since the
  oldest credit note shown, joined to their credit-note consumptions (one query each).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Protocol
from uuid import UUID

from releve.services.billing_ports import InvoiceFilter
from releve.services.billing_queries import InvoiceView, parse_id
from releve.services.billing_records import INVOICE_DRAFT, INVOICE_FINALIZED, Invoice
from releve.services.credit_note_records import CreditNote, CreditNoteFilter, CreditNoteUnitOfWork
from releve.services.errors import NotFound
from releve.services.pagination import MAX_PER_PAGE, Page, PageRequest
from releve.services.ports import Clock, SubscriptionFilter
from releve.services.records import Customer
from releve.services.usage import CurrentUsageService
from releve.services.wallet_records import (
    GRANTED,
    INBOUND,
    INVOICED,
    SOURCE_EXPIRATION,
    TransactionFilter,
    WalletTransaction,
    WalletUnitOfWork,
)
from releve.services.wallet_views import WalletView, wallet_views

RECENT_MOVEMENTS = 5
MAX_WALLETS = 50


class MoneyUnitOfWork(WalletUnitOfWork, CreditNoteUnitOfWork, Protocol):
    def __enter__(self) -> MoneyUnitOfWork: ...


class MoneyUnitOfWorkFactory(Protocol):
    def __call__(self, *, read_only: bool = False) -> MoneyUnitOfWork: ...


@dataclass(frozen=True, slots=True)
class InvoiceRef:
    """An invoice named on a line: its id, number and whether the customer may open it."""

    id: UUID
    number: str | None
    finalized: bool


@dataclass(frozen=True, slots=True)
class Movement:
    """One ledger row in words: `kind` is purchased, granted, invoiced, voided or expired;
    `sign` +1 adds to the wallet, −1 takes from it (amounts are always positive)."""

    transaction: WalletTransaction
    kind: str
    sign: int
    invoice: InvoiceRef | None

    @property
    def label(self) -> str:
        return {
            "purchased": "Credits purchased",
            "granted": "Credits granted",
            "invoiced": "Paid an invoice",
            "voided": "Credits voided",
            "expired": "Credits expired",
        }[self.kind]


@dataclass(frozen=True, slots=True)
class OwedParts:
    """What the customer owes so far in one currency (minor units), the ongoing balance's parts."""

    usage_cents: int = 0  # current usage of active subscriptions, taxes included
    drafts_cents: int = 0  # invoices awaiting finalization


@dataclass(frozen=True, slots=True)
class WalletPanel:
    view: WalletView
    owed: OwedParts
    recent: tuple[Movement, ...]

    @property
    def currency(self) -> str:
        return self.view.wallet.currency.code


@dataclass(frozen=True, slots=True)
class Consumed:
    invoice: InvoiceRef
    amount_cents: int
    on: date


@dataclass(frozen=True, slots=True)
class CreditNoteRow:
    note: CreditNote
    invoice: InvoiceRef
    consumed_by: tuple[Consumed, ...]

    @property
    def status(self) -> str:
        """One word for the customer: voided, available (credit left), used, or refund."""
        n = self.note
        if n.credit_status == "voided":
            return "voided"
        if n.credit_status == "available" and n.balance_amount_cents > 0:
            return "available"
        if n.credit_status == "consumed":
            return "used"
        return f"refund {n.refund_status}" if n.refund_status else "issued"


@dataclass(frozen=True, slots=True)
class CreditLine:
    """A deduction of an invoice, named: `kind` coupon, credit_note or prepaid."""

    kind: str
    name: str
    amount_cents: int
    ref_id: UUID | None = None  # the credit note or wallet it came from


def _movement(t: WalletTransaction, invoices: dict[UUID, Invoice]) -> Movement:
    if t.transaction_type == INBOUND:
        kind = "granted" if t.transaction_status == GRANTED else "purchased"
    elif t.transaction_status == INVOICED:
        kind = "invoiced"
    else:
        kind = "expired" if t.source == SOURCE_EXPIRATION else "voided"
    invoice = invoices.get(t.invoice_id) if t.invoice_id else None
    ref = (
        InvoiceRef(invoice.id, invoice.number, invoice.status == INVOICE_FINALIZED)
        if invoice is not None
        else None
    )
    return Movement(t, kind, 1 if t.transaction_type == INBOUND else -1, ref)


class CustomerMoneyView:
    """Reads behind the portal's and the dashboard's money sections (module docstring)."""

    def __init__(self, uow: MoneyUnitOfWorkFactory, clock: Clock) -> None:
        self._uow = uow
        self._clock = clock
        self._usage = CurrentUsageService(uow, clock)

    # --- wallets -----------------------------------------------------------------------------

    def wallets(self, customer: Customer) -> list[WalletPanel]:
        """Every wallet of the customer (active first, then terminated), with its balances, the
        ongoing balance's parts and its latest movements."""
        now = self._clock.now()
        with self._uow(read_only=True) as uow:
            stored, _ = uow.wallets.list_wallets(
                customer.organization_id, customer.id, PageRequest(1, MAX_WALLETS)
            )
            stored = sorted(stored, key=lambda w: (w.status != "active", w.priority, w.created_at))
            views = wallet_views(uow, self._usage, stored, now)
            owed = self._owed(uow, customer) if views else {}
            panels = []
            for view in views:
                rows, _ = uow.wallets.transactions(
                    customer.organization_id,
                    view.wallet.id,
                    TransactionFilter(),
                    PageRequest(1, RECENT_MOVEMENTS),
                )
                panels.append(
                    WalletPanel(
                        view,
                        owed.get(view.wallet.currency.code, OwedParts()),
                        tuple(self._movements(uow, customer.organization_id, rows)),
                    )
                )
            return panels

    def wallet(self, customer: Customer, lago_id: str) -> WalletView:
        """One wallet of this customer; anyone else's is not found."""
        with self._uow(read_only=True) as uow:
            wallet = uow.wallets.get(customer.organization_id, parse_id(lago_id, "wallet"))
            if wallet is None or wallet.customer_id != customer.id:
                raise NotFound("wallet")
            return wallet_views(uow, self._usage, [wallet], self._clock.now())[0]

    def movements(self, customer: Customer, lago_id: str, page: PageRequest) -> Page[Movement]:
        """A wallet's ledger, newest first, paged (this customer's wallets only)."""
        with self._uow(read_only=True) as uow:
            wallet = uow.wallets.get(customer.organization_id, parse_id(lago_id, "wallet"))
            if wallet is None or wallet.customer_id != customer.id:
                raise NotFound("wallet")
            rows, total = uow.wallets.transactions(
                customer.organization_id, wallet.id, TransactionFilter(), page
            )
            return Page(self._movements(uow, customer.organization_id, rows), page, total)

    @staticmethod
    def _movements(
        uow: MoneyUnitOfWork, organization_id: UUID, rows: Sequence[WalletTransaction]
    ) -> list[Movement]:
        invoices: dict[UUID, Invoice] = {}
        for invoice_id in {t.invoice_id for t in rows if t.invoice_id is not None}:
            found = uow.invoices.get(organization_id, invoice_id)
            if found is not None:
                invoices[invoice_id] = found
        return [_movement(t, invoices) for t in rows]

    def _owed(self, uow: MoneyUnitOfWork, customer: Customer) -> dict[str, OwedParts]:
        """currency → (usage so far incl. taxes, draft invoice totals), as `wallet_views` sums."""
        org_id = customer.organization_id
        usage: dict[str, int] = {}
        drafts: dict[str, int] = {}
        page = PageRequest(1, MAX_PER_PAGE)
        subscriptions, _ = uow.subscriptions.list(
            org_id, SubscriptionFilter(statuses=("active",), customer_id=customer.id), page
        )
        for subscription in subscriptions:
            try:
                current = self._usage.current_usage(
                    org_id, customer.external_id, subscription.external_id
                )
            except NotFound:
                continue
            code = current.currency.code
            usage[code] = usage.get(code, 0) + current.total_amount_cents
        found, _ = uow.invoices.list_invoices(
            org_id, InvoiceFilter(statuses=(INVOICE_DRAFT,), customer_id=customer.id), page
        )
        for draft in found:
            drafts[draft.currency] = drafts.get(draft.currency, 0) + draft.total_amount_cents
        return {
            code: OwedParts(usage.get(code, 0), drafts.get(code, 0))
            for code in usage.keys() | drafts.keys()
        }

    # --- credit notes ------------------------------------------------------------------------

    def credit_notes(self, customer: Customer, page: PageRequest) -> Page[CreditNoteRow]:
        """The customer's credit notes, newest first, each with its invoice and the later
        invoices that consumed it."""
        org_id = customer.organization_id
        with self._uow(read_only=True) as uow:
            notes, total = uow.credit_notes.list_notes(
                org_id, CreditNoteFilter(customer_id=customer.id), page
            )
            refs: dict[UUID, InvoiceRef] = {}
            for invoice_id in {n.invoice_id for n in notes}:
                invoice = uow.invoices.get(org_id, invoice_id)
                assert invoice is not None
                refs[invoice_id] = InvoiceRef(
                    invoice.id, invoice.number, invoice.status == INVOICE_FINALIZED
                )
            consumed = self._consumptions(uow, customer, notes)
            rows = [
                CreditNoteRow(n, refs[n.invoice_id], tuple(consumed.get(n.id, ()))) for n in notes
            ]
            return Page(rows, page, total)

    def credit_note(self, customer: Customer, lago_id: str) -> CreditNoteRow:
        """One credit note of this customer; anyone else's is not found."""
        with self._uow(read_only=True) as uow:
            note = uow.credit_notes.get(customer.organization_id, parse_id(lago_id, "credit_note"))
            if note is None or note.customer_id != customer.id:
                raise NotFound("credit_note")
            invoice = uow.invoices.get(customer.organization_id, note.invoice_id)
            assert invoice is not None
            ref = InvoiceRef(invoice.id, invoice.number, invoice.status == INVOICE_FINALIZED)
            consumed = self._consumptions(uow, customer, [note])
            return CreditNoteRow(note, ref, tuple(consumed.get(note.id, ())))

    @staticmethod
    def _consumptions(
        uow: MoneyUnitOfWork, customer: Customer, notes: Sequence[CreditNote]
    ) -> dict[UUID, list[Consumed]]:
        if not notes:
            return {}
        since = min(n.issuing_date for n in notes) - timedelta(days=1)  # zones differ by < 1 day
        invoices: list[Invoice] = []
        page = 1
        while True:
            found, total = uow.invoices.list_invoices(
                customer.organization_id,
                InvoiceFilter(
                    statuses=(INVOICE_FINALIZED,),
                    customer_id=customer.id,
                    issuing_date_from=since,
                ),
                PageRequest(page, MAX_PER_PAGE),
            )
            invoices += found
            if page * MAX_PER_PAGE >= total:
                break
            page += 1
        by_id = {i.id: i for i in invoices}
        wanted = {n.id for n in notes}
        result: dict[UUID, list[Consumed]] = {}
        for invoice_id, pairs in uow.credit_notes.consumptions_for_invoices(list(by_id)).items():
            invoice = by_id[invoice_id]
            for consumption, note in pairs:
                if note.id in wanted:
                    result.setdefault(note.id, []).append(
                        Consumed(
                            InvoiceRef(invoice.id, invoice.number, True),
                            consumption.amount_cents,
                            invoice.issuing_date,
                        )
                    )
        for consumed in result.values():
            consumed.sort(key=lambda c: (c.on, c.invoice.number or ""))
        return result

    # --- an invoice's credits ----------------------------------------------------------------

    def invoice_credits(self, view: InvoiceView) -> list[CreditLine]:
        """The invoice's deductions by name, in Lago's order: coupons (before taxes), credit
        notes, prepaid credits per wallet (after taxes)."""
        lines = [
            CreditLine("coupon", c.coupon_name or c.coupon_code, c.amount_cents)
            for c in view.credits
        ]
        lines += [
            CreditLine("credit_note", note.number, consumption.amount_cents, note.id)
            for consumption, note in view.credit_note_credits
        ]
        invoice = view.invoice
        if invoice.prepaid_credit_amount_cents:
            with self._uow(read_only=True) as uow:
                for t in uow.wallets.for_invoice(invoice.organization_id, invoice.id):
                    if t.transaction_status != INVOICED:
                        continue  # a purchase's own credit invoice names the wallet too
                    wallet = uow.wallets.get(invoice.organization_id, t.wallet_id)
                    name = (wallet.name if wallet else None) or "Prepaid credits"
                    lines.append(CreditLine("prepaid", name, t.amount_cents, t.wallet_id))
        return lines
