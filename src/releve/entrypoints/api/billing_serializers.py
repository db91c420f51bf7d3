"""Invoices and fees → Lago's JSON (field names as Lago's v1 API and lago-python-client).

Our additions are additive: `explanation` on every fee (the sentence behind its amount),
`taxes_rate` on the invoice. Precise amounts and units are decimal strings; `taxes_rate` and
`tax_rate` stay JSON numbers as in Lago. A draft has no number yet: it shows `<PREFIX>-DRAFT`.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from releve.adapters.currency_catalog import currency
from releve.domain.charge_models.values import plain
from releve.domain.money import minor_to_major
from releve.entrypoints.api import coupon_serializers, credit_note_serializers
from releve.entrypoints.api.serializers import customer, iso
from releve.services.billing_invoice import number_prefix
from releve.services.billing_queries import BilledSubscription, FeeView, InvoiceView
from releve.services.billing_records import PAYMENT_SUCCEEDED, Fee


def _text(value: Decimal | None) -> str | None:
    return None if value is None else plain(value)


def _subscription(billed: BilledSubscription, view: InvoiceView) -> dict[str, Any]:
    s = billed.subscription
    return {
        "lago_id": str(s.id),
        "external_id": s.external_id,
        "lago_customer_id": str(s.customer_id),
        "external_customer_id": view.customer.external_id,
        "name": s.name,
        "plan_code": billed.plan_code,
        "status": s.status,
        "billing_time": s.billing_time,
        "subscription_at": iso(s.subscription_at),
        "started_at": iso(s.started_at),
        "terminated_at": iso(s.terminated_at),
        "canceled_at": iso(s.canceled_at),
        "ending_at": iso(s.ending_at),
        "trial_ended_at": iso(s.trial_ended_at),
        "created_at": iso(s.created_at),
        "on_termination_credit_note": s.on_termination_credit_note,
        "on_termination_invoice": s.on_termination_invoice,
    }


def _billing_period(billed: BilledSubscription) -> dict[str, Any]:
    link = billed.link
    fee_from = link.from_datetime or link.charges_from_datetime or link.boundary
    fee_to = link.to_datetime or link.charges_to_datetime or link.boundary
    return {
        "lago_subscription_id": str(link.subscription_id),
        "external_subscription_id": billed.subscription.external_id,
        "lago_plan_id": str(billed.subscription.plan_id),
        "subscription_from_datetime": iso(fee_from),
        "subscription_to_datetime": iso(fee_to),
        "charges_from_datetime": iso(link.charges_from_datetime or fee_from),
        "charges_to_datetime": iso(link.charges_to_datetime or fee_to),
        "invoicing_reason": link.invoicing_reason,
    }


def fee(f: Fee, view: InvoiceView, true_up_fee_id: str | None = None) -> dict[str, Any]:
    paid = f.payment_status == PAYMENT_SUCCEEDED
    total = f.total_amount_cents
    return {
        "lago_id": str(f.id),
        "lago_charge_id": None if f.charge_id is None else str(f.charge_id),
        "lago_charge_filter_id": None if f.charge_filter_id is None else str(f.charge_filter_id),
        "lago_fixed_charge_id": None,
        "lago_invoice_id": str(f.invoice_id),
        "lago_true_up_fee_id": true_up_fee_id,
        "lago_true_up_parent_fee_id": None
        if f.true_up_parent_fee_id is None
        else str(f.true_up_parent_fee_id),
        "lago_original_fee_id": None,
        "lago_subscription_id": None if f.subscription_id is None else str(f.subscription_id),
        "external_subscription_id": view.external_subscription_id(f),
        "lago_customer_id": str(view.customer.id),
        "external_customer_id": view.customer.external_id,
        "amount_cents": f.amount_cents,
        "amount_currency": f.amount_currency,
        "precise_amount": _text(f.precise_amount),
        "precise_total_amount": plain(minor_to_major(total, currency(f.amount_currency))),
        "taxes_amount_cents": f.taxes_amount_cents,
        "taxes_precise_amount": _text(f.taxes_precise_amount),
        "taxes_rate": f.taxes_rate,
        "sub_total_excluding_taxes_amount_cents": f.sub_total_excluding_taxes_amount_cents,
        "sub_total_excluding_taxes_precise_amount_cents": str(
            f.sub_total_excluding_taxes_amount_cents
        ),
        "precise_coupons_amount_cents": str(f.coupons_amount_cents),
        "total_amount_cents": total,
        "total_amount_currency": f.amount_currency,
        "units": plain(f.units),
        "total_aggregated_units": plain(f.total_aggregated_units),
        "precise_unit_amount": _text(f.precise_unit_amount),
        "events_count": f.events_count,
        "pay_in_advance": f.pay_in_advance,
        "invoiceable": True,
        "self_billed": False,
        "from_date": iso(f.from_datetime),
        "to_date": iso(f.to_datetime),
        "payment_status": f.payment_status,
        "created_at": iso(f.created_at),
        "succeeded_at": iso(view.invoice.updated_at) if paid else None,
        "failed_at": None,
        "refunded_at": None,
        "event_transaction_id": None,
        "description": view.add_on_fees[f.id].description if f.id in view.add_on_fees else None,
        "amount_details": f.amount_details,
        "pricing_unit_details": None,
        "presentation_breakdowns": [],
        "item": {
            "type": f.fee_type,
            "code": f.item_code,
            "name": f.item_name,
            "invoice_display_name": f.invoice_display_name or f.item_name,
            "filter_invoice_display_name": f.filter_invoice_display_name,
            "filters": f.filter_values,
            "lago_item_id": f.item_id,
            "item_type": f.item_type,
            "grouped_by": f.grouped_by,
        },
        "applied_taxes": [
            {
                "lago_id": None,
                "lago_fee_id": str(f.id),
                "lago_tax_id": None,
                "tax_name": t["tax_name"],
                "tax_code": t["tax_code"],
                "tax_rate": t["tax_rate"],
                "tax_description": None,
                "amount_cents": t["amount_cents"],
                "amount_currency": f.amount_currency,
                "created_at": iso(f.created_at),
            }
            for t in f.applied_taxes
        ],
        # Our addition: why this amount (units, price, tiers, proration).
        "explanation": f.explanation,
    }


def invoice(view: InvoiceView) -> dict[str, Any]:
    i = view.invoice
    paid = i.payment_status == PAYMENT_SUCCEEDED
    number = i.number or f"{number_prefix(view.organization)}-DRAFT"
    true_ups = {f.true_up_parent_fee_id: str(f.id) for f in view.fees if f.true_up_parent_fee_id}
    return {
        "lago_id": str(i.id),
        "billing_entity_code": None,
        "sequential_id": i.sequential_id,
        "number": number,
        "issuing_date": i.issuing_date.isoformat(),
        "payment_dispute_lost_at": None,
        "payment_due_date": i.payment_due_date.isoformat(),
        "payment_overdue": view.payment_overdue,
        "net_payment_term": i.net_payment_term,
        "invoice_type": i.invoice_type,
        "status": i.status,
        "payment_status": i.payment_status,
        "currency": i.currency,
        "fees_amount_cents": i.fees_amount_cents,
        "coupons_amount_cents": i.coupons_amount_cents,
        "credit_notes_amount_cents": i.credit_notes_amount_cents,
        "sub_total_excluding_taxes_amount_cents": i.sub_total_excluding_taxes_amount_cents,
        "taxes_amount_cents": i.taxes_amount_cents,
        "sub_total_including_taxes_amount_cents": i.sub_total_including_taxes_amount_cents,
        "prepaid_credit_amount_cents": i.prepaid_credit_amount_cents,
        "prepaid_granted_credit_amount_cents": i.prepaid_granted_credit_amount_cents,
        "prepaid_purchased_credit_amount_cents": i.prepaid_purchased_credit_amount_cents,
        "progressive_billing_credit_amount_cents": i.progressive_billing_credit_amount_cents,
        "total_amount_cents": i.total_amount_cents,
        "total_due_amount_cents": 0 if paid else i.total_amount_cents,
        "total_paid_amount_cents": i.total_amount_cents if paid else 0,
        "total_offsetted_credit_note_amount_cents": 0,
        "version_number": i.version_number,
        "self_billed": False,
        "voided_at": iso(i.voided_at),
        "file_url": None,
        "xml_url": None,
        "web_url": None,
        "created_at": iso(i.created_at),
        "updated_at": iso(i.updated_at),
        "finalized_at": iso(i.finalized_at),
        "purchase_order_number": None,
        "customer": customer(view.customer, view.organization),
        "metadata": [
            {"lago_id": m.get("id"), "key": m["key"], "value": m.get("value")} for m in i.metadata
        ],
        "applied_taxes": [
            {
                "lago_id": str(t.id),
                "lago_invoice_id": str(i.id),
                "lago_tax_id": None if t.tax_id is None else str(t.tax_id),
                "tax_name": t.tax_name,
                "tax_code": t.tax_code,
                "tax_rate": t.tax_rate,
                "tax_description": None,
                "amount_cents": t.amount_cents,
                "amount_currency": i.currency,
                "fees_amount_cents": t.base_amount_cents,
                "created_at": iso(t.created_at),
            }
            for t in view.applied_taxes
        ],
        "applied_usage_thresholds": [],
        "applied_invoice_custom_sections": [],
        "billing_periods": [_billing_period(b) for b in view.subscriptions],
        "credits": coupon_serializers.invoice_credits(view)
        + credit_note_serializers.invoice_credits(view),
        "fees": [fee(f, view, true_ups.get(f.id)) for f in view.fees],
        "subscriptions": [_subscription(b, view) for b in view.subscriptions],
        "error_details": [],
        # Our addition: the effective tax rate of the invoice (percent, 5 decimals).
        "taxes_rate": i.taxes_rate,
    }


def fee_view(view: FeeView) -> dict[str, Any]:
    true_up = view.true_up_fee_id
    return fee(view.fee, view.invoice, None if true_up is None else str(true_up))
