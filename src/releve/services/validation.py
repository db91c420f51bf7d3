"""Small field checks shared by the use cases, collecting Lago-style error codes."""

from __future__ import annotations

from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from releve.services.ports import CurrencyCatalog


class Errors:
    """Accumulates field → [codes] so one response names every problem at once."""

    def __init__(self) -> None:
        self.details: dict[str, list[str]] = {}

    def add(self, field: str, code: str) -> None:
        self.details.setdefault(field, []).append(code)

    def __bool__(self) -> bool:
        return bool(self.details)


def check_timezone(errors: Errors, field: str, value: Any) -> None:
    if value is None:
        return
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError, TypeError):
        errors.add(field, "invalid_timezone")


def check_currency(
    errors: Errors, field: str, value: Any, currencies: CurrencyCatalog
) -> str | None:
    if value is None:
        return None
    try:
        return currencies(value).code
    except Exception:
        errors.add(field, "value_is_invalid")
        return None


def check_non_negative_int(errors: Errors, field: str, value: Any) -> None:
    if value is None:
        return
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        errors.add(field, "value_is_invalid")


def check_required_string(errors: Errors, field: str, value: Any, max_length: int = 255) -> None:
    if value is None or (isinstance(value, str) and not value.strip()):
        errors.add(field, "value_is_mandatory")
    elif not isinstance(value, str) or len(value) > max_length:
        errors.add(field, "value_is_invalid")
