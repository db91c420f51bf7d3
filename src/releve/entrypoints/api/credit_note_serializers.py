"""Credit notes and estimates → Lago's JSON (field names as Lago's v1 API and lago-python-client).

Rates (`taxes_rate`, `tax_rate`) stay JSON numbers as in Lago; amounts are integer minor units.
"""

from __future__ import annotations

from typing import Any

from releve.entrypoints.api import billing_serializers
from releve.entrypoints.api.serializers import customer, iso
from releve.services.billing_queries import InvoiceView
from releve.services.credit_notes import CreditNoteEstimate, CreditNoteView


def credit_note(view: CreditNoteView) -> dict[str, Any]:
    n = view.note
    invoice = view.invoice
    return {
        "lago_id": str(n.id),
        "billing_entity_code": None,
        "sequential_id": n.sequential_id,
        "number": n.number,
        "lago_invoice_id": str(n.invoice_id),
        "invoice_number": invoice.invoice.number,
        "purchase_order_number": None,
        "issuing_date": n.issuing_date.isoformat(),
        "credit_status": n.credit_status,
        "refund_status": n.refund_status,
        "reason": n.reason,
        "description": n.description,
        "currency": n.currency,
        "total_amount_cents": n.total_amount_cents,
        "taxes_amount_cents": n.taxes_amount_cents,
        "taxes_rate": n.taxes_rate,
        "sub_total_excluding_taxes_amount_cents": n.sub_total_excluding_taxes_amount_cents,
        "balance_amount_cents": n.balance_amount_cents,
        "credit_amount_cents": n.credit_amount_cents,
        "refund_amount_cents": n.refund_amount_cents,
        "offset_amount_cents": n.offset_amount_cents,
        "coupons_adjustment_amount_cents": n.coupons_adjustment_amount_cents,
        "self_billed": False,
        "file_url": None,
        "xml_url": None,
        "created_at": iso(n.created_at),
        "updated_at": iso(n.updated_at),
        "voided_at": iso(n.voided_at),
        "customer": customer(invoice.customer, invoice.organization),
        "items": [
            {
                "lago_id": str(item.id),
                "amount_cents": item.amount_cents,
                "amount_currency": n.currency,
                "fee": billing_serializers.fee(f, invoice),
            }
            for item, f in view.items
        ],
        "applied_taxes": [
            {
                "lago_id": str(t.id),
                "lago_credit_note_id": str(n.id),
                "lago_tax_id": None if t.tax_id is None else str(t.tax_id),
                "tax_name": t.tax_name,
                "tax_code": t.tax_code,
                "tax_rate": t.tax_rate,
                "tax_description": None,
                "base_amount_cents": t.base_amount_cents,
                "amount_cents": t.amount_cents,
                "amount_currency": n.currency,
                "created_at": iso(t.created_at),
            }
            for t in view.applied_taxes
        ],
        "metadata": None,
    }


def invoice_credits(view: InvoiceView) -> list[dict[str, Any]]:
    """Lago's invoice `credits[]` items for the credit note balances it consumed (post-tax)."""
    return [
        {
            "lago_id": str(consumption.id),
            "amount_cents": consumption.amount_cents,
            "amount_currency": note.currency,
            "before_taxes": False,
            "item": {
                "lago_item_id": str(note.id),
                "type": "credit_note",
                "code": note.number,
                "name": note.number,
            },
            "invoice": {
                "lago_id": str(consumption.invoice_id),
                "payment_status": view.invoice.payment_status,
            },
        }
        for consumption, note in view.credit_note_credits
    ]


def estimated_credit_note(estimate: CreditNoteEstimate) -> dict[str, Any]:
    a = estimate.amounts
    i = estimate.invoice
    return {
        "lago_invoice_id": str(i.id),
        "invoice_number": i.number,
        "currency": i.currency,
        "taxes_amount_cents": a.taxes_amount_cents,
        "precise_taxes_amount_cents": str(a.taxes_amount_cents),
        "taxes_rate": a.taxes_rate,
        "sub_total_excluding_taxes_amount_cents": a.sub_total_excluding_taxes_amount_cents,
        "max_creditable_amount_cents": estimate.max_amount("creditable"),
        "max_refundable_amount_cents": estimate.max_amount("refundable"),
        "max_offsettable_amount_cents": estimate.max_amount("offsettable"),
        "coupons_adjustment_amount_cents": a.coupons_adjustment_amount_cents,
        "precise_coupons_adjustment_amount_cents": str(a.coupons_adjustment_amount_cents),
        "items": [
            {"amount_cents": line.amount_cents, "lago_fee_id": str(line.fee.id)} for line in a.lines
        ],
        "applied_taxes": [
            {
                "lago_tax_id": None,
                "tax_name": t.tax_name,
                "tax_code": t.tax_code,
                "tax_rate": t.tax_rate,
                "tax_description": None,
                "base_amount_cents": t.base_amount_cents,
                "amount_cents": t.amount_cents,
                "amount_currency": i.currency,
            }
            for t in a.taxes
        ],
    }
