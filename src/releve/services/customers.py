"""Customers: upsert on `external_id` (as Lago's POST /customers), read, list, soft delete.

Changing a customer's `timezone` moves its period boundaries and the local hours its usage
aggregates are keyed by: the upsert rematches every external id of the customer's subscriptions
(any status) in the same unit of work (`UsageRecorder.rematch`), so the hour buckets follow the
new zone.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import fields
from typing import Any
from uuid import UUID

from releve.services.errors import NotFound, ValidationFailed
from releve.services.pagination import MAX_PER_PAGE, Page, PageRequest
from releve.services.ports import (
    Clock,
    CurrencyCatalog,
    SubscriptionFilter,
    UnitOfWork,
    UnitOfWorkFactory,
)
from releve.services.records import (
    SUBSCRIPTION_ACTIVE,
    SUBSCRIPTION_CANCELED,
    SUBSCRIPTION_PENDING,
    SUBSCRIPTION_TERMINATED,
    Customer,
)
from releve.services.transactions import retry_on_conflict
from releve.services.usage_recording import UsageRecorder
from releve.services.validation import (
    Errors,
    check_currency,
    check_non_negative_int,
    check_required_string,
    check_timezone,
)

FINALIZE_ZERO_AMOUNT_INVOICE = ("inherit", "skip", "finalize")
CUSTOMER_TYPES = ("company", "individual")
_SYSTEM_FIELDS = {
    "id",
    "organization_id",
    "sequential_id",
    "created_at",
    "updated_at",
    "deleted_at",
}
EDITABLE_FIELDS = frozenset(f.name for f in fields(Customer)) - _SYSTEM_FIELDS


class CustomerService:
    def __init__(
        self,
        uow: UnitOfWorkFactory,
        clock: Clock,
        currencies: CurrencyCatalog,
        recorder: UsageRecorder | None = None,
    ) -> None:
        self._uow = uow
        self._clock = clock
        self._currencies = currencies
        self._recorder = recorder or UsageRecorder(clock.now)

    def upsert(self, organization_id: UUID, values: Mapping[str, Any]) -> tuple[Customer, bool]:
        """Create the customer, or update the given fields of the live one with that external_id.

        Returns the customer and whether it was created. Only keys present in `values` change.
        """
        changes = self._validated(values)

        def attempt() -> tuple[Customer, bool]:
            now = self._clock.now()
            with self._uow() as uow:
                customer = uow.customers.get(organization_id, changes["external_id"])
                created = customer is None
                if customer is None:
                    customer = Customer(
                        id=uuid.uuid4(),
                        organization_id=organization_id,
                        external_id=changes["external_id"],
                        sequential_id=uow.customers.next_sequential_id(organization_id),
                        created_at=now,
                        updated_at=now,
                    )
                    _apply(customer, changes)
                    uow.customers.add(customer)
                else:
                    moved = "timezone" in changes and changes["timezone"] != customer.timezone
                    _apply(customer, changes)
                    customer.updated_at = now
                    uow.customers.update(customer)
                    if moved:
                        for external_id in self._external_ids(uow, customer):
                            self._recorder.rematch(uow, organization_id, external_id)
                uow.commit()
            return customer, created

        return retry_on_conflict(attempt)

    def get(self, organization_id: UUID, external_id: str) -> Customer:
        with self._uow(read_only=True) as uow:
            customer = uow.customers.get(organization_id, external_id)
        if customer is None:
            raise NotFound("customer")
        return customer

    def get_by_id(self, customer_id: UUID) -> Customer:
        with self._uow(read_only=True) as uow:
            customer = uow.customers.get_by_id(customer_id)
        if customer is None:
            raise NotFound("customer")
        return customer

    def list(self, organization_id: UUID, page: PageRequest) -> Page[Customer]:
        with self._uow(read_only=True) as uow:
            items, total = uow.customers.list(organization_id, page)
        return Page(items, page, total)

    def delete(self, organization_id: UUID, external_id: str) -> Customer:
        """Soft delete: the row stays for invoices and audit, the API answers 404 afterwards."""
        with self._uow() as uow:
            customer = uow.customers.get(organization_id, external_id)
            if customer is None:
                raise NotFound("customer")
            customer.deleted_at = self._clock.now()
            customer.updated_at = customer.deleted_at
            uow.customers.update(customer)
            uow.commit()
        return customer

    def _external_ids(self, uow: UnitOfWork, customer: Customer) -> tuple[str, ...]:
        """The external ids of the customer's subscriptions, any status."""
        statuses = (
            SUBSCRIPTION_ACTIVE,
            SUBSCRIPTION_PENDING,
            SUBSCRIPTION_TERMINATED,
            SUBSCRIPTION_CANCELED,
        )
        wanted = SubscriptionFilter(statuses, customer_id=customer.id)
        found: set[str] = set()
        page = 1
        while True:
            items, _ = uow.subscriptions.list(
                customer.organization_id, wanted, PageRequest(page, MAX_PER_PAGE)
            )
            found.update(s.external_id for s in items)
            if len(items) < MAX_PER_PAGE:
                return tuple(sorted(found))
            page += 1

    def _validated(self, values: Mapping[str, Any]) -> dict[str, Any]:
        errors = Errors()
        unknown = set(values) - EDITABLE_FIELDS
        for name in sorted(unknown):
            errors.add(name, "unknown_field")
        check_required_string(errors, "external_id", values.get("external_id"))
        changes = {k: v for k, v in values.items() if k in EDITABLE_FIELDS}
        if "currency" in changes:
            changes["currency"] = check_currency(
                errors, "currency", changes["currency"], self._currencies
            )
        check_timezone(errors, "timezone", changes.get("timezone"))
        country = changes.get("country")
        if country is not None:
            if isinstance(country, str) and len(country) == 2 and country.isalpha():
                changes["country"] = country.upper()
            else:
                errors.add("country", "country_code_invalid")
        for name in ("net_payment_term", "invoice_grace_period"):
            check_non_negative_int(errors, name, changes.get(name))
        fzai = changes.get("finalize_zero_amount_invoice", "inherit")
        if fzai not in FINALIZE_ZERO_AMOUNT_INVOICE:
            errors.add("finalize_zero_amount_invoice", "value_is_invalid")
        elif "finalize_zero_amount_invoice" in changes and fzai is None:
            changes["finalize_zero_amount_invoice"] = "inherit"
        if changes.get("customer_type") not in (None, *CUSTOMER_TYPES):
            errors.add("customer_type", "value_is_invalid")
        if "metadata" in changes:
            changes["metadata"] = _metadata(errors, changes["metadata"])
        if errors:
            raise ValidationFailed(errors.details)
        return changes


def _metadata(errors: Errors, value: Any) -> list[dict[str, Any]]:
    """Lago's key/value list; each entry gets a stable id the API shows as `lago_id`."""
    if value is None:
        return []
    if not isinstance(value, list):
        errors.add("metadata", "value_is_invalid")
        return []
    items = []
    for entry in value:
        if not isinstance(entry, Mapping) or not isinstance(entry.get("key"), str):
            errors.add("metadata", "value_is_invalid")
            continue
        items.append(
            {
                "id": str(uuid.uuid4()),
                "key": entry["key"],
                "value": None if entry.get("value") is None else str(entry["value"]),
                "display_in_invoice": bool(entry.get("display_in_invoice", False)),
            }
        )
    return items


def _apply(customer: Customer, changes: Mapping[str, Any]) -> None:
    for name, value in changes.items():
        if name != "external_id":
            setattr(customer, name, value)
