"""Plans back to Lago JSON (`GET /plans/{code}`), so the API echoes exactly what was sent.

Typed properties are what pricing reads; the operator's raw `properties` JSON is echoed when
the charge was parsed from JSON ("0.050" stays "0.050"), else the typed fields are written with
decimals as plain strings.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from releve.domain.charge_models.properties import Properties
from releve.domain.charge_models.values import plain
from releve.domain.periods import Interval
from releve.domain.plans.model import Charge, Plan


def _jsonable(value: object) -> object:
    if isinstance(value, Decimal):
        return plain(value)
    if isinstance(value, tuple | list):
        return [_jsonable(v) for v in value]
    if isinstance(value, Mapping):
        return {str(k): _jsonable(v) for k, v in value.items()}
    return value


def _properties_json(properties: Properties, raw: Mapping[str, Any]) -> object:
    """The properties as sent, or (for a charge built in code) its typed fields."""
    if raw:
        return copy.deepcopy(dict(raw))
    fields: dict[str, object] = {}
    for name in type(properties).__dataclass_fields__:
        value = getattr(properties, name)
        if name == "ranges":
            name = {
                "GraduatedProperties": "graduated_ranges",
                "VolumeProperties": "volume_ranges",
                "GraduatedPercentageProperties": "graduated_percentage_ranges",
            }[type(properties).__name__]
            value = [{k: getattr(r, k) for k in type(r).__dataclass_fields__} for r in value]
        fields[name] = _jsonable(value)
    return fields


def charge_to_lago(charge: Charge) -> dict[str, object]:
    """Lago's charge object (ids as `lago_id`; the API adds `created_at` and `taxes`)."""
    return {
        "lago_id": charge.id,
        "lago_billable_metric_id": charge.billable_metric_id,
        "billable_metric_code": charge.metric.code,
        "lago_parent_id": charge.parent_id,
        "code": charge.code,
        "charge_model": charge.charge_model.value,
        "pay_in_advance": charge.pay_in_advance,
        "invoiceable": charge.invoiceable,
        "prorated": charge.prorated,
        "min_amount_cents": charge.min_amount_cents,
        "invoice_display_name": charge.invoice_display_name,
        "properties": _properties_json(charge.properties, charge.properties_json),
        "filters": [
            {
                "invoice_display_name": f.invoice_display_name,
                "properties": _properties_json(f.properties, f.properties_json),
                "values": {k: list(v) for k, v in f.values.items()},
            }
            for f in charge.filters
        ],
        "tax_codes": list(charge.tax_codes),
    }


def plan_to_lago(plan: Plan) -> dict[str, object]:
    """Lago's plan object as JSON-ready values (the API adds `created_at`, `taxes` objects)."""
    commitment = plan.minimum_commitment
    return {
        "lago_id": plan.id,
        "lago_parent_id": plan.parent_id,
        "name": plan.name,
        "code": plan.code,
        "interval": plan.interval.value,
        "description": plan.description,
        "invoice_display_name": plan.invoice_display_name,
        "amount_cents": plan.amount_cents,
        "amount_currency": plan.currency.code,
        "pay_in_advance": plan.pay_in_advance,
        "trial_period": plan.trial_period_days,
        "bill_charges_monthly": plan.bill_charges_monthly
        if plan.interval in (Interval.YEARLY, Interval.SEMIANNUAL)
        else None,
        "tax_codes": list(plan.tax_codes),
        "minimum_commitment": None
        if commitment is None
        else {
            "amount_cents": commitment.amount_cents,
            "invoice_display_name": commitment.invoice_display_name,
            "tax_codes": list(commitment.tax_codes),
            "interval": plan.interval.value,
        },
        "usage_thresholds": [
            {
                "amount_cents": t.amount_cents,
                "recurring": t.recurring,
                "threshold_display_name": t.threshold_display_name,
            }
            for t in plan.usage_thresholds
        ],
        "charges": [charge_to_lago(c) for c in plan.charges],
    }
