"""Taxes: a named rate in percent, unique by code per organization (Lago's /taxes)."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from decimal import Decimal, InvalidOperation
from typing import Any
from uuid import UUID

from releve.services.errors import NotFound, ValidationFailed
from releve.services.pagination import Page, PageRequest
from releve.services.ports import Clock, UnitOfWorkFactory
from releve.services.records import Tax
from releve.services.transactions import retry_on_conflict
from releve.services.validation import Errors, check_required_string

FIELDS = ("code", "name", "rate", "description", "applied_to_organization")


def parse_rate(value: Any) -> Decimal | None:
    """A percent rate from a Decimal, an int or a decimal string; None when invalid."""
    if isinstance(value, bool):
        return None
    if isinstance(value, Decimal | int):
        rate = Decimal(value)
    elif isinstance(value, str):
        try:
            rate = Decimal(value.strip())
        except InvalidOperation:
            return None
    else:
        return None
    return rate if rate.is_finite() and Decimal(0) <= rate <= Decimal(100) else None


class TaxService:
    def __init__(self, uow: UnitOfWorkFactory, clock: Clock) -> None:
        self._uow = uow
        self._clock = clock

    def create(self, organization_id: UUID, values: Mapping[str, Any]) -> Tax:
        clean = _validated(values, partial=False)
        now = self._clock.now()
        tax = Tax(
            id=uuid.uuid4(),
            organization_id=organization_id,
            code=clean["code"],
            name=clean["name"],
            rate=clean["rate"],
            description=clean.get("description"),
            applied_to_organization=bool(clean.get("applied_to_organization") or False),
            created_at=now,
            updated_at=now,
        )

        def attempt() -> Tax:
            with self._uow() as uow:
                if uow.taxes.get(organization_id, tax.code) is not None:
                    raise ValidationFailed.one("code", "value_already_exist")
                uow.taxes.add(tax)
                uow.commit()
            return tax

        return retry_on_conflict(attempt)

    def get(self, organization_id: UUID, code: str) -> Tax:
        with self._uow(read_only=True) as uow:
            tax = uow.taxes.get(organization_id, code)
        if tax is None:
            raise NotFound("tax")
        return tax

    def list(self, organization_id: UUID, page: PageRequest) -> Page[Tax]:
        with self._uow(read_only=True) as uow:
            items, total = uow.taxes.list(organization_id, page)
        return Page(items, page, total)

    def update(self, organization_id: UUID, code: str, values: Mapping[str, Any]) -> Tax:
        clean = _validated(values, partial=True)

        def attempt() -> Tax:
            with self._uow() as uow:
                tax = uow.taxes.get(organization_id, code)
                if tax is None:
                    raise NotFound("tax")
                new_code = clean.get("code", tax.code)
                if new_code != tax.code and uow.taxes.get(organization_id, new_code):
                    raise ValidationFailed.one("code", "value_already_exist")
                for name, value in clean.items():
                    if name == "applied_to_organization":
                        value = bool(value)
                    setattr(tax, name, value)
                tax.updated_at = self._clock.now()
                uow.taxes.update(tax)
                uow.commit()
            return tax

        return retry_on_conflict(attempt)

    def delete(self, organization_id: UUID, code: str) -> Tax:
        with self._uow() as uow:
            tax = uow.taxes.get(organization_id, code)
            if tax is None:
                raise NotFound("tax")
            uow.taxes.delete(tax)
            uow.commit()
        return tax


def _validated(values: Mapping[str, Any], *, partial: bool) -> dict[str, Any]:
    errors = Errors()
    for name in sorted(set(values) - set(FIELDS)):
        errors.add(name, "unknown_field")
    clean = {k: v for k, v in values.items() if k in FIELDS}
    for name in ("code", "name"):
        if not partial or name in clean:
            check_required_string(errors, name, clean.get(name))
    if not partial or "rate" in clean:
        if clean.get("rate") is None:
            errors.add("rate", "value_is_mandatory")
        else:
            rate = parse_rate(clean["rate"])
            if rate is None:
                errors.add("rate", "value_is_invalid")
            clean["rate"] = rate
    description = clean.get("description")
    if description is not None and not isinstance(description, str):
        errors.add("description", "value_is_invalid")
    if clean.get("applied_to_organization") not in (None, True, False):
        errors.add("applied_to_organization", "value_is_invalid")
    if errors:
        raise ValidationFailed(errors.details)
    return clean
