"""An assembled invoice (domain) → the rows billing stores: invoice, fees, applied taxes, link.

Every amount comes from the domain (`assemble_period_invoice` → `InvoiceTotals`); nothing is
recomputed here. Fees keep their own copy of what they show (item code, name, display names),
so an invoice reads the same after its plan changes.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any
from uuid import UUID

from releve.domain.billing import period_invoice
from releve.domain.billing.charge_fees import ChargeFeeKind
from releve.domain.billing.period_invoice import AssembledInvoice, InvoiceKind
from releve.domain.fee_lines import FeeLine, FeeType
from releve.domain.invoicing import FeeBreakdown, InvoiceTotals
from releve.domain.money import Currency, minor_to_major
from releve.domain.plans import Plan
from releve.services.billing_records import (
    INVOICE_DRAFT,
    AppliedTax,
    Fee,
    Invoice,
    InvoiceSubscription,
)
from releve.services.ids import time_ordered_id
from releve.services.records import Organization, Subscription, Tax

INVOICING_REASONS = {
    InvoiceKind.START: "subscription_starting",
    InvoiceKind.PERIOD_END: "subscription_periodic",
    InvoiceKind.TRIAL_END: "subscription_trial_ended",
    InvoiceKind.TERMINATION: "subscription_terminating",
    InvoiceKind.UPGRADE: "subscription_terminating",
    # Relevé's own reason (Lago has no such invoice): late usage of a terminated subscription.
    InvoiceKind.ADJUSTMENT: "late_usage_adjustment",
}


def number_prefix(organization: Organization) -> str:
    """Lago-like document prefix: 3 letters of the name and 4 hex digits of the id."""
    letters = "".join(ch for ch in organization.name.upper() if ch.isalnum())[:3] or "INV"
    return f"{letters}-{organization.id.hex[-4:].upper()}"


def invoice_number(organization: Organization, sequential_id: int) -> str:
    """`ACM-3F2A-000042`: the organization-wide gapless sequence, six digits (more if needed)."""
    return f"{number_prefix(organization)}-{sequential_id:06d}"


@dataclass(frozen=True, slots=True)
class InvoiceRows:
    invoice: Invoice
    link: InvoiceSubscription
    fees: tuple[Fee, ...]
    taxes: tuple[AppliedTax, ...]


def _item(
    assembled_fee: period_invoice.InvoiceFee, plan: Plan, subscription: Subscription
) -> dict[str, Any]:
    line = assembled_fee.line
    if line.fee_type is FeeType.SUBSCRIPTION:
        return {
            "item_type": "Subscription",
            "item_code": plan.code,
            "item_name": plan.name,
            "item_id": str(subscription.id),
            "invoice_display_name": plan.invoice_display_name,
        }
    if line.fee_type is FeeType.COMMITMENT:
        commitment = plan.minimum_commitment
        return {
            "item_type": "Commitment",
            "item_code": "minimum_commitment",
            "item_name": "Minimum commitment",
            "item_id": plan.id,
            "invoice_display_name": commitment.invoice_display_name if commitment else None,
        }
    charge = next(c for c in plan.charges if c.id == assembled_fee.charge_id)
    return {
        "item_type": "BillableMetric",
        "item_code": charge.metric.code,
        "item_name": charge.metric.name,
        "item_id": charge.billable_metric_id,
        "invoice_display_name": charge.invoice_display_name,
    }


def build_rows(
    assembled: AssembledInvoice,
    *,
    organization: Organization,
    subscription: Subscription,
    plan: Plan,
    taxes: dict[str, Tax],
    filter_ids: dict[tuple[UUID, int], UUID],
    period_start: datetime,
    issuing_date: date,
    net_payment_term: int,
    now: datetime,
    invoice_id: UUID | None = None,
) -> InvoiceRows:
    """The rows of a draft invoice (finalization sets status, number and dates afterwards)."""
    totals = assembled.totals
    currency = totals.currency
    invoice_id = invoice_id or time_ordered_id()
    invoice = invoice_row(
        invoice_id=invoice_id,
        organization_id=organization.id,
        customer_id=subscription.customer_id,
        invoice_type="subscription",
        totals=totals,
        issuing_date=issuing_date,
        net_payment_term=net_payment_term,
        now=now,
    )
    fees: list[Fee] = []
    usage_fee_of_charge: dict[str, UUID] = {}
    fee_periods = [f.period for f in assembled.fees if f.line.fee_type is FeeType.SUBSCRIPTION]
    for position, assembled_fee in enumerate(assembled.fees):
        line = assembled_fee.line
        breakdown = totals.fee(line.id)
        charge_fee = assembled_fee.charge_fee
        fee_id = time_ordered_id()
        charge_id = UUID(assembled_fee.charge_id) if assembled_fee.charge_id else None
        filter_id = filter_name = filter_values = None
        parent = None
        grouped_by: dict[str, Any] = {}
        units = Decimal(1) if line.units is None else line.units
        events_count = 0
        if charge_fee is not None and charge_id is not None:
            bucket = charge_fee.bucket
            if bucket is not None and bucket.filter_index is not None:
                filter_id = filter_ids.get((charge_id, bucket.filter_index))
                charge = next(c for c in plan.charges if c.id == charge_fee.charge_id)
                filter_name = charge.filters[bucket.filter_index].invoice_display_name
            if charge_fee.filter_values is not None:
                filter_values = {k: list(v) for k, v in charge_fee.filter_values.items()}
            grouped_by = dict(charge_fee.grouped_by)
            if line.fee_type is FeeType.ADJUSTMENT:
                pass  # a late-event correction: its own units (1), not the period's usage
            elif charge_fee.kind is ChargeFeeKind.TRUE_UP:
                parent = usage_fee_of_charge.get(charge_fee.charge_id)
            else:
                units = charge_fee.units
                events_count = charge_fee.events_count
                usage_fee_of_charge.setdefault(charge_fee.charge_id, fee_id)
        precise = (
            line.precise_amount
            if line.precise_amount is not None
            else minor_to_major(line.amount_cents, currency)
        )
        fees.append(
            Fee(
                id=fee_id,
                organization_id=organization.id,
                invoice_id=invoice_id,
                position=position,
                fee_type=line.fee_type.value,
                **_item(assembled_fee, plan, subscription),
                filter_invoice_display_name=filter_name,
                precise_amount=precise,
                **fee_amounts(breakdown, line, currency),
                units=units,
                total_aggregated_units=units,
                events_count=events_count,
                precise_unit_amount=precise / units if units != 0 else None,
                from_datetime=assembled_fee.period.start,
                to_datetime=assembled_fee.period.end,
                explanation=assembled_fee.explanation,
                payment_status=invoice.payment_status,
                created_at=now,
                subscription_id=subscription.id,
                charge_id=charge_id,
                charge_filter_id=filter_id,
                true_up_parent_fee_id=parent,
                amount_details=dict(assembled_fee.amount_details),
                grouped_by=grouped_by,
                filter_values=filter_values,
                pay_in_advance=line.fee_type is FeeType.SUBSCRIPTION and plan.pay_in_advance,
            )
        )
    applied = applied_tax_rows(organization.id, invoice_id, totals, taxes, now)
    charges = assembled.charges_period
    link = InvoiceSubscription(
        invoice_id=invoice_id,
        subscription_id=subscription.id,
        organization_id=organization.id,
        kind=assembled.kind.value,
        invoicing_reason=INVOICING_REASONS[assembled.kind],
        period_start=period_start,
        boundary=assembled.issued_at,
        created_at=now,
        from_datetime=fee_periods[0].start if fee_periods else None,
        to_datetime=fee_periods[-1].end if fee_periods else None,
        charges_from_datetime=charges.start if charges is not None else None,
        charges_to_datetime=charges.end if charges is not None else None,
    )
    return InvoiceRows(invoice, link, tuple(fees), applied)


def invoice_row(
    *,
    invoice_id: UUID,
    organization_id: UUID,
    customer_id: UUID,
    invoice_type: str,
    totals: InvoiceTotals,
    issuing_date: date,
    net_payment_term: int,
    now: datetime,
) -> Invoice:
    """A draft invoice row carrying every amount of `totals`.

    Subscription and one-off invoices store the same columns from the same domain totals; one
    builder keeps them from drifting apart. Stored as a draft: fees can only be added to a
    draft (0003); finalization sets status, number and dates afterwards.
    """
    return Invoice(
        id=invoice_id,
        organization_id=organization_id,
        customer_id=customer_id,
        invoice_type=invoice_type,
        status=INVOICE_DRAFT,
        payment_status=totals.payment_status.value,
        currency=totals.currency.code,
        issuing_date=issuing_date,
        payment_due_date=issuing_date + timedelta(days=net_payment_term),
        net_payment_term=net_payment_term,
        fees_amount_cents=totals.fees_amount_cents,
        coupons_amount_cents=totals.coupons_amount_cents,
        progressive_billing_credit_amount_cents=totals.progressive_billing_credit_amount_cents,
        sub_total_excluding_taxes_amount_cents=totals.sub_total_excluding_taxes_amount_cents,
        taxes_amount_cents=totals.taxes_amount_cents,
        sub_total_including_taxes_amount_cents=totals.sub_total_including_taxes_amount_cents,
        credit_notes_amount_cents=totals.credit_notes_amount_cents,
        prepaid_credit_amount_cents=totals.prepaid_credit_amount_cents,
        prepaid_granted_credit_amount_cents=totals.prepaid_granted_credit_amount_cents,
        prepaid_purchased_credit_amount_cents=totals.prepaid_purchased_credit_amount_cents,
        total_amount_cents=totals.total_amount_cents,
        taxes_rate=totals.taxes_rate,
        created_at=now,
        updated_at=now,
    )


def fee_amounts(b: FeeBreakdown, line: FeeLine, currency: Currency) -> dict[str, Any]:
    """The amount and tax columns of a fee row (keyword arguments of `Fee`), from its domain
    breakdown: every kind of invoice stores a fee's amounts the same way, so they are read from
    the breakdown in one place."""
    names = {t.code: t for t in line.taxes}
    return {
        "amount_cents": line.amount_cents,
        "amount_currency": currency.code,
        "progressive_billing_credit_amount_cents": b.progressive_billing_credit_amount_cents,
        "coupons_amount_cents": b.coupons_amount_cents,
        "sub_total_excluding_taxes_amount_cents": b.sub_total_excluding_taxes_amount_cents,
        "taxes_amount_cents": b.taxes_amount_cents,
        # Exact tax of this fee's base in major units (the cents above are its share of the
        # invoice tax, rounded once per rate).
        "taxes_precise_amount": minor_to_major(1, currency)
        * Decimal(b.sub_total_excluding_taxes_amount_cents)
        * b.taxes_rate
        / Decimal(100),
        "taxes_rate": b.taxes_rate,
        "total_amount_cents": b.sub_total_including_taxes_amount_cents,
        "applied_taxes": [
            {
                "tax_code": code,
                "tax_name": names[code].name,
                "tax_rate": names[code].rate,
                "amount_cents": cents,
            }
            for code, cents in b.taxes.items()
        ],
    }


def applied_tax_rows(
    organization_id: UUID,
    invoice_id: UUID,
    totals: InvoiceTotals,
    taxes: dict[str, Tax],
    now: datetime,
) -> tuple[AppliedTax, ...]:
    """The invoice's applied-tax rows, one per tax of `totals`, linked to the tax record when it
    still exists: shared by every kind of invoice so they store taxes alike."""
    return tuple(
        AppliedTax(
            id=time_ordered_id(),
            organization_id=organization_id,
            invoice_id=invoice_id,
            position=position,
            tax_code=t.tax_code,
            tax_name=t.tax_name,
            tax_rate=t.tax_rate,
            amount_cents=t.amount_cents,
            base_amount_cents=t.base_amount_cents,
            created_at=now,
            tax_id=taxes[t.tax_code].id if t.tax_code in taxes else None,
        )
        for position, t in enumerate(totals.applied_taxes)
    )
