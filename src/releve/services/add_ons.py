"""Add-ons (Lago's `add_ons`) and the one-off invoices that bill them.

An add-on is a named price (integer minor units, one currency) with optional tax codes; a one-off
invoice (`one_off_invoices`) bills add-ons at their price or at one given per fee. Deleting an
add-on hides it; invoices that billed it keep their own copy of what they show.
"""

from __future__ import annotations

import builtins
import uuid
from collections.abc import Mapping
from typing import Any, cast
from uuid import UUID

from releve.services import one_off_invoices
from releve.services.billing_queries import InvoiceView
from releve.services.coupon_records import AddOn, CouponUnitOfWork, CouponUnitOfWorkFactory
from releve.services.errors import NotFound, ValidationFailed
from releve.services.pagination import Page, PageRequest
from releve.services.ports import Clock, CurrencyCatalog, UnitOfWorkFactory
from releve.services.records import Tax
from releve.services.transactions import retry_on_conflict
from releve.services.validation import Errors, check_currency, check_required_string

FIELDS = (
    "name",
    "code",
    "invoice_display_name",
    "description",
    "amount_cents",
    "amount_currency",
    "tax_codes",
)


def resolve_taxes(uow: CouponUnitOfWork, organization_id: UUID, codes: list[str]) -> list[Tax]:
    """The taxes of `codes`, in order; an unknown code is Lago's 404 tax_not_found."""
    found = []
    for code in codes:
        tax = uow.taxes.get(organization_id, code)
        if tax is None:
            raise NotFound("tax")
        found.append(tax)
    return found


class AddOnService:
    def __init__(self, uow: UnitOfWorkFactory, clock: Clock, currencies: CurrencyCatalog) -> None:
        self._uow = cast(CouponUnitOfWorkFactory, uow)
        self._clock = clock
        self._currencies = currencies

    def create(self, organization_id: UUID, values: Mapping[str, Any]) -> tuple[AddOn, list[Tax]]:
        clean = self._validated(values, partial=False)
        now = self._clock.now()
        add_on = AddOn(
            id=uuid.uuid4(),
            organization_id=organization_id,
            code=clean["code"],
            name=clean["name"],
            invoice_display_name=clean.get("invoice_display_name"),
            description=clean.get("description"),
            amount_cents=clean["amount_cents"],
            amount_currency=clean["amount_currency"],
            tax_codes=clean.get("tax_codes", []),
            created_at=now,
            updated_at=now,
        )

        def attempt() -> tuple[AddOn, list[Tax]]:
            with self._uow() as uow:
                if uow.add_ons.get(organization_id, add_on.code) is not None:
                    raise ValidationFailed.one("code", "value_already_exist")
                taxes = resolve_taxes(uow, organization_id, add_on.tax_codes)
                uow.add_ons.add(add_on)
                uow.commit()
            return add_on, taxes

        return retry_on_conflict(attempt)

    def get(self, organization_id: UUID, code: str) -> tuple[AddOn, list[Tax]]:
        with self._uow(read_only=True) as uow:
            add_on = uow.add_ons.get(organization_id, code)
            if add_on is None:
                raise NotFound("add_on")
            return add_on, self._taxes(uow, add_on)

    def list(self, organization_id: UUID, page: PageRequest) -> Page[tuple[AddOn, list[Tax]]]:
        with self._uow(read_only=True) as uow:
            items, total = uow.add_ons.list(organization_id, page)
            return Page([(a, self._taxes(uow, a)) for a in items], page, total)

    def update(
        self, organization_id: UUID, code: str, values: Mapping[str, Any]
    ) -> tuple[AddOn, builtins.list[Tax]]:
        clean = self._validated(values, partial=True)

        def attempt() -> tuple[AddOn, builtins.list[Tax]]:
            with self._uow() as uow:
                add_on = uow.add_ons.get(organization_id, code)
                if add_on is None:
                    raise NotFound("add_on")
                new_code = clean.get("code", add_on.code)
                if new_code != add_on.code and uow.add_ons.get(organization_id, new_code):
                    raise ValidationFailed.one("code", "value_already_exist")
                for name, value in clean.items():
                    setattr(add_on, name, value)
                taxes = resolve_taxes(uow, organization_id, add_on.tax_codes)
                add_on.updated_at = self._clock.now()
                uow.add_ons.update(add_on)
                uow.commit()
            return add_on, taxes

        return retry_on_conflict(attempt)

    def delete(self, organization_id: UUID, code: str) -> tuple[AddOn, builtins.list[Tax]]:
        with self._uow() as uow:
            add_on = uow.add_ons.get(organization_id, code)
            if add_on is None:
                raise NotFound("add_on")
            taxes = self._taxes(uow, add_on)
            add_on.deleted_at = add_on.updated_at = self._clock.now()
            uow.add_ons.update(add_on)
            uow.commit()
        return add_on, taxes

    def create_one_off_invoice(
        self, organization_id: UUID, values: Mapping[str, Any]
    ) -> InvoiceView:
        """Lago's POST /invoices: a finalized `one_off` invoice of add-on fees."""
        return one_off_invoices.create(
            self._uow, self._clock, self._currencies, organization_id, values
        )

    @staticmethod
    def _taxes(uow: CouponUnitOfWork, add_on: AddOn) -> builtins.list[Tax]:
        """The add-on's taxes that still exist (a deleted tax no longer applies)."""
        taxes = (uow.taxes.get(add_on.organization_id, c) for c in add_on.tax_codes)
        return [t for t in taxes if t is not None]

    def _validated(self, values: Mapping[str, Any], *, partial: bool) -> dict[str, Any]:
        errors = Errors()
        for name in sorted(set(values) - set(FIELDS)):
            errors.add(name, "unknown_field")
        clean = {k: v for k, v in values.items() if k in FIELDS}
        for name in ("name", "code"):
            if not partial or name in clean:
                check_required_string(errors, name, clean.get(name))
        for name in ("invoice_display_name", "description"):
            if clean.get(name) is not None and not isinstance(clean[name], str):
                errors.add(name, "value_is_invalid")
        if not partial or "amount_cents" in clean:
            cents = clean.get("amount_cents")
            if cents is None:
                errors.add("amount_cents", "value_is_mandatory")
            elif isinstance(cents, bool) or not isinstance(cents, int) or cents < 0:
                errors.add("amount_cents", "value_is_invalid")
        if not partial or "amount_currency" in clean:
            if clean.get("amount_currency") is None:
                errors.add("amount_currency", "value_is_mandatory")
            else:
                clean["amount_currency"] = check_currency(
                    errors, "amount_currency", clean["amount_currency"], self._currencies
                )
        if "tax_codes" in clean:
            codes = clean["tax_codes"] or []
            if not isinstance(codes, list) or not all(isinstance(c, str) for c in codes):
                errors.add("tax_codes", "value_is_invalid")
            else:
                clean["tax_codes"] = list(dict.fromkeys(codes))
        if errors:
            raise ValidationFailed(errors.details)
        return clean
