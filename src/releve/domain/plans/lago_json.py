"""Plans from Lago JSON: `parse_plan` (POST /plans) and `apply_overrides` (plan_overrides).

Every error keeps its rule's code (see `releve.domain.plans.model`) and gets the JSON path of
the offending value as its field: `charges[1].properties.amount`,
`plan_overrides.charges[0].min_amount_cents`. Numbers of minor units and days accept JSON
integers, integral decimals and digit strings; prices go through `pricing.parse_properties`
(decimal strings or integers, never floats).
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Mapping
from dataclasses import replace
from decimal import Decimal
from typing import Any, TypeVar

from releve.domain.charge_models.properties import ChargeModel, parse_properties
from releve.domain.errors import DomainError
from releve.domain.metering import BillableMetric
from releve.domain.money import Currency
from releve.domain.periods import Interval
from releve.domain.plans.model import (
    Charge,
    ChargeFilterPrice,
    MetricNotFound,
    MinimumCommitment,
    Plan,
    UsageThreshold,
)
from releve.domain.plans.model import err as _err

JsonObject = Mapping[str, Any]


def _frozen_json(value: Mapping[str, Any] | None) -> Mapping[str, Any]:
    return copy.deepcopy(dict(value)) if value else {}


T = TypeVar("T")


def _prefixed(prefix: str, build: Callable[[], T]) -> T:
    """Run `build`, re-raising a `DomainError` with `prefix` before its field path."""
    try:
        return build()
    except DomainError as error:
        name = f"{prefix}{error.field}" if error.field else prefix.rstrip(".")
        raise type(error)(str(error), field=name, code=error.code) from error


def _text(payload: JsonObject, key: str, *, required: bool = False) -> str | None:
    value = payload.get(key)
    if value is None or value == "":
        if required:
            raise _err(f"{key} is mandatory", key, "value_is_mandatory")
        return None
    if not isinstance(value, str):
        raise _err(f"{key} must be a text", key)
    return value


def _flag(payload: JsonObject, key: str, default: bool) -> bool:
    value = payload.get(key)
    if value is None:
        return default
    if not isinstance(value, bool):
        raise _err(f"{key} must be true or false", key)
    return value


def _whole(value: object, key: str) -> int:
    """A whole number from an int, an integral Decimal/float or a digit string (5, "5", 5.0)."""
    if isinstance(value, bool):
        raise _err(f"{key} must be a whole number", key)
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)  # trial_period arrives as 5.0 from Lago clients; days are not money
    if isinstance(value, Decimal) and value.is_finite() and value == value.to_integral_value():
        return int(value)
    if isinstance(value, str) and value.strip().lstrip("-").isdigit():
        return int(value)
    raise _err(f"{key} must be a whole number", key)


def _codes(payload: JsonObject, key: str) -> tuple[str, ...]:
    value = payload.get(key)
    if value is None:
        return ()
    if not isinstance(value, list | tuple) or not all(isinstance(v, str) and v for v in value):
        raise _err(f"{key} must be a list of codes", key)
    return tuple(value)


def _object(value: object, key: str) -> JsonObject:
    if not isinstance(value, Mapping):
        raise _err(f"{key} must be an object", key, "invalid_type")
    return value


def _list(value: object, key: str) -> list[Any]:
    if value is None:
        return []
    if not isinstance(value, list | tuple):
        raise _err(f"{key} must be a list", key, "invalid_type")
    return list(value)


def _filter_values(raw: object) -> dict[str, tuple[str, ...]]:
    values = _object(raw, "values")
    parsed: dict[str, tuple[str, ...]] = {}
    for key, accepted in values.items():
        if not isinstance(accepted, list | tuple) or not all(isinstance(v, str) for v in accepted):
            raise _err(f"values.{key} must be a list of texts", f"values.{key}")
        parsed[str(key)] = tuple(accepted)
    return parsed


def _parse_filters(raw: object, model: ChargeModel) -> tuple[ChargeFilterPrice, ...]:
    parsed = []
    for i, item in enumerate(_list(raw, "filters")):

        def build(item: object = item) -> ChargeFilterPrice:
            entry = _object(item, "")
            props_json = _object(entry.get("properties") or {}, "properties")
            return ChargeFilterPrice(
                values=_filter_values(entry.get("values")),
                properties=parse_properties(model, props_json),
                invoice_display_name=_text(entry, "invoice_display_name"),
                properties_json=_frozen_json(props_json),
            )

        parsed.append(_prefixed(f"filters[{i}].", build))
    return tuple(parsed)


def _metric_of(
    payload: JsonObject,
    metrics_by_id: Mapping[str, BillableMetric],
    metrics_by_code: Mapping[str, BillableMetric],
) -> tuple[str | None, BillableMetric]:
    metric_id = payload.get("billable_metric_id")
    if metric_id is not None:
        if metric_id in metrics_by_id:
            return str(metric_id), metrics_by_id[metric_id]
        raise MetricNotFound(f"no billable metric {metric_id!r}", field="billable_metric_id")
    code = payload.get("billable_metric_code")
    if code is None:
        raise _err("billable_metric_id is mandatory", "billable_metric_id", "value_is_mandatory")
    if code in metrics_by_code:
        metric = metrics_by_code[code]
        found = next((i for i, m in metrics_by_id.items() if m.code == metric.code), None)
        return found, metric
    raise MetricNotFound(f"no billable metric with code {code!r}", field="billable_metric_code")


def _parse_charge(
    payload: JsonObject,
    metrics_by_id: Mapping[str, BillableMetric],
    metrics_by_code: Mapping[str, BillableMetric],
    new_id: Callable[[], str],
) -> Charge:
    metric_id, metric = _metric_of(payload, metrics_by_id, metrics_by_code)
    raw_model = payload.get("charge_model")
    if raw_model is None:
        raise _err("charge_model is mandatory", "charge_model", "value_is_mandatory")
    try:
        model = ChargeModel(raw_model)
    except ValueError:
        raise _err(f"unknown charge model {raw_model!r}", "charge_model") from None
    props_json = _object(payload.get("properties") or {}, "properties")
    pay_in_advance = _flag(payload, "pay_in_advance", False)
    raw_min = payload.get("min_amount_cents")
    return Charge(
        id=_text(payload, "id") or new_id(),
        code=_text(payload, "code"),
        metric=metric,
        charge_model=model,
        properties=parse_properties(model, props_json),
        filters=_parse_filters(payload.get("filters"), model),
        pay_in_advance=pay_in_advance,
        invoiceable=_flag(payload, "invoiceable", True),
        prorated=_flag(payload, "prorated", False),
        min_amount_cents=0 if raw_min is None else _whole(raw_min, "min_amount_cents"),
        invoice_display_name=_text(payload, "invoice_display_name"),
        tax_codes=_codes(payload, "tax_codes"),
        properties_json=_frozen_json(props_json),
        billable_metric_id=metric_id,
    )


def _commitment(raw: object, base: MinimumCommitment | None = None) -> MinimumCommitment | None:
    if raw is None:
        return base
    entry = _object(raw, "minimum_commitment")
    amount = entry.get("amount_cents", base.amount_cents if base else None)
    if amount is None:
        raise _err("amount_cents is mandatory", "amount_cents", "value_is_mandatory")
    return MinimumCommitment(
        amount_cents=_whole(amount, "amount_cents"),
        invoice_display_name=_text(entry, "invoice_display_name")
        if "invoice_display_name" in entry
        else (base.invoice_display_name if base else None),
        tax_codes=_codes(entry, "tax_codes")
        if "tax_codes" in entry
        else (base.tax_codes if base else ()),
    )


def _thresholds(raw: object) -> tuple[UsageThreshold, ...]:
    parsed = []
    for i, item in enumerate(_list(raw, "usage_thresholds")):

        def build(item: object = item) -> UsageThreshold:
            entry = _object(item, "")
            amount = entry.get("amount_cents")
            if amount is None:
                raise _err("amount_cents is mandatory", "amount_cents", "value_is_mandatory")
            return UsageThreshold(
                amount_cents=_whole(amount, "amount_cents"),
                recurring=_flag(entry, "recurring", False),
                threshold_display_name=_text(entry, "threshold_display_name"),
            )

        parsed.append(_prefixed(f"usage_thresholds[{i}].", build))
    return tuple(parsed)


def parse_plan(
    payload: JsonObject,
    *,
    metrics_by_id: Mapping[str, BillableMetric],
    metrics_by_code: Mapping[str, BillableMetric] | None = None,
    currency: Callable[[str], Currency],
    new_id: Callable[[], str],
) -> Plan:
    """A validated `Plan` from the fields of Lago's `plan` JSON object (already decoded).

    Charges name their metric by `billable_metric_id` (Lago) or `billable_metric_code` (our
    additive extension). `currency` resolves an ISO code (it raises the caller's error for an
    unknown one); `new_id` mints ids for the plan and for charges sent without `id`.
    Errors are `DomainError`s whose field is the JSON path (`charges[0].properties.amount`).
    """
    by_code = metrics_by_code if metrics_by_code is not None else {}
    name = _text(payload, "name", required=True)
    code = _text(payload, "code", required=True)
    raw_interval = _text(payload, "interval", required=True)
    raw_amount = payload.get("amount_cents")
    if raw_amount is None:
        raise _err("amount_cents is mandatory", "amount_cents", "value_is_mandatory")
    currency_code = _text(payload, "amount_currency", required=True)
    assert name is not None and code is not None and raw_interval is not None
    assert currency_code is not None
    charges = []
    for i, item in enumerate(_list(payload.get("charges"), "charges")):

        def build(item: object = item) -> Charge:
            return _parse_charge(_object(item, ""), metrics_by_id, by_code, new_id)

        charges.append(_prefixed(f"charges[{i}].", build))
    raw_trial = payload.get("trial_period")
    return Plan(
        id=new_id(),
        code=code,
        name=name,
        interval=Interval.parse(raw_interval),
        amount_cents=_whole(raw_amount, "amount_cents"),
        currency=_prefixed("amount_currency.", lambda: currency(currency_code)),
        pay_in_advance=_flag(payload, "pay_in_advance", False),
        trial_period_days=0 if raw_trial is None else _whole(raw_trial, "trial_period"),
        bill_charges_monthly=_flag(payload, "bill_charges_monthly", False),
        charges=tuple(charges),
        minimum_commitment=_prefixed(
            "minimum_commitment.", lambda: _commitment(payload.get("minimum_commitment"))
        ),
        usage_thresholds=_thresholds(payload.get("usage_thresholds")),
        tax_codes=_codes(payload, "tax_codes"),
        invoice_display_name=_text(payload, "invoice_display_name"),
        description=_text(payload, "description"),
    )


def _override_charge(charge: Charge, entry: JsonObject, new_id: Callable[[], str]) -> Charge:
    changes: dict[str, Any] = {"id": new_id(), "parent_id": charge.id}
    if "properties" in entry:
        props_json = _object(entry.get("properties") or {}, "properties")
        changes["properties"] = parse_properties(charge.charge_model, props_json)
        changes["properties_json"] = _frozen_json(props_json)
    if "filters" in entry:
        changes["filters"] = _parse_filters(entry.get("filters"), charge.charge_model)
    if "min_amount_cents" in entry:
        raw_min = entry.get("min_amount_cents")
        changes["min_amount_cents"] = 0 if raw_min is None else _whole(raw_min, "min_amount_cents")
    if "invoice_display_name" in entry:
        changes["invoice_display_name"] = _text(entry, "invoice_display_name")
    if "tax_codes" in entry:
        changes["tax_codes"] = _codes(entry, "tax_codes")
    return replace(charge, **changes)


def apply_overrides(
    plan: Plan,
    overrides: JsonObject,
    *,
    currency: Callable[[str], Currency],
    new_id: Callable[[], str],
) -> Plan:
    """The child plan a subscription's Lago `plan_overrides` describe (validated like a plan).

    Only the keys present are overridden. Every charge of the child gets a new id whose
    `parent_id` is the original charge (Lago `lago_parent_id`); `charges[].id` names the
    parent plan's charge. `filters`, `usage_thresholds` and `tax_codes` replace the lists;
    `minimum_commitment` merges into the plan's one. Field paths start at `plan_overrides.`.
    """

    def build() -> Plan:
        changes: dict[str, Any] = {"id": new_id(), "parent_id": plan.id}
        if overrides.get("amount_cents") is not None:
            changes["amount_cents"] = _whole(overrides["amount_cents"], "amount_cents")
        if overrides.get("amount_currency") is not None:
            code = _text(overrides, "amount_currency")
            assert code is not None
            changes["currency"] = _prefixed("amount_currency.", lambda: currency(code))
        if "name" in overrides:
            changes["name"] = _text(overrides, "name", required=True)
        for key in ("description", "invoice_display_name"):
            if key in overrides:
                changes[key] = _text(overrides, key)
        if "tax_codes" in overrides:
            changes["tax_codes"] = _codes(overrides, "tax_codes")
        if overrides.get("trial_period") is not None:
            changes["trial_period_days"] = _whole(overrides["trial_period"], "trial_period")
        if "minimum_commitment" in overrides:
            changes["minimum_commitment"] = _prefixed(
                "minimum_commitment.",
                lambda: _commitment(overrides["minimum_commitment"], plan.minimum_commitment),
            )
        if "usage_thresholds" in overrides:
            changes["usage_thresholds"] = _thresholds(overrides["usage_thresholds"])
        by_parent: dict[str, JsonObject] = {}
        for i, item in enumerate(_list(overrides.get("charges"), "charges")):
            entry = _object(item, f"charges[{i}]")
            charge_id = entry.get("id")
            if not isinstance(charge_id, str) or not any(c.id == charge_id for c in plan.charges):
                raise DomainError(
                    f"the plan has no charge {charge_id!r}",
                    field=f"charges[{i}].id",
                    code="charge_not_found",
                )
            by_parent[charge_id] = entry
        charges = []
        for i, charge in enumerate(plan.charges):

            def override(charge: Charge = charge) -> Charge:
                return _override_charge(charge, by_parent.get(charge.id, {}), new_id)

            charges.append(_prefixed(f"charges[{i}].", override))
        changes["charges"] = tuple(charges)
        return replace(plan, **changes)

    return _prefixed("plan_overrides.", build)
