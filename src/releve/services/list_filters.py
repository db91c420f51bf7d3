"""Query filters shared by the Lago list endpoints (invoices, fees, credit notes, coupons, …).

Each list reads its filters the same way, so a filter means the same on every endpoint: an
unknown `external_customer_id` matches nothing (an empty page, not a 404, as Lago), and a date
filter is an ISO date or an `invalid_date` error.
"""

from __future__ import annotations

from datetime import date
from uuid import UUID

from releve.services.ports import CustomerRepository
from releve.services.validation import Errors


def customer_filter(
    customers: CustomerRepository, organization_id: UUID, external_customer_id: str | None
) -> tuple[bool, UUID | None]:
    """`(known, customer_id)`: `customer_id` is None when no customer was asked for; `known` is
    False when the one asked for does not exist, so the caller answers an empty page."""
    if external_customer_id is None:
        return True, None
    customer = customers.get(organization_id, external_customer_id)
    if customer is None:
        return False, None
    return True, customer.id


def iso_date(errors: Errors, field: str, value: str | None) -> date | None:
    """A date filter (`2024-05-01`); anything else is recorded in `errors` as `invalid_date`."""
    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        errors.add(field, "invalid_date")
        return None
