"""Parsing and checking an alert body (Lago `POST/PUT /subscriptions/{id}/alerts`).

`{"alert": {alert_type, code, name, billable_metric_code, thresholds: [{code, value,
recurring}]}}`. Rules (Lago `app/models/alert.rb`, `UsageMonitoring::CreateAlertService`):
- alert_type one of `ALERT_TYPES` (`value_is_invalid`); code mandatory, unique per
  subscription (`value_already_exist`);
- billable_metric_code mandatory for the two `billable_metric_*` types and refused for the
  others (`value_is_mandatory` / `value_is_invalid`); an unknown code is
  `billable_metric_not_found`;
- 1 to 20 thresholds; values are decimal numbers > 0 (minor units for amount alerts, units
  for the units alert), sent as JSON numbers or strings, never floats with binary noise (we
  read the JSON text exactly); at most one recurring threshold; values unique.
Every problem is reported at once, keyed by field (`thresholds[1].value`).
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal, InvalidOperation
from typing import Any

from releve.services.alert_records import ALERT_TYPES
from releve.services.validation import Errors

MAX_THRESHOLDS = 20
MAX_TEXT = 255


def normalized(value: Decimal) -> str:
    """Canonical decimal text: "5000", "0.5" (no exponent, no trailing zeros)."""
    text = format(value.normalize(), "f")
    return text


def _decimal(raw: Any) -> Decimal | None:
    if isinstance(raw, bool) or raw is None:
        return None
    if isinstance(raw, float):  # never: ExactJSON parsing gives Decimal; refuse defensively
        return None
    try:
        value = Decimal(str(raw).strip()) if not isinstance(raw, Decimal) else raw
    except (InvalidOperation, ValueError):
        return None
    return value if value.is_finite() else None


def parse_thresholds(raw: Any, errors: Errors) -> list[dict[str, Any]]:
    if not isinstance(raw, list) or not raw:
        errors.add("thresholds", "value_is_mandatory")
        return []
    if len(raw) > MAX_THRESHOLDS:
        errors.add("thresholds", "too_many_thresholds")
        return []
    parsed: list[dict[str, Any]] = []
    seen: set[Decimal] = set()
    for i, item in enumerate(raw):
        field = f"thresholds[{i}]"
        if not isinstance(item, Mapping):
            errors.add(field, "value_is_invalid")
            continue
        value = _decimal(item.get("value"))
        if value is None or value <= 0:
            errors.add(f"{field}.value", "value_is_invalid")
            continue
        if value in seen:
            errors.add(f"{field}.value", "value_already_exist")
        seen.add(value)
        recurring = item.get("recurring", False)
        if recurring is None:
            recurring = False
        if not isinstance(recurring, bool):
            errors.add(f"{field}.recurring", "value_is_invalid")
            continue
        code = item.get("code")
        if code is not None and (not isinstance(code, str) or len(code) > MAX_TEXT):
            errors.add(f"{field}.code", "value_is_invalid")
            continue
        parsed.append({"code": code, "value": normalized(value), "recurring": recurring})
    if sum(1 for t in parsed if t["recurring"]) > 1:
        errors.add("thresholds", "only_one_recurring_threshold")
    return sorted(parsed, key=lambda t: (t["recurring"], Decimal(t["value"])))


def parse_alert(
    values: Mapping[str, Any], errors: Errors, *, existing: Mapping[str, Any] | None = None
) -> dict[str, Any]:
    """The checked fields of an alert; on update, `existing` supplies what is not sent (the
    type cannot change)."""
    base = dict(existing or {})
    alert_type = values.get("alert_type", base.get("alert_type"))
    if alert_type not in ALERT_TYPES:
        errors.add("alert_type", "value_is_invalid" if alert_type else "value_is_mandatory")
    elif existing is not None and alert_type != existing["alert_type"]:
        errors.add("alert_type", "cannot_be_changed")
    code = values.get("code", base.get("code"))
    if not isinstance(code, str) or not code.strip() or len(code) > MAX_TEXT:
        errors.add("code", "value_is_mandatory" if not code else "value_is_invalid")
    name = values.get("name", base.get("name"))
    if name is not None and (not isinstance(name, str) or len(name) > MAX_TEXT):
        errors.add("name", "value_is_invalid")
    metric = values.get("billable_metric_code", base.get("billable_metric_code"))
    if alert_type in (
        "billable_metric_current_usage_amount",
        "billable_metric_current_usage_units",
    ):
        if not isinstance(metric, str) or not metric:
            errors.add("billable_metric_code", "value_is_mandatory")
    elif metric is not None:
        errors.add("billable_metric_code", "value_is_invalid")
    direction = values.get("direction")
    if direction not in (None, "increasing"):
        errors.add("direction", "value_is_invalid")  # decreasing: wallet alerts only
    if "thresholds" in values or existing is None:
        thresholds = parse_thresholds(values.get("thresholds"), errors)
    else:
        thresholds = list(base.get("thresholds") or [])
    return {
        "alert_type": alert_type,
        "code": code,
        "name": name,
        "billable_metric_code": metric,
        "thresholds": thresholds,
    }
