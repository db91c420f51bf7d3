"""Coupons, applied coupons, coupon credits and add-ons → Lago's JSON (lago-python-client's
`CouponResponse`, `AppliedCouponResponse`, `CreditResponse`, `AddOnResponse`). Rates are JSON
numbers as in Lago; amounts integer minor units."""

from __future__ import annotations

from typing import Any

from releve.entrypoints.api.serializers import iso, tax
from releve.services.billing_queries import InvoiceView
from releve.services.coupon_records import AddOn, CouponCredit, CouponRecord
from releve.services.coupons import AppliedCouponView
from releve.services.records import Tax


def coupon(c: CouponRecord) -> dict[str, Any]:
    return {
        "lago_id": str(c.id),
        "name": c.name,
        "code": c.code,
        "description": c.description,
        "coupon_type": c.coupon_type,
        "amount_cents": c.amount_cents,
        "amount_currency": c.amount_currency,
        "percentage_rate": c.percentage_rate,
        "frequency": c.frequency,
        "frequency_duration": c.frequency_duration,
        "reusable": c.reusable,
        "limited_plans": bool(c.plan_codes),
        "plan_codes": list(c.plan_codes),
        "limited_billable_metrics": bool(c.billable_metric_codes),
        "billable_metric_codes": list(c.billable_metric_codes),
        "expiration": c.expiration,
        "expiration_at": iso(c.expiration_at),
        "terminated_at": iso(c.terminated_at),
        "created_at": iso(c.created_at),
    }


def credit(c: CouponCredit, payment_status: str | None = None) -> dict[str, Any]:
    """One coupon credit (Lago `credits[]` item): pre-tax, itemized by applied coupon."""
    return {
        "lago_id": str(c.id),
        "amount_cents": c.amount_cents,
        "amount_currency": c.amount_currency,
        "before_taxes": True,
        "item": {
            "lago_item_id": str(c.applied_coupon_id),
            "type": "coupon",
            "code": c.coupon_code,
            "name": c.coupon_name,
        },
        "invoice": {"lago_id": str(c.invoice_id), "payment_status": payment_status},
    }


def invoice_credits(view: InvoiceView) -> list[dict[str, Any]]:
    return [credit(c, view.invoice.payment_status) for c in view.credits]


def applied_coupon(view: AppliedCouponView) -> dict[str, Any]:
    a, c = view.applied, view.coupon
    return {
        "lago_id": str(a.id),
        "lago_coupon_id": str(c.id),
        "coupon_code": c.code,
        "coupon_name": c.name,
        "lago_customer_id": str(view.customer.id),
        "external_customer_id": view.customer.external_id,
        "status": a.status,
        "amount_cents": a.amount_cents,
        "amount_cents_remaining": a.amount_cents_remaining,
        "amount_currency": a.amount_currency,
        "percentage_rate": a.percentage_rate,
        "frequency": a.frequency,
        "frequency_duration": a.frequency_duration,
        "frequency_duration_remaining": a.frequency_duration_remaining,
        "expiration_at": iso(c.expiration_at),
        "created_at": iso(a.created_at),
        "terminated_at": iso(a.terminated_at),
        "credits": [credit(cr) for cr in view.credits],
    }


def add_on(a: AddOn, taxes: list[Tax]) -> dict[str, Any]:
    return {
        "lago_id": str(a.id),
        "name": a.name,
        "invoice_display_name": a.invoice_display_name,
        "code": a.code,
        "amount_cents": a.amount_cents,
        "amount_currency": a.amount_currency,
        "description": a.description,
        "created_at": iso(a.created_at),
        "taxes": [tax(t) for t in taxes],
    }
