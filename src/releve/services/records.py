"""What the stores keep, as plain typed records the services read and write.

Field names equal the column names, so repositories map rows without a translation table.
Amounts and rates are `Decimal`, times are aware UTC datetimes, ids are UUIDs.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any, NamedTuple
from uuid import UUID

from releve.domain import metering
from releve.domain.plans import Plan

EVENT_MATCHED = "matched"
EVENT_UNMATCHED = "unmatched"
# Why an event is unmatched (checked in this order):
UNKNOWN_METRIC_CODE = "unknown_metric_code"  # no live billable metric has its code
UNKNOWN_SUBSCRIPTION = "unknown_subscription"  # no subscription ever had its external id
OUTSIDE_SUBSCRIPTION = "outside_subscription"  # none was active at its timestamp
# ...or the metric cannot read its value (`missing_aggregation_property`, `invalid_value`...).

SUBSCRIPTION_PENDING = "pending"
SUBSCRIPTION_ACTIVE = "active"
SUBSCRIPTION_TERMINATED = "terminated"
SUBSCRIPTION_CANCELED = "canceled"


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

    def to_domain(self) -> metering.BillableMetric:
        """The domain metric (what aggregations and plans read)."""
        return metering.BillableMetric.from_lago(
            {
                "code": self.code,
                "name": self.name,
                "aggregation_type": self.aggregation_type,
                "field_name": self.field_name,
                "recurring": self.recurring,
                "expression": self.expression,
                "rounding_function": self.rounding_function,
                "rounding_precision": self.rounding_precision,
                "weighted_interval": self.weighted_interval,
                "filters": self.filters,
                "percentile": self.percentile,
            }
        )


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
    subscription_id: UUID | None = None  # the subscription it was matched to


@dataclass(slots=True)
class StoredPlan:
    """A plan as stored: the domain `Plan` (charges, filters, metrics) and its bookkeeping."""

    plan: Plan
    organization_id: UUID
    created_at: datetime
    updated_at: datetime
    deleted_at: datetime | None = None
    public: bool = False  # Relevé extension: offered for comparison in the customer portal

    @property
    def id(self) -> UUID:
        return UUID(self.plan.id)


@dataclass(slots=True)
class Subscription:
    """One row of an external id's subscription chain (an upgrade starts a new row).

    `started_at` is set when it becomes active; `terminated_at` when it ends. An event with this
    external id belongs to it when ``started_at <= timestamp < terminated_at`` (open-ended while
    active).
    """

    id: UUID
    organization_id: UUID
    customer_id: UUID
    plan_id: UUID
    external_id: str
    status: str
    billing_time: str
    subscription_at: datetime
    created_at: datetime
    updated_at: datetime
    name: str | None = None
    started_at: datetime | None = None
    ending_at: datetime | None = None
    terminated_at: datetime | None = None
    canceled_at: datetime | None = None
    trial_ended_at: datetime | None = None
    previous_subscription_id: UUID | None = None
    next_subscription_id: UUID | None = None
    downgrade_plan_date: date | None = None
    on_termination_credit_note: str | None = None
    on_termination_invoice: str = "generate"

    def active_at(self, moment: datetime) -> bool:
        return (
            self.started_at is not None
            and self.started_at <= moment
            and (self.terminated_at is None or moment < self.terminated_at)
        )


@dataclass(frozen=True, slots=True)
class AggregateKey:
    """Where one hour of one bucket's usage is kept (`bucket` is a serialized BucketKey)."""

    subscription_id: UUID
    charge_id: UUID
    bucket: str
    hour_start: datetime


@dataclass(frozen=True, slots=True)
class UsageAggregate:
    """The dumped aggregate state (`Aggregator.dump_state`) of one key."""

    key: AggregateKey
    state: dict[str, Any]
    events_count: int


class StateRow(NamedTuple):
    """Which hourly (`daily` false) or daily row a state text is, as the bill run's pre-read
    needs it to merge (it reads each row once: no version)."""

    daily: bool
    charge_id: UUID
    bucket: str
    start: datetime


class StateVersion(NamedTuple):
    """Which version of one hourly (`daily` false) or daily row the store holds, without its
    state: every write sets `updated_at` and an added event bumps `events_count`, so the reader
    keys what it decoded and merged by these instead of by the (large) state text. A named
    tuple: the reader lists a few hundred per call."""

    daily: bool
    charge_id: UUID
    bucket: str
    start: datetime
    updated_at: datetime
    events_count: int
