"""Records → Lago-shaped JSON (field names exactly as Lago's v1 API and its Python client).

Our additions are additive (`status`, `unmatched_reason` on events; `percentile`,
`footprint_per_unit`, `footprint_unit` on metrics). Decimals we introduce are strings; Lago's own
numeric fields (tax `rate`) stay JSON numbers, written from the Decimal's exact text.
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from releve.domain.billing.charge_fees import ChargeFee
from releve.domain.charge_models.values import plain
from releve.domain.plans import plan_to_lago
from releve.services.projection import ProjectedCharge, ProjectedUsage
from releve.services.records import (
    BillableMetric,
    Customer,
    Organization,
    StoredEvent,
    StoredPlan,
    Tax,
)
from releve.services.subscriptions import SubscriptionView
from releve.services.usage import ChargeUsage, CustomerUsage, PastChargeUsage, PastUsagePeriod


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


def _units(value: Decimal) -> str:
    return plain(value)


def _fee_usage(fee: ChargeFee) -> dict[str, Any]:
    return {
        "units": _units(fee.units),
        "total_aggregated_units": _units(fee.units),
        "events_count": fee.events_count,
        "amount_cents": fee.amount_cents,
        "pricing_unit_details": None,
        "presentation_breakdowns": [],
        # Our additions: how this bucket's amount was computed.
        "precise_amount": plain(fee.precise_amount),
        "amount_details": fee.amount_details,
        "explanation": fee.explanation,
    }


def _filter_usage(fee: ChargeFee, usage: ChargeUsage) -> dict[str, Any]:
    index = None if fee.bucket is None else fee.bucket.filter_index
    name = None if index is None else usage.charge.filters[index].invoice_display_name
    return {
        "invoice_display_name": name,
        "values": None
        if fee.filter_values is None
        else {k: list(v) for k, v in fee.filter_values.items()},
        **_fee_usage(fee),
    }


def charge_usage(usage: ChargeUsage, currency: str) -> dict[str, Any]:
    charge = usage.charge
    metric = charge.metric
    filters = [_filter_usage(f, usage) for f in usage.fees] if charge.filters else []
    grouped: list[dict[str, Any]] = []
    if charge.pricing_group_keys:
        groups: dict[tuple[str | None, ...], list[ChargeFee]] = {}
        for fee in usage.fees:
            groups.setdefault(tuple(fee.grouped_by.values()), []).append(fee)
        for fees in groups.values():
            units = sum((f.units for f in fees), Decimal(0))
            grouped.append(
                {
                    "amount_cents": sum(f.amount_cents for f in fees),
                    "events_count": sum(f.events_count for f in fees),
                    "units": _units(units),
                    "total_aggregated_units": _units(units),
                    "grouped_by": dict(fees[0].grouped_by),
                    "filters": [_filter_usage(f, usage) for f in fees] if charge.filters else [],
                    "pricing_unit_details": None,
                    "presentation_breakdowns": [],
                    "explanation": "; ".join(f.explanation for f in fees),
                }
            )
    single = usage.fees[0] if len(usage.fees) == 1 else None
    return {
        "units": _units(usage.units),
        "total_aggregated_units": _units(usage.units),
        "events_count": usage.events_count,
        "amount_cents": usage.amount_cents,
        "amount_currency": currency,
        "pricing_unit_details": None,
        "charge": {
            "lago_id": charge.id,
            "charge_model": charge.charge_model.value,
            "invoice_display_name": charge.invoice_display_name,
        },
        "billable_metric": {
            "lago_id": charge.billable_metric_id,
            "name": metric.name,
            "code": metric.code,
            "aggregation_type": metric.aggregation_type.value,
        },
        "filters": filters,
        "grouped_usage": grouped,
        "presentation_breakdowns": [],
        # Our additions: per-model details (one bucket) and the sentence for every bucket.
        "amount_details": single.amount_details if single is not None else {},
        "explanation": "; ".join(f.explanation for f in usage.fees),
    }


def customer_usage(usage: CustomerUsage) -> dict[str, Any]:
    code = usage.currency.code
    return {
        "from_datetime": iso(usage.period.start),
        "to_datetime": iso(usage.period.end),
        "issuing_date": usage.issuing_date.isoformat(),
        "lago_invoice_id": None,
        "currency": code,
        "amount_cents": usage.amount_cents,
        "taxes_amount_cents": usage.taxes_amount_cents,
        "total_amount_cents": usage.total_amount_cents,
        "charges_usage": [charge_usage(c, code) for c in usage.charges],
    }


def _projected(fees: list[ChargeFee]) -> dict[str, Any]:
    units = sum((f.units for f in fees), Decimal(0))
    return {
        "projected_units": _units(units),
        "projected_amount_cents": sum(f.amount_cents for f in fees),
    }


def projected_charge_usage(projected: ProjectedCharge, currency: str) -> dict[str, Any]:
    """`charge_usage` plus `projected_units` / `projected_amount_cents` at every level (charge,
    filter, group), matched to the usage so far by pricing bucket."""
    usage = projected.usage
    by_bucket = {f.bucket: f for f in projected.fees}

    def matching(fees: list[ChargeFee]) -> list[ChargeFee]:
        return [by_bucket[f.bucket] for f in fees if f.bucket in by_bucket]

    body = charge_usage(usage, currency)
    body.update(_projected(list(projected.fees)))
    if usage.charge.filters:
        for row, fee in zip(body["filters"], usage.fees, strict=True):
            row.update(_projected(matching([fee])))
    if usage.charge.pricing_group_keys:
        groups: dict[tuple[str | None, ...], list[ChargeFee]] = {}
        for fee in usage.fees:
            groups.setdefault(tuple(fee.grouped_by.values()), []).append(fee)
        for row, fees in zip(body["grouped_usage"], groups.values(), strict=True):
            row.update(_projected(matching(fees)))
            if usage.charge.filters:
                for filter_row, fee in zip(row["filters"], fees, strict=True):
                    filter_row.update(_projected(matching([fee])))
    return body


def customer_projected_usage(projected: ProjectedUsage) -> dict[str, Any]:
    code = projected.usage.currency.code
    body = customer_usage(projected.usage)
    body["invoice_id"] = None
    body["projected_amount_cents"] = projected.amount_cents
    body["charges_usage"] = [projected_charge_usage(c, code) for c in projected.charges]
    return body


def _past_charge_usage(usage: PastChargeUsage, currency: str) -> dict[str, Any]:
    charge = usage.charge
    first = usage.fees[0]
    filters: list[dict[str, Any]] = [
        {
            "invoice_display_name": f.filter_invoice_display_name,
            "values": f.filter_values,
            "units": _units(f.units),
            "total_aggregated_units": _units(f.total_aggregated_units),
            "events_count": f.events_count,
            "amount_cents": f.amount_cents,
            "pricing_unit_details": None,
            "presentation_breakdowns": [],
        }
        for f in usage.fees
        if f.filter_values is not None
    ]
    return {
        "units": _units(usage.units),
        "total_aggregated_units": _units(
            sum((f.total_aggregated_units for f in usage.fees), Decimal(0))
        ),
        "events_count": usage.events_count,
        "amount_cents": usage.amount_cents,
        "amount_currency": currency,
        "pricing_unit_details": None,
        "charge": {
            "lago_id": None if usage.charge_id is None else str(usage.charge_id),
            "charge_model": charge.charge_model.value if charge is not None else None,
            "invoice_display_name": first.invoice_display_name,
        },
        "billable_metric": {
            "lago_id": charge.billable_metric_id if charge is not None else None,
            "name": charge.metric.name if charge is not None else first.item_name,
            "code": first.item_code,
            "aggregation_type": charge.metric.aggregation_type.value
            if charge is not None
            else None,
        },
        "filters": filters,
        "grouped_usage": [],
        "presentation_breakdowns": [],
        # Our addition: the invoiced fees these figures were read from (never recomputed).
        "lago_fee_ids": [str(f.id) for f in usage.fees],
    }


def past_usage_period(period: PastUsagePeriod) -> dict[str, Any]:
    invoice = period.invoice
    return {
        "from_datetime": iso(period.from_datetime),
        "to_datetime": iso(period.to_datetime),
        "issuing_date": invoice.issuing_date.isoformat(),
        "lago_invoice_id": str(invoice.id),
        "currency": invoice.currency,
        "amount_cents": period.amount_cents,
        "taxes_amount_cents": period.taxes_amount_cents,
        "total_amount_cents": period.total_amount_cents,
        "charges_usage": [_past_charge_usage(c, invoice.currency) for c in period.charges],
    }
