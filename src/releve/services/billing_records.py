"""What billing stores: invoices, their fees, applied taxes and billed subscription periods.

Field names equal the column names (`adapters/sql/tables_billing.py`). Amounts are integer minor
units of the invoice currency; precise amounts, units and rates are `Decimal`; times are aware
UTC datetimes; `issuing_date` / `payment_due_date` are dates on the customer's calendar.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any
from uuid import UUID

INVOICE_DRAFT = "draft"
INVOICE_FINALIZED = "finalized"
INVOICE_VOIDED = "voided"
INVOICE_DELETED = "deleted"  # a draft deleted through the API; its period stays billed
# Lago's internal `closed`: a period that was processed but shows no invoice (no fee at all, or
# a zero total the customer/organization chose to skip). Never listed; keeps the period billed.
INVOICE_CLOSED = "closed"
VISIBLE_STATUSES = (INVOICE_DRAFT, INVOICE_FINALIZED, INVOICE_VOIDED)

PAYMENT_PENDING = "pending"
PAYMENT_SUCCEEDED = "succeeded"
PAYMENT_FAILED = "failed"
PAYMENT_STATUSES = (PAYMENT_PENDING, PAYMENT_SUCCEEDED, PAYMENT_FAILED)

INVOICE_TYPES = ("subscription", "one_off", "progressive_billing", "credit", "add_on")
INVOICE_VERSION = 4  # Lago v4 subtotals: excl. = fees − progressive − coupons; incl. = + taxes


@dataclass(slots=True)
class Invoice:
    id: UUID
    organization_id: UUID
    customer_id: UUID
    invoice_type: str
    status: str
    payment_status: str
    currency: str
    issuing_date: date
    payment_due_date: date
    net_payment_term: int
    fees_amount_cents: int
    coupons_amount_cents: int
    progressive_billing_credit_amount_cents: int
    sub_total_excluding_taxes_amount_cents: int
    taxes_amount_cents: int
    sub_total_including_taxes_amount_cents: int
    credit_notes_amount_cents: int
    prepaid_credit_amount_cents: int
    prepaid_granted_credit_amount_cents: int
    prepaid_purchased_credit_amount_cents: int
    total_amount_cents: int
    taxes_rate: Decimal
    created_at: datetime
    updated_at: datetime
    version_number: int = INVOICE_VERSION
    metadata: list[dict[str, Any]] = field(default_factory=list)
    sequential_id: int | None = None
    number: str | None = None
    finalized_at: datetime | None = None
    voided_at: datetime | None = None


@dataclass(slots=True)
class InvoiceSubscription:
    """One subscription period an invoice bills; unique per (subscription, kind, period_start)."""

    invoice_id: UUID
    subscription_id: UUID
    organization_id: UUID
    kind: str
    invoicing_reason: str
    period_start: datetime
    boundary: datetime
    created_at: datetime
    from_datetime: datetime | None = None
    to_datetime: datetime | None = None
    charges_from_datetime: datetime | None = None
    charges_to_datetime: datetime | None = None


@dataclass(slots=True)
class Fee:
    id: UUID
    organization_id: UUID
    invoice_id: UUID
    position: int
    fee_type: str
    item_type: str
    item_code: str
    item_name: str
    amount_cents: int
    amount_currency: str
    precise_amount: Decimal
    progressive_billing_credit_amount_cents: int
    coupons_amount_cents: int
    sub_total_excluding_taxes_amount_cents: int
    taxes_amount_cents: int
    taxes_precise_amount: Decimal
    taxes_rate: Decimal
    total_amount_cents: int
    units: Decimal
    total_aggregated_units: Decimal
    events_count: int
    from_datetime: datetime
    to_datetime: datetime
    explanation: str
    payment_status: str
    created_at: datetime
    subscription_id: UUID | None = None
    charge_id: UUID | None = None
    charge_filter_id: UUID | None = None
    true_up_parent_fee_id: UUID | None = None
    item_id: str | None = None
    invoice_display_name: str | None = None
    filter_invoice_display_name: str | None = None
    precise_unit_amount: Decimal | None = None
    amount_details: dict[str, Any] = field(default_factory=dict)
    grouped_by: dict[str, Any] = field(default_factory=dict)
    filter_values: dict[str, list[str]] | None = None
    applied_taxes: list[dict[str, Any]] = field(default_factory=list)
    pay_in_advance: bool = False


@dataclass(slots=True)
class AppliedTax:
    id: UUID
    organization_id: UUID
    invoice_id: UUID
    position: int
    tax_code: str
    tax_name: str
    tax_rate: Decimal
    amount_cents: int
    base_amount_cents: int
    created_at: datetime
    tax_id: UUID | None = None
