"""Money forms of the dashboard: amounts typed in the operator's notation, and the wallet,
credit-note, coupon and webhook error codes of the services said in plain words.

Amounts are parsed with babel in the operator's locale ("1 234,50" in French) into `Decimal`,
never float; money in major units becomes integer minor units of the currency only when exact
(12.345 EUR is refused, not rounded). Anything unreadable is passed on as text, so the service
names the field, as for every other form.
"""

from __future__ import annotations

from decimal import Decimal

from babel.numbers import NumberFormatError, get_currency_precision, parse_decimal
from starlette.datastructures import FormData

from releve.entrypoints.web import forms
from releve.entrypoints.web.forms import FieldError

LABELS = {
    "paid_credits": "Paid credits",
    "granted_credits": "Granted credits",
    "voided_credits": "Voided credits",
    "rate_amount": "Value of one credit",
    "priority": "Priority",
    "expiration_at": "Expiry",
    "wallet_id": "Wallet",
    "wallet": "Wallet",
    "items": "Items",
    "amount_cents": "Amount",
    "base": "Amounts",
    "reason": "Reason",
    "credit_amount_cents": "Credit",
    "refund_amount_cents": "Refund",
    "offset_amount_cents": "Offset",
    "coupon_code": "Coupon",
    "coupon": "Coupon",
    "webhook_url": "URL",
    "status": "Status",
}
SPECIFIC = {
    "value_is_invalid": "is not valid.",
    "insufficient_credits": "is more than the wallet holds.",
    "wallet_not_active": "is terminated: it cannot be topped up.",
    "wallet_terminated": "is terminated: it cannot be changed.",
    "currencies_does_not_match": "is in another currency than the customer's.",
    "invalid_date": "must be a date and time in the future.",
    "invalid_value": "must be a whole amount above zero, at most what is left to credit.",
    "higher_than_remaining_fee_amount": "is more than what is left to credit on that fee.",
    "does_not_match_item_amounts": (
        "credit + refund + offset must equal the credit note's total, taxes included."
    ),
    "higher_than_remaining_invoice_amount": "is more than what is left on the invoice.",
    "coupon_is_not_reusable": "was already applied to this customer and is not reusable.",
    "url_is_invalid": "must be an absolute http:// or https:// address.",
    "webhook_already_succeeded": "is already delivered: there is nothing to retry.",
    "too_many_decimals": "has more decimals than the currency allows.",
    "not_a_number": "must be a number, such as 10 or 12.50.",
}
_FIELD_SPECIFIC = {
    ("paid_credits", "value_is_invalid"): "must be a number of credits, 0 or more, such as 10.5.",
    (
        "granted_credits",
        "value_is_invalid",
    ): "must be a number of credits, 0 or more, such as 10.5.",
    ("voided_credits", "value_is_invalid"): "must be a number of credits, 0 or more, such as 10.5.",
    ("rate_amount", "value_is_invalid"): "must be an amount above zero, such as 1 or 0.50.",
    ("rate_amount", "value_is_mandatory"): "is required, such as 1 (one credit is worth 1.00).",
    ("priority", "value_is_invalid"): "must be a whole number from 1 to 50.",
    ("reason", "value_is_mandatory"): "is required: choose why the credit note is issued.",
    ("items", "value_is_mandatory"): "need an amount on at least one fee.",
    ("coupon", "value_is_mandatory"): "is required: choose a coupon.",
    ("coupon_code", "value_is_mandatory"): "is required: choose a coupon.",
}


def messages(error_details: dict[str, object]) -> list[FieldError]:
    """Service error codes → one sentence per problem (falls back on `forms.messages`)."""
    result = []
    for field, codes in error_details.items():
        for code in codes if isinstance(codes, list) else [codes]:
            text = _FIELD_SPECIFIC.get((field, str(code))) or SPECIFIC.get(str(code))
            if text is None:
                result += forms.messages({field: [code]})
                continue
            label = LABELS.get(field) or forms.LABELS.get(field) or field.replace("_", " ")
            result.append(FieldError(field, label, f"{label} {text}"))
    return result


def decimal(form: FormData, name: str, locale: str) -> Decimal | str | None:
    """A number in the operator's notation → Decimal; blank → None; else the text as typed."""
    text = forms.text(form, name)
    if text is None:
        return None
    try:
        return parse_decimal(text, locale=locale, strict=True)
    except (NumberFormatError, ValueError):
        try:
            return Decimal(text)  # "10.5" stays readable whatever the locale
        except ArithmeticError:
            return text


def minor_units(value: Decimal | str | None, currency: str) -> int | str | None:
    """Major units → integer minor units when exact; else an error code ("not_a_number",
    "too_many_decimals"); blank stays None."""
    if value is None:
        return None
    if isinstance(value, str) or not value.is_finite():
        return "not_a_number"
    scaled = value.scaleb(get_currency_precision(currency))
    if scaled != scaled.to_integral_value():
        return "too_many_decimals"
    return int(scaled)
