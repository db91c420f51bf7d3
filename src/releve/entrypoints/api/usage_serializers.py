"""Usage → Lago-shaped JSON: `current_usage`, `projected_usage`, `past_usage` (charges,
filters and groups with their units, amounts and our `explanation`)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from releve.domain.billing.charge_fees import ChargeFee
from releve.domain.charge_models.values import plain
from releve.entrypoints.api.serializers import iso
from releve.services.projection import ProjectedCharge, ProjectedUsage
from releve.services.usage import ChargeUsage, CustomerUsage, PastChargeUsage, PastUsagePeriod


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
