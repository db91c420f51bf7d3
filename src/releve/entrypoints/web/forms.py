"""Form parsing at the edge and plain-language validation messages.

Parsing only turns text into the types the services take (blank → None, digits → int);
every rule stays in the service, whose snake_case codes are translated here into a sentence
that names the field and says what is wrong.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from starlette.datastructures import FormData

LABELS = {
    "external_id": "External ID",
    "name": "Name",
    "firstname": "First name",
    "lastname": "Last name",
    "email": "Email",
    "phone": "Phone",
    "customer_type": "Customer type",
    "currency": "Currency",
    "timezone": "Time zone",
    "country": "Country",
    "address_line1": "Address",
    "city": "City",
    "zipcode": "Postal code",
    "legal_name": "Legal name",
    "tax_identification_number": "Tax ID",
    "net_payment_term": "Payment term (days)",
    "metadata": "Metadata",
    "code": "Code",
    "description": "Description",
    "aggregation_type": "Aggregation",
    "field_name": "Property to aggregate",
    "recurring": "Recurring",
    "expression": "Expression",
    "rounding_function": "Rounding",
    "rounding_precision": "Rounding precision",
    "percentile": "Percentile",
    "filters": "Filters",
    "footprint_per_unit": "Footprint per unit",
    "footprint_unit": "Footprint unit",
}

_GENERIC = {
    "value_is_mandatory": "is required.",
    "value_is_invalid": "is not valid.",
    "value_is_too_long": "is too long.",
    "value_already_exist": "is already used; choose another one.",
    "invalid_timezone": "is not a known IANA time zone, such as Europe/Paris or America/New_York.",
    "country_code_invalid": "must be a two-letter ISO 3166 country code, such as FR or US.",
    "unknown_field": "is not a field this form accepts.",
    "not_compatible_with_aggregation_type": (
        "can only be set for Sum, Unique count or Weighted sum aggregations."
    ),
}
_SPECIFIC = {
    ("currency", "value_is_invalid"): "must be an ISO 4217 currency code, such as EUR or USD.",
    ("net_payment_term", "value_is_invalid"): "must be a whole number of days, 0 or more.",
    ("rounding_precision", "value_is_invalid"): "must be a whole number.",
    ("percentile", "value_is_invalid"): "must be a number above 0 and at most 100.",
    ("footprint_per_unit", "value_is_invalid"): "must be a number, 0 or more.",
    ("filters", "value_is_invalid"): (
        'needs one line per key, as "key: value1, value2", each key once and with values.'
    ),
    ("metadata", "value_is_invalid"): 'needs one line per entry, as "key = value".',
    ("email", "value_is_invalid"): "does not look like an email address.",
    ("code", "value_already_exist"): "is already used by another metric; codes are unique.",
}


@dataclass(frozen=True, slots=True)
class FieldError:
    field: str
    label: str
    message: str  # a full sentence, starting with the label


def messages(error_details: dict[str, Any]) -> list[FieldError]:
    """Service error codes → one sentence per problem, in field order."""
    result = []
    for field, codes in error_details.items():
        label = LABELS.get(field, field.replace("_", " ").capitalize())
        for code in codes if isinstance(codes, list) else [codes]:
            text = _SPECIFIC.get((field, code)) or _GENERIC.get(code, f"is not valid ({code}).")
            result.append(FieldError(field, label, f"{label} {text}"))
    return result


def by_field(errors: Iterable[FieldError]) -> dict[str, list[str]]:
    grouped: dict[str, list[str]] = {}
    for error in errors:
        grouped.setdefault(error.field, []).append(error.message)
    return grouped


def submitted(form: FormData) -> dict[str, str]:
    """The values as sent, shown back in the form when it has errors so nothing typed is lost;
    a file upload has no text to show back and comes back empty."""
    return {k: (v if isinstance(v, str) else "") for k, v in form.items()}


def text(form: FormData, name: str) -> str | None:
    """A trimmed text field; blank is None."""
    value = form.get(name)
    if not isinstance(value, str):
        return None
    value = value.strip()
    return value or None


def integer(form: FormData, name: str) -> int | str | None:
    """Digits → int; anything else is passed on as text so the service reports it."""
    value = text(form, name)
    if value is None:
        return None
    try:
        return int(value)
    except ValueError:
        return value


def key_values(raw: str | None, separator: str) -> list[tuple[str, str]] | None:
    """Lines "key <sep> value" → pairs; None when a non-blank line has no separator."""
    pairs = []
    for line in (raw or "").splitlines():
        if not line.strip():
            continue
        key, sep, value = line.partition(separator)
        if not sep or not key.strip():
            return None
        pairs.append((key.strip(), value.strip()))
    return pairs
