"""Validation of coupon and applied-coupon input (Lago's field names and error codes).

Every problem is collected, so one 422 names every field at once. Amounts are integer minor
units; `percentage_rate` is a Decimal percent (0 < rate ≤ 100); `expiration_at` an ISO 8601
time with an offset (a naive time is refused, design.md §4).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from decimal import Decimal
from typing import Any

from releve.services.errors import ValidationFailed
from releve.services.ports import CurrencyCatalog
from releve.services.taxes import parse_rate
from releve.services.validation import Errors, check_currency, check_required_string

COUPON_TYPES = ("fixed_amount", "percentage")
FREQUENCIES = ("once", "recurring", "forever")
EXPIRATIONS = ("no_expiration", "time_limit")
COUPON_FIELDS = (
    "name",
    "code",
    "description",
    "coupon_type",
    "amount_cents",
    "amount_currency",
    "percentage_rate",
    "frequency",
    "frequency_duration",
    "reusable",
    "expiration",
    "expiration_at",
    "applies_to",
)
OVERRIDE_FIELDS = (
    "amount_cents",
    "amount_currency",
    "percentage_rate",
    "frequency",
    "frequency_duration",
)


def _cents(errors: Errors, name: str, value: Any) -> int | None:
    if isinstance(value, Decimal) and value == value.to_integral_value():
        value = int(value)  # 1000.0 from a client that sends floats
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        errors.add(name, "value_is_invalid")
        return None
    return value


def _rate(errors: Errors, value: Any) -> Decimal | None:
    rate = parse_rate(value)
    if rate is None or rate <= 0:
        errors.add("percentage_rate", "value_is_invalid")
        return None
    return rate


def _duration(errors: Errors, value: Any) -> int | None:
    if isinstance(value, Decimal) and value == value.to_integral_value():
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        errors.add("frequency_duration", "value_is_invalid")
        return None
    return value


def _instant(errors: Errors, value: Any) -> datetime | None:
    try:
        moment = datetime.fromisoformat(value) if isinstance(value, str) else None
    except ValueError:
        moment = None
    if moment is None or moment.tzinfo is None or moment.utcoffset() is None:
        errors.add("expiration_at", "invalid_date")
        return None
    return moment


def _codes(errors: Errors, name: str, value: Any) -> list[str]:
    if value is None:
        return []
    if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
        errors.add(name, "value_is_invalid")
        return []
    return list(dict.fromkeys(value))


def _terms(
    errors: Errors,
    values: Mapping[str, Any],
    coupon_type: str | None,
    currencies: CurrencyCatalog,
    *,
    required: bool,
) -> dict[str, Any]:
    """amount / rate / frequency fields, as a coupon or an override defines them."""
    clean: dict[str, Any] = {}
    # An update that does not resend the type may change either kind of term; the service
    # then keeps the ones of the resulting type.
    either = coupon_type is None and not required
    if coupon_type == "fixed_amount" or either:
        if required or "amount_cents" in values:
            if values.get("amount_cents") is None:
                errors.add("amount_cents", "value_is_mandatory")
            else:
                clean["amount_cents"] = _cents(errors, "amount_cents", values["amount_cents"])
        if required or "amount_currency" in values:
            if values.get("amount_currency") is None:
                errors.add("amount_currency", "value_is_mandatory")
            else:
                clean["amount_currency"] = check_currency(
                    errors, "amount_currency", values["amount_currency"], currencies
                )
    if (coupon_type == "percentage" or either) and (required or "percentage_rate" in values):
        if values.get("percentage_rate") is None:
            errors.add("percentage_rate", "value_is_mandatory")
        else:
            clean["percentage_rate"] = _rate(errors, values["percentage_rate"])
    if "frequency" in values or required:
        frequency = values.get("frequency") or "once"
        if frequency not in FREQUENCIES:
            errors.add("frequency", "value_is_invalid")
        clean["frequency"] = frequency
    if values.get("frequency_duration") is not None:
        clean["frequency_duration"] = _duration(errors, values["frequency_duration"])
    return clean


def coupon_values(
    values: Mapping[str, Any], currencies: CurrencyCatalog, now: datetime, *, partial: bool
) -> dict[str, Any]:
    """The clean fields of a coupon create (all) or update (`partial`: sent ones only)."""
    errors = Errors()
    for name in sorted(set(values) - set(COUPON_FIELDS)):
        errors.add(name, "unknown_field")
    clean: dict[str, Any] = {}
    for name in ("name", "code"):
        if not partial or name in values:
            check_required_string(errors, name, values.get(name))
            clean[name] = values.get(name)
    if "description" in values:
        if values["description"] is not None and not isinstance(values["description"], str):
            errors.add("description", "value_is_invalid")
        clean["description"] = values["description"]
    coupon_type = values.get("coupon_type")
    if not partial or "coupon_type" in values:
        if coupon_type is None:
            errors.add("coupon_type", "value_is_mandatory")
        elif coupon_type not in COUPON_TYPES:
            errors.add("coupon_type", "value_is_invalid")
        clean["coupon_type"] = coupon_type
    clean.update(_terms(errors, values, coupon_type, currencies, required=not partial))
    if "reusable" in values or not partial:
        reusable = values.get("reusable", True)
        if reusable is None:
            reusable = True
        if not isinstance(reusable, bool):
            errors.add("reusable", "value_is_invalid")
        clean["reusable"] = reusable
    if "expiration" in values or not partial:
        expiration = values.get("expiration") or "no_expiration"
        if expiration not in EXPIRATIONS:
            errors.add("expiration", "value_is_invalid")
        clean["expiration"] = expiration
        clean["expiration_at"] = None
        if expiration == "time_limit":
            if values.get("expiration_at") is None:
                errors.add("expiration_at", "value_is_mandatory")
            else:
                moment = _instant(errors, values["expiration_at"])
                if moment is not None and moment <= now:
                    errors.add("expiration_at", "invalid_date")  # Lago: must be in the future
                clean["expiration_at"] = moment
    if "applies_to" in values:
        applies_to = values["applies_to"] or {}
        if not isinstance(applies_to, Mapping):
            errors.add("applies_to", "value_is_invalid")
            applies_to = {}
        plans = _codes(errors, "applies_to.plan_codes", applies_to.get("plan_codes"))
        metrics = _codes(
            errors, "applies_to.billable_metric_codes", applies_to.get("billable_metric_codes")
        )
        if plans and metrics:
            errors.add("applies_to", "only_one_limitation_allowed")
        clean["plan_codes"], clean["billable_metric_codes"] = plans, metrics
    if errors:
        raise ValidationFailed(errors.details)
    return clean


def check_coupon_terms(fields: Mapping[str, Any]) -> None:
    """Whole-coupon rules once create/update values are merged: duration of a recurring one."""
    if fields.get("frequency") == "recurring" and not fields.get("frequency_duration"):
        raise ValidationFailed.one("frequency_duration", "value_is_mandatory")


def override_values(
    values: Mapping[str, Any], coupon_type: str, currencies: CurrencyCatalog
) -> dict[str, Any]:
    """The overrides an applied coupon may carry (only those of its coupon's type)."""
    errors = Errors()
    sent = {k: v for k, v in values.items() if k in OVERRIDE_FIELDS and v is not None}
    if coupon_type == "percentage":
        for name in ("amount_cents", "amount_currency"):
            if name in sent:
                errors.add(name, "value_is_invalid")
    elif "percentage_rate" in sent:
        errors.add("percentage_rate", "value_is_invalid")
    clean = _terms(errors, sent, coupon_type, currencies, required=False)
    if errors:
        raise ValidationFailed(errors.details)
    return clean
