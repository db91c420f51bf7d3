"""Price one subscription invoice from the current usage: the rows billing stores.

Shared by issuing (`BillingService.issue_in`) and by refreshing a draft
(`billing_lifecycle`): the same subscription, kind and instant always give the same contents;
only the usage read at that moment (late events included) can change the amounts.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import cast
from uuid import UUID

from releve.domain.billing.adjustments import invoice_lines
from releve.domain.billing.period_invoice import (
    AssembledInvoice,
    InvoiceFee,
    InvoiceKind,
    assemble_period_invoice,
    invoice_charge_period,
)
from releve.domain.fee_lines import TaxRate
from releve.domain.filters import BucketKey
from releve.domain.invoicing import ZeroAmountInvoicePolicy, finalize_zero_amount_invoice
from releve.domain.periods import local_date
from releve.domain.subscriptions import Subscription as DomainSubscription
from releve.domain.usage import UsageFacts
from releve.services.billing_invoice import InvoiceRows, build_rows
from releve.services.billing_ports import BillingUnitOfWork
from releve.services.billing_usage import usage_for_period
from releve.services.invoice_deductions import deductions_for
from releve.services.late_adjustments import SETTLING_KINDS, period_adjustments
from releve.services.late_records import AdjustmentUnitOfWork
from releve.services.ports import UnitOfWork
from releve.services.records import Customer, Organization, Subscription, Tax
from releve.services.subscriptions import customer_timezone, domain_subscription


@dataclass(frozen=True, slots=True)
class PricedInvoice:
    rows: InvoiceRows
    assembled: AssembledInvoice
    organization: Organization
    customer: Customer
    domain: DomainSubscription

    def shown(self) -> bool:
        """False when the period is stored `closed`: no fee, or zero fees to skip. Lago tests
        `fees_amount_cents` (`TransitionToFinalStatusService`), not the total: a total brought
        to 0 by a coupon, a credit note or a wallet is finalized, so what paid it is consumed."""
        policy = ZeroAmountInvoicePolicy(self.customer.finalize_zero_amount_invoice or "inherit")
        return bool(self.assembled.fees) and finalize_zero_amount_invoice(
            self.rows.invoice.fees_amount_cents, policy, ZeroAmountInvoicePolicy.INHERIT
        )


def grace_period(customer: Customer, organization: Organization) -> int:
    """Days a period invoice stays draft: the customer's setting, else the organization's."""
    if customer.invoice_grace_period is not None:
        return customer.invoice_grace_period
    return organization.invoice_grace_period


def applicable_taxes(
    uow: UnitOfWork, organization_id: UUID, domain: DomainSubscription
) -> dict[str, Tax]:
    plan = domain.plan
    codes = {*plan.tax_codes, *(code for c in plan.charges for code in c.tax_codes)}
    if plan.minimum_commitment is not None:
        codes.update(plan.minimum_commitment.tax_codes)
    found = {t.code: t for t in uow.taxes.applied_to_organization(organization_id)}
    for code in sorted(codes - found.keys()):
        tax = uow.taxes.get(organization_id, code)
        if tax is not None:
            found[code] = tax
    return found


def price_invoice(
    uow: BillingUnitOfWork,
    subscription: Subscription,
    kind: InvoiceKind,
    at: datetime,
    *,
    period_start: datetime,
    finalizing: bool | None,
    now: datetime,
    invoice_id: UUID | None = None,
) -> PricedInvoice:
    """The rows of the invoice of `kind` at `at` with today's usage. `finalizing` None: per
    the grace period. `invoice_id`: keep an existing (draft) invoice's id."""
    org_id = subscription.organization_id
    organization = uow.organizations.get(org_id)
    customer = uow.customers.get_by_id(subscription.customer_id)
    stored = uow.plans.get_by_id(org_id, subscription.plan_id)
    assert organization is not None and customer is not None and stored is not None
    tz = customer_timezone(uow, org_id, customer)
    domain = domain_subscription(subscription, stored.plan, tz)
    assert domain is not None
    if finalizing is None:
        finalizing = grace_period(customer, organization) <= 0
    taxes = applicable_taxes(uow, org_id, domain)
    rates = {code: TaxRate(t.code, t.name, t.rate) for code, t in taxes.items()}
    defaults = [t.code for t in uow.taxes.applied_to_organization(org_id)]
    deductions = deductions_for(
        uow,
        customer,
        stored.plan.currency.code,
        at,
        finalizing=finalizing,
        subscription_id=subscription.id,
        kind=kind.value,
    )

    # Late events in earlier, finalized periods: their positive adjustments are lines of this
    # invoice (`late_adjustments`). Finalizing takes the subscription's lock first, so two
    # invoices of one subscription finalized concurrently never carry the same adjustment.
    adjustments: Sequence[InvoiceFee] = ()
    if kind in SETTLING_KINDS:
        if finalizing:
            uow.usage_aggregates.lock([subscription.id])
        late = period_adjustments(
            cast(AdjustmentUnitOfWork, uow), subscription, domain, stored, tz, rates, defaults
        )
        adjustments = tuple(
            line
            for period in late
            for line in invoice_lines(period.adjustments, str(subscription.id), stored.plan.code)
        )

    def assemble(usage: Mapping[str, Mapping[BucketKey, UsageFacts]]) -> AssembledInvoice:
        return assemble_period_invoice(
            domain,
            kind,
            at,
            usage=usage,
            finalizing=finalizing,
            taxes=rates,
            default_tax_codes=defaults,
            applied_coupons=deductions.applied_coupons,
            credit_notes=deductions.credit_notes,
            wallets=deductions.wallets,
            progressive_billing_credit_amount_cents=(
                deductions.progressive_billing_credit_amount_cents
            ),
            adjustments=adjustments,
        )

    # The charge period this invoice bills (the domain decides), then priced with its usage.
    period = invoice_charge_period(domain, kind, at)
    usage: Mapping[str, Mapping[BucketKey, UsageFacts]] = {}
    if period is not None and not period.is_empty:
        usage = usage_for_period(
            uow, org_id, subscription.id, subscription.external_id, domain, stored.plan, period
        )
    assembled = assemble(usage)
    term = (
        customer.net_payment_term
        if customer.net_payment_term is not None
        else organization.net_payment_term
    )
    filter_ids = uow.invoices.charge_filter_ids(
        [UUID(c.id) for c in stored.plan.charges if c.filters]
    )
    rows = build_rows(
        assembled,
        organization=organization,
        subscription=subscription,
        plan=stored.plan,
        taxes=taxes,
        filter_ids=filter_ids,
        period_start=period_start,
        issuing_date=local_date(at, tz),
        net_payment_term=term,
        now=now,
        invoice_id=invoice_id,
    )
    return PricedInvoice(rows, assembled, organization, customer, domain)
