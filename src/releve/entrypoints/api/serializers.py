"""Records → Lago-shaped JSON (field names exactly as Lago's v1 API and its Python client).

Our additions are additive (`status`, `unmatched_reason` on events; `percentile`,
`footprint_per_unit`, `footprint_unit` on metrics). Decimals we introduce are strings; Lago's own
numeric fields (tax `rate`) stay JSON numbers, written from the Decimal's exact text.
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from releve.domain.plans import plan_to_lago
from releve.services.records import (
    BillableMetric,
    Customer,
    Organization,
    StoredEvent,
    StoredPlan,
    Tax,
)
from releve.services.subscriptions import SubscriptionView


def iso(value: datetime | None) -> str | None:
    """UTC ISO 8601 with a `Z`; sub-second digits only when present."""
    if value is None:
        return None
    utc = value if value.tzinfo is UTC else value.astimezone(UTC)
    # isoformat writes the sub-second digits only when present, like the Lago form, and is
    # several times faster than strftime (a batch response writes 200 of them).
    return utc.isoformat()[:-6] + "Z"  # "+00:00" → "Z"


def _text(value: Decimal | None) -> str | None:
    return None if value is None else str(value)


def customer(c: Customer, organization: Organization) -> dict[str, Any]:
    return {
        "lago_id": str(c.id),
        "sequential_id": c.sequential_id,
        "slug": f"{organization.name[:3].upper()}-{c.sequential_id:04d}",
        "external_id": c.external_id,
        "account_type": "customer",
        "name": c.name,
        "firstname": c.firstname,
        "lastname": c.lastname,
        "customer_type": c.customer_type,
        "email": c.email,
        "phone": c.phone,
        "url": c.url,
        "logo_url": c.logo_url,
        "currency": c.currency,
        "timezone": c.timezone,
        "applicable_timezone": c.timezone or organization.timezone,
        "country": c.country,
        "address_line1": c.address_line1,
        "address_line2": c.address_line2,
        "city": c.city,
        "state": c.state,
        "zipcode": c.zipcode,
        "legal_name": c.legal_name,
        "legal_number": c.legal_number,
        "tax_identification_number": c.tax_identification_number,
        "net_payment_term": c.net_payment_term,
        "finalize_zero_amount_invoice": c.finalize_zero_amount_invoice,
        "created_at": iso(c.created_at),
        "updated_at": iso(c.updated_at),
        "billing_configuration": {
            "invoice_grace_period": c.invoice_grace_period,
            "payment_provider": None,
            "payment_provider_code": None,
            "provider_customer_id": None,
            "sync": None,
            "sync_with_provider": None,
            "document_locale": None,
            "provider_payment_methods": None,
        },
        "shipping_address": {
            "address_line1": None,
            "address_line2": None,
            "city": None,
            "zipcode": None,
            "state": None,
            "country": None,
        },
        "metadata": [
            {
                "lago_id": m["id"],
                "key": m["key"],
                "value": m["value"],
                "display_in_invoice": m["display_in_invoice"],
                "created_at": iso(c.created_at),
            }
            for m in c.metadata
        ],
        "taxes": [],
        "integration_customers": [],
        "skip_invoice_custom_sections": False,
        "applicable_invoice_custom_sections": [],
        "billing_entity_code": None,
    }


def tax(t: Tax) -> dict[str, Any]:
    return {
        "lago_id": str(t.id),
        "name": t.name,
        "code": t.code,
        "rate": t.rate,
        "description": t.description,
        "applied_to_organization": t.applied_to_organization,
        "applied_to_billing_entities_codes": [],
        "add_ons_count": 0,
        "customers_count": 0,
        "plans_count": 0,
        "charges_count": 0,
        "created_at": iso(t.created_at),
    }


def billable_metric(m: BillableMetric) -> dict[str, Any]:
    return {
        "lago_id": str(m.id),
        "name": m.name,
        "code": m.code,
        "description": m.description,
        "aggregation_type": m.aggregation_type,
        "weighted_interval": m.weighted_interval,
        "recurring": m.recurring,
        "rounding_function": m.rounding_function,
        "rounding_precision": m.rounding_precision,
        "created_at": iso(m.created_at),
        "field_name": m.field_name,
        "expression": m.expression,
        "filters": [{"key": f["key"], "values": f["values"]} for f in m.filters],
        "active_subscriptions_count": 0,
        "draft_invoices_count": 0,
        "plans_count": 0,
        "percentile": _text(m.percentile),
        "footprint_per_unit": _text(m.footprint_per_unit),
        "footprint_unit": m.footprint_unit,
    }


def event(e: StoredEvent) -> dict[str, Any]:
    return {
        "lago_id": str(e.id),
        "transaction_id": e.transaction_id,
        "lago_customer_id": None,
        "code": e.code,
        "timestamp": iso(e.timestamp),
        "precise_total_amount_cents": _text(e.precise_total_amount_cents),
        "properties": e.properties,
        "lago_subscription_id": None if e.subscription_id is None else str(e.subscription_id),
        "external_subscription_id": e.external_subscription_id,
        "created_at": iso(e.created_at),
        "status": e.status,
        "unmatched_reason": e.unmatched_reason,
    }


def plan(stored: StoredPlan) -> dict[str, Any]:
    """Lago's plan object (domain echo + created_at, taxes); charges echo their properties."""
    body = plan_to_lago(stored.plan)
    created = iso(stored.created_at)
    charges = body["charges"]
    assert isinstance(charges, list)
    for charge in charges:
        charge.update(
            {
                "created_at": created,
                "regroup_paid_fees": None,
                "accepts_target_wallet": False,
                "taxes": [],
            }
        )
    body.update(
        {
            "created_at": created,
            "bill_fixed_charges_monthly": None,
            "fixed_charges": [],
            "taxes": [],
            "metadata": {},
            "active_subscriptions_count": 0,
            "draft_invoices_count": 0,
            "public": stored.public,  # Relevé extension (portal plan comparison)
        }
    )
    return body


def subscription(view: SubscriptionView) -> dict[str, Any]:
    s, p = view.subscription, view.plan.plan
    period = view.current_period
    return {
        "lago_id": str(s.id),
        "external_id": s.external_id,
        "lago_customer_id": str(view.customer.id),
        "external_customer_id": view.customer.external_id,
        "billing_time": s.billing_time,
        "name": s.name,
        "plan_code": p.code,
        "plan_amount_cents": p.amount_cents,
        "plan_amount_currency": p.currency.code,
        "status": s.status,
        "created_at": iso(s.created_at),
        "canceled_at": iso(s.canceled_at),
        "started_at": iso(s.started_at),
        "ending_at": iso(s.ending_at),
        "subscription_at": iso(s.subscription_at),
        "terminated_at": iso(s.terminated_at),
        "trial_ended_at": iso(s.trial_ended_at),
        "previous_plan_code": view.previous_plan_code,
        "next_plan_code": view.next_plan_code,
        "downgrade_plan_date": None
        if s.downgrade_plan_date is None
        else s.downgrade_plan_date.isoformat(),
        # Half-open [start, end): the end is the first instant of the next period.
        "current_billing_period_started_at": None if period is None else iso(period.start),
        "current_billing_period_ending_at": None if period is None else iso(period.end),
        "on_termination_credit_note": s.on_termination_credit_note,
        "on_termination_invoice": s.on_termination_invoice,
        "consolidate_invoice": True,
        "cancellation_reason": None,
        "activated_at": iso(s.started_at),
        "activation_rules": [],
        "plan": plan(view.plan),
        "applicable_usage_thresholds": [],
    }
