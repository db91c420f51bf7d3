"""Parsing and checking what the API sends for wallets and wallet transactions (Lago fields).

Credits and rates are exact decimals: a JSON string ("10.5") or an exact number; a float or a
boolean is refused. Every problem is collected so one 422 names them all.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from releve.services.errors import ValidationFailed
from releve.services.validation import Errors

MAX_CREDIT_DECIMALS = 5  # Lago keeps credits to 5 decimals


def decimal_value(
    errors: Errors, field: str, value: Any, *, positive: bool = False, decimals: int | None = None
) -> Decimal | None:
    """A non-negative (or positive) finite Decimal, or None (and an error) when invalid."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, str | int | Decimal):
        errors.add(field, "value_is_invalid")
        return None
    try:
        number = Decimal(value.strip()) if isinstance(value, str) else Decimal(value)
    except InvalidOperation:
        errors.add(field, "value_is_invalid")
        return None
    exponent = number.as_tuple().exponent
    if (
        not number.is_finite()
        or number < 0
        or (positive and number == 0)
        or (decimals is not None and isinstance(exponent, int) and -exponent > decimals)
    ):
        errors.add(field, "value_is_invalid")
        return None
    return number


def _expiration(errors: Errors, value: Any, now: datetime) -> datetime | None:
    if value is None:
        return None
    try:
        parsed = datetime.fromisoformat(value) if isinstance(value, str) else None
    except ValueError:
        parsed = None
    if parsed is None or parsed.tzinfo is None or parsed.utcoffset() is None:
        errors.add("expiration_at", "invalid_date")
        return None
    if parsed <= now:
        errors.add("expiration_at", "invalid_date")  # Lago: must be in the future
        return None
    return parsed


def _priority(errors: Errors, value: Any) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | Decimal) or not 1 <= value <= 50:
        errors.add("priority", "value_is_invalid")
        return None
    if isinstance(value, Decimal) and value != value.to_integral_value():
        errors.add("priority", "value_is_invalid")
        return None
    return int(value)


def _flag(errors: Errors, field: str, value: Any) -> bool | None:
    if value is None:
        return None
    if not isinstance(value, bool):
        errors.add(field, "value_is_invalid")
        return None
    return value


def _name(errors: Errors, value: Any) -> str | None:
    if value is not None and (not isinstance(value, str) or len(value) > 255):
        errors.add("name", "value_is_invalid")
        return None
    return value


@dataclass(frozen=True, slots=True)
class TopUp:
    paid_credits: Decimal = Decimal(0)
    granted_credits: Decimal = Decimal(0)
    voided_credits: Decimal = Decimal(0)
    invoice_requires_successful_payment: bool | None = None
    name: str | None = None


@dataclass(frozen=True, slots=True)
class WalletInput:
    external_customer_id: str
    currency: str
    rate_amount: Decimal
    top_up: TopUp
    name: str | None
    priority: int
    expiration_at: datetime | None
    invoice_requires_successful_payment: bool


def _credits(errors: Errors, values: Mapping[str, Any], field: str) -> Decimal:
    parsed = decimal_value(errors, field, values.get(field), decimals=MAX_CREDIT_DECIMALS)
    return parsed if parsed is not None else Decimal(0)


def wallet_input(values: Mapping[str, Any], now: datetime) -> WalletInput:
    errors = Errors()
    customer_id = values.get("external_customer_id")
    if not isinstance(customer_id, str) or not customer_id.strip():
        errors.add("external_customer_id", "value_is_mandatory")
    currency = values.get("currency")
    if not isinstance(currency, str) or not currency.strip():
        errors.add("currency", "value_is_mandatory")
    rate = values.get("rate_amount")
    if rate is None:
        errors.add("rate_amount", "value_is_mandatory")
    rate_amount = decimal_value(errors, "rate_amount", rate, positive=True)
    top_up = TopUp(
        paid_credits=_credits(errors, values, "paid_credits"),
        granted_credits=_credits(errors, values, "granted_credits"),
        name=values.get("transaction_name")
        if isinstance(values.get("transaction_name"), str)
        else None,
    )
    name = _name(errors, values.get("name"))
    priority = _priority(errors, values.get("priority"))
    expiration = _expiration(errors, values.get("expiration_at"), now)
    requires = _flag(
        errors,
        "invoice_requires_successful_payment",
        values.get("invoice_requires_successful_payment"),
    )
    if errors:
        raise ValidationFailed(errors.details)
    assert isinstance(customer_id, str) and isinstance(currency, str) and rate_amount is not None
    return WalletInput(
        external_customer_id=customer_id,
        currency=currency.strip().upper(),
        rate_amount=rate_amount,
        top_up=top_up,
        name=name,
        priority=50 if priority is None else priority,
        expiration_at=expiration,
        invoice_requires_successful_payment=bool(requires),
    )


UPDATABLE = ("name", "priority", "expiration_at", "invoice_requires_successful_payment")


def wallet_changes(values: Mapping[str, Any], now: datetime) -> dict[str, Any]:
    """The fields a PUT changes (Lago: name, priority, expiration_at — null clears it —,
    invoice_requires_successful_payment); others are ignored, as Lago does."""
    errors = Errors()
    changes: dict[str, Any] = {}
    if "name" in values:
        changes["name"] = _name(errors, values["name"])
    if "priority" in values:
        priority = _priority(errors, values["priority"])
        if values["priority"] is None:
            errors.add("priority", "value_is_invalid")
        changes["priority"] = priority
    if "expiration_at" in values:
        changes["expiration_at"] = _expiration(errors, values["expiration_at"], now)
    if "invoice_requires_successful_payment" in values:
        flag = _flag(
            errors,
            "invoice_requires_successful_payment",
            values["invoice_requires_successful_payment"],
        )
        if flag is None:
            errors.add("invoice_requires_successful_payment", "value_is_invalid")
        changes["invoice_requires_successful_payment"] = flag
    if errors:
        raise ValidationFailed(errors.details)
    return changes


def transaction_input(values: Mapping[str, Any]) -> tuple[str, TopUp]:
    """(wallet lago id, what to add and void)."""
    errors = Errors()
    wallet_id = values.get("wallet_id")
    if not isinstance(wallet_id, str) or not wallet_id.strip():
        errors.add("wallet_id", "value_is_mandatory")
    top_up = TopUp(
        paid_credits=_credits(errors, values, "paid_credits"),
        granted_credits=_credits(errors, values, "granted_credits"),
        voided_credits=_credits(errors, values, "voided_credits"),
        invoice_requires_successful_payment=_flag(
            errors,
            "invoice_requires_successful_payment",
            values.get("invoice_requires_successful_payment"),
        ),
        name=_name(errors, values.get("name")),
    )
    if errors:
        raise ValidationFailed(errors.details)
    assert isinstance(wallet_id, str)
    return wallet_id, top_up
