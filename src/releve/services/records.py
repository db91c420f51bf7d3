"""What the stores keep, as plain typed records the services read and write.

Field names equal the column names, so repositories map rows without a translation table.
Amounts and rates are `Decimal`, times are aware UTC datetimes, ids are UUIDs.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any
from uuid import UUID

EVENT_MATCHED = "matched"
EVENT_UNMATCHED = "unmatched"
UNKNOWN_METRIC_CODE = "unknown_metric_code"


@dataclass(slots=True)
class Organization:
    id: UUID
    name: str
    default_currency: str
    timezone: str
    webhook_hmac_key: str
    portal_secret: str
    invoice_grace_period: int
    net_payment_term: int
    is_default: bool
    created_at: datetime
    updated_at: datetime


@dataclass(slots=True)
class ApiKey:
    id: UUID
    organization_id: UUID
    key_hash: str  # sha256 hex of the key; the key itself is never stored
    prefix: str  # shown in lists so people can tell keys apart
    created_at: datetime
    revoked_at: datetime | None = None


@dataclass(slots=True)
class Customer:
    id: UUID
    organization_id: UUID
    external_id: str
    sequential_id: int
    created_at: datetime
    updated_at: datetime
    name: str | None = None
    firstname: str | None = None
    lastname: str | None = None
    email: str | None = None
    phone: str | None = None
    url: str | None = None
    logo_url: str | None = None
    customer_type: str | None = None
    currency: str | None = None
    timezone: str | None = None
    country: str | None = None
    address_line1: str | None = None
    address_line2: str | None = None
    city: str | None = None
    state: str | None = None
    zipcode: str | None = None
    legal_name: str | None = None
    legal_number: str | None = None
    tax_identification_number: str | None = None
    net_payment_term: int | None = None
    invoice_grace_period: int | None = None
    finalize_zero_amount_invoice: str = "inherit"
    metadata: list[dict[str, Any]] = field(default_factory=list)
    deleted_at: datetime | None = None


@dataclass(slots=True)
class Tax:
    id: UUID
    organization_id: UUID
    code: str
    name: str
    rate: Decimal  # percent: Decimal("20") is 20 %
    applied_to_organization: bool
    created_at: datetime
    updated_at: datetime
    description: str | None = None


@dataclass(slots=True)
class BillableMetric:
    id: UUID
    organization_id: UUID
    code: str
    name: str
    aggregation_type: str
    recurring: bool
    created_at: datetime
    updated_at: datetime
    description: str | None = None
    field_name: str | None = None
    expression: str | None = None
    rounding_function: str | None = None
    rounding_precision: int | None = None
    weighted_interval: str | None = None
    filters: list[dict[str, Any]] = field(default_factory=list)
    percentile: Decimal | None = None  # our extension, for percentile_agg (0 < p ≤ 100)
    footprint_per_unit: Decimal | None = None  # our extension: e.g. kgCO2e per unit
    footprint_unit: str | None = None
    deleted_at: datetime | None = None


@dataclass(slots=True)
class StoredEvent:
    id: UUID
    organization_id: UUID
    transaction_id: str
    external_subscription_id: str
    code: str
    timestamp: datetime
    properties: dict[str, Any]
    payload_hash: str
    created_at: datetime
    status: str
    precise_total_amount_cents: Decimal | None = None
    unmatched_reason: str | None = None
