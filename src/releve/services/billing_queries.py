"""Invoices and fees as the API reads them (Lago's GET/PUT /invoices, GET /fees).

Only invoices a customer can see are listed: draft, finalized and voided (`closed` periods are
internal). Another organization's invoice or fee is not found. `PUT` changes `payment_status`
(finalized invoices only, as in Lago) and `metadata`; anything else that touches an invoice's
amounts is refused: 405 `invoice_not_editable` once finalized, 422 `cannot_be_updated` on a
draft (drafts are refreshed by billing, never edited by hand).
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any, cast
from uuid import UUID

from releve.domain.errors import DomainError
from releve.services import coupons, wallet_payments, webhooks
from releve.services.billing_ports import (
    BillingUnitOfWork,
    BillingUnitOfWorkFactory,
    FeeFilter,
    InvoiceFilter,
)
from releve.services.billing_records import (
    INVOICE_DRAFT,
    INVOICE_FINALIZED,
    INVOICE_TYPES,
    PAYMENT_STATUSES,
    PAYMENT_SUCCEEDED,
    VISIBLE_STATUSES,
    AppliedTax,
    Fee,
    Invoice,
    InvoiceSubscription,
)
from releve.services.coupon_records import AddOnFee, CouponCredit, CouponUnitOfWork
from releve.services.credit_note_records import (
    CreditNote,
    CreditNoteConsumption,
    credit_note_credits_for,
)
from releve.services.errors import NotFound, ValidationFailed
from releve.services.list_filters import customer_filter, iso_date
from releve.services.pagination import Page, PageRequest
from releve.services.ports import Clock
from releve.services.records import Customer, Organization, Subscription
from releve.services.transactions import retry_on_conflict
from releve.services.validation import Errors

FEE_TYPES = ("subscription", "charge", "commitment", "add_on", "credit", "adjustment")
UPDATABLE = ("payment_status", "metadata")


class NotAllowed(DomainError):
    """A state transition Lago answers with 405 Method Not Allowed."""

    def __init__(self, code: str) -> None:
        super().__init__(code.replace("_", " "), code=code)


@dataclass(frozen=True, slots=True)
class BilledSubscription:
    link: InvoiceSubscription
    subscription: Subscription
    plan_code: str


@dataclass(frozen=True, slots=True)
class InvoiceView:
    invoice: Invoice
    organization: Organization
    customer: Customer
    subscriptions: tuple[BilledSubscription, ...]
    fees: tuple[Fee, ...]
    applied_taxes: tuple[AppliedTax, ...]
    today: date
    # Coupon credits a finalized invoice consumed (Lago's `credits`), add-on fee details.
    credits: tuple[CouponCredit, ...] = ()
    add_on_fees: Mapping[UUID, AddOnFee] = field(default_factory=dict)
    # Credit note balances the invoice consumed, post-tax (Lago's `credits`), oldest first.
    credit_note_credits: tuple[tuple[CreditNoteConsumption, CreditNote], ...] = ()

    @property
    def payment_overdue(self) -> bool:
        i = self.invoice
        return (
            i.status == INVOICE_FINALIZED
            and i.payment_status != PAYMENT_SUCCEEDED
            and i.payment_due_date < self.today
        )

    def external_subscription_id(self, fee: Fee) -> str | None:
        for billed in self.subscriptions:
            if billed.subscription.id == fee.subscription_id:
                return billed.subscription.external_id
        return None


@dataclass(frozen=True, slots=True)
class FeeView:
    fee: Fee
    invoice: InvoiceView

    @property
    def true_up_fee_id(self) -> UUID | None:
        return next(
            (f.id for f in self.invoice.fees if f.true_up_parent_fee_id == self.fee.id), None
        )


def parse_id(value: str, resource: str) -> UUID:
    """A path id; anything that is not a UUID is simply not found."""
    try:
        return UUID(value)
    except ValueError:
        raise NotFound(resource) from None


class InvoiceQueries:
    def __init__(self, uow: BillingUnitOfWorkFactory, clock: Clock) -> None:
        self._uow = uow
        self._clock = clock

    def views_in(self, uow: BillingUnitOfWork, invoices: list[Invoice]) -> list[InvoiceView]:
        """The views of `invoices` in a constant number of queries, whatever their number:
        every child (fees, taxes, links, credits, add-ons, credit notes) and every record they
        name (organization, customer, subscription, plan code) is loaded once for the whole
        page, not once per invoice (a page of 25 used to cost about 180 statements)."""
        ids = [i.id for i in invoices]
        fees = uow.invoices.fees_for(ids)
        taxes = uow.invoices.taxes_for(ids)
        links = uow.invoices.links_for(ids)
        credits = coupons.coupon_credits_for(uow, ids)
        add_on_fees = cast(CouponUnitOfWork, uow).add_ons.fees_for(ids)
        note_credits = credit_note_credits_for(uow, ids)
        organizations = {
            org_id: uow.organizations.get(org_id)
            for org_id in sorted({i.organization_id for i in invoices})
        }
        customers = uow.customers.by_ids({i.customer_id for i in invoices})
        subscriptions: dict[UUID, Subscription] = {}
        plan_codes: dict[UUID, str] = {}
        for org_id in organizations:  # one organization per page in practice
            mine = {i.id for i in invoices if i.organization_id == org_id}
            found = uow.subscriptions.by_ids(
                org_id, {link.subscription_id for i in mine for link in links[i]}
            )
            subscriptions.update(found)
            plan_codes.update(uow.plans.codes_by_ids(org_id, {s.plan_id for s in found.values()}))
        today = self._clock.now().date()
        views = []
        for invoice in invoices:
            organization = organizations[invoice.organization_id]
            customer = customers.get(invoice.customer_id)
            assert organization is not None and customer is not None
            billed = []
            for link in links[invoice.id]:
                subscription = subscriptions.get(link.subscription_id)
                assert subscription is not None
                billed.append(
                    BilledSubscription(link, subscription, plan_codes.get(subscription.plan_id, ""))
                )
            views.append(
                InvoiceView(
                    invoice,
                    organization,
                    customer,
                    tuple(billed),
                    tuple(fees[invoice.id]),
                    tuple(taxes[invoice.id]),
                    today,
                    tuple(credits[invoice.id]),
                    {f.id: add_on_fees[f.id] for f in fees[invoice.id] if f.id in add_on_fees},
                    credit_note_credits=tuple(note_credits[invoice.id]),
                )
            )
        return views

    def _get(self, uow: BillingUnitOfWork, organization_id: UUID, lago_id: str) -> Invoice:
        invoice = uow.invoices.get(organization_id, parse_id(lago_id, "invoice"))
        if invoice is None or invoice.status not in VISIBLE_STATUSES:
            raise NotFound("invoice")
        return invoice

    def get(self, organization_id: UUID, lago_id: str) -> InvoiceView:
        with self._uow(read_only=True) as uow:
            return self.views_in(uow, [self._get(uow, organization_id, lago_id)])[0]

    def list(
        self,
        organization_id: UUID,
        page: PageRequest,
        *,
        external_customer_id: str | None = None,
        status: str | None = None,
        payment_status: str | None = None,
        invoice_type: str | None = None,
        issuing_date_from: str | None = None,
        issuing_date_to: str | None = None,
    ) -> Page[InvoiceView]:
        errors = Errors()
        if status is not None and status not in VISIBLE_STATUSES:
            errors.add("status", "value_is_invalid")
        if payment_status is not None and payment_status not in PAYMENT_STATUSES:
            errors.add("payment_status", "value_is_invalid")
        if invoice_type is not None and invoice_type not in INVOICE_TYPES:
            errors.add("invoice_type", "value_is_invalid")
        start = iso_date(errors, "issuing_date_from", issuing_date_from)
        end = iso_date(errors, "issuing_date_to", issuing_date_to)
        if errors:
            raise ValidationFailed(errors.details)
        with self._uow(read_only=True) as uow:
            known, customer_id = customer_filter(
                uow.customers, organization_id, external_customer_id
            )
            if not known:
                return Page([], page, 0)
            filters = InvoiceFilter(
                statuses=(status,) if status else VISIBLE_STATUSES,
                customer_id=customer_id,
                payment_status=payment_status,
                invoice_type=invoice_type,
                issuing_date_from=start,
                issuing_date_to=end,
            )
            items, total = uow.invoices.list_invoices(organization_id, filters, page)
            return Page(self.views_in(uow, items), page, total)

    def update(self, organization_id: UUID, lago_id: str, values: Mapping[str, Any]) -> InvoiceView:
        """Lago's PUT /invoices/{id}: `payment_status` and `metadata` only (module docstring)."""
        errors = Errors()
        payment_status = values.get("payment_status")
        if "payment_status" in values and payment_status not in PAYMENT_STATUSES:
            errors.add("payment_status", "value_is_invalid")
        metadata = values.get("metadata")
        if metadata is not None and not (
            isinstance(metadata, list)
            and all(
                isinstance(m, Mapping) and isinstance(m.get("key"), str) and "value" in m
                for m in metadata
            )
        ):
            errors.add("metadata", "value_is_invalid")
        others = sorted(k for k in values if k not in UPDATABLE)

        def attempt() -> InvoiceView:
            with self._uow() as uow:
                invoice = self._get(uow, organization_id, lago_id)
                if others and invoice.status != INVOICE_DRAFT:
                    raise NotAllowed("invoice_not_editable")
                problems = {k: list(v) for k, v in errors.details.items()}
                for key in others:
                    problems.setdefault(key, []).append("cannot_be_updated")
                if problems:
                    raise ValidationFailed(problems)
                if payment_status is not None and invoice.status != INVOICE_FINALIZED:
                    raise NotAllowed("invoice_not_finalized")
                now = self._clock.now()
                status_changed = payment_status is not None and payment_status != (
                    invoice.payment_status
                )
                if payment_status is not None:
                    invoice.payment_status = str(payment_status)
                if metadata is not None:
                    invoice.metadata = _merge_metadata(invoice.metadata, metadata)
                invoice.updated_at = now
                uow.invoices.update(invoice)
                if status_changed:
                    # A paid (or failed) credit invoice settles (or fails) its purchased credits.
                    wallet_payments.on_invoice_payment_status(uow, invoice, now)
                    webhooks.emit(
                        uow,
                        organization_id,
                        "invoice.payment_status_updated",
                        "invoice",
                        object_id=str(invoice.id),
                    )
                view = self.views_in(uow, [invoice])[0]
                uow.commit()
            return view

        return retry_on_conflict(attempt)

    # --- fees --------------------------------------------------------------------------------

    def get_fee(self, organization_id: UUID, lago_id: str) -> FeeView:
        with self._uow(read_only=True) as uow:
            fee = uow.invoices.get_fee(organization_id, parse_id(lago_id, "fee"))
            if fee is None:
                raise NotFound("fee")
            invoice = uow.invoices.get(organization_id, fee.invoice_id)
            if invoice is None or invoice.status not in VISIBLE_STATUSES:
                raise NotFound("fee")
            return FeeView(fee, self.views_in(uow, [invoice])[0])

    def list_fees(
        self,
        organization_id: UUID,
        page: PageRequest,
        *,
        fee_type: str | None = None,
        external_subscription_id: str | None = None,
        external_customer_id: str | None = None,
        payment_status: str | None = None,
        event_transaction_id: str | None = None,
    ) -> Page[FeeView]:
        errors = Errors()
        if fee_type is not None and fee_type not in FEE_TYPES:
            errors.add("fee_type", "value_is_invalid")
        if payment_status is not None and payment_status not in PAYMENT_STATUSES:
            errors.add("payment_status", "value_is_invalid")
        if errors:
            raise ValidationFailed(errors.details)
        if event_transaction_id is not None:
            # Only pay-in-advance fees come from one event; period invoices have none yet.
            return Page([], page, 0)
        with self._uow(read_only=True) as uow:
            known, customer_id = customer_filter(
                uow.customers, organization_id, external_customer_id
            )
            if not known:
                return Page([], page, 0)
            filters = FeeFilter(
                invoice_statuses=VISIBLE_STATUSES,
                fee_type=fee_type,
                customer_id=customer_id,
                external_subscription_id=external_subscription_id,
                payment_status=payment_status,
            )
            fees, total = uow.invoices.list_fees(organization_id, filters, page)
            # The invoices of the page's fees, their views built together (not one per fee).
            found = uow.invoices.by_ids(organization_id, {f.invoice_id for f in fees})
            ordered = [found[i] for i in dict.fromkeys(f.invoice_id for f in fees)]
            invoices = {view.invoice.id: view for view in self.views_in(uow, ordered)}
            return Page([FeeView(f, invoices[f.invoice_id]) for f in fees], page, total)


def _merge_metadata(
    current: list[dict[str, Any]], updates: list[Mapping[str, Any]]
) -> list[dict[str, Any]]:
    """Lago: metadata items are upserted by key (an `id` names an existing item)."""
    merged = [dict(m) for m in current]
    for item in updates:
        key, value = str(item["key"]), item.get("value")
        existing = next((m for m in merged if m["key"] == key), None)
        if existing is None:
            merged.append({"id": str(uuid.uuid4()), "key": key, "value": value})
        else:
            existing["value"] = value
    return merged
