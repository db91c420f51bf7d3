"""Request bodies (pydantic, only at the API edge). Unknown Lago fields are ignored, as Lago does.

Event fields are typed loosely on purpose: the ingestion service validates each event itself so
a batch reports every problem by index in one response ({"0": {"timestamp": ["invalid_format"]}}).
"""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field

Str255 = Annotated[str, Field(max_length=255)]


class _Input(BaseModel):
    model_config = ConfigDict(extra="ignore")


class EventIn(_Input):
    model_config = ConfigDict(extra="allow")
    transaction_id: Any = Field(None, description="Idempotency key, unique per organization.")
    external_subscription_id: Any = Field(None, description="The subscription's external id.")
    code: Any = Field(None, description="Billable metric code.")
    timestamp: Any = Field(
        None,
        description="Unix seconds (int, decimal or numeric string) or ISO 8601 with an offset; "
        "default: reception time.",
    )
    properties: Any = Field(None, description="Free-form object; numbers are kept exact.")
    precise_total_amount_cents: Any = Field(None, description="Decimal string (dynamic model).")


class EventBody(BaseModel):
    event: EventIn


class EventBatchBody(BaseModel):
    events: list[Any] = Field(description="At most 100 events, all stored or none.")


class MetadataIn(_Input):
    key: Str255
    value: str | None = None
    display_in_invoice: bool | None = None


class BillingConfigurationIn(_Input):
    invoice_grace_period: int | None = Field(None, ge=0)


class CustomerIn(_Input):
    external_id: Str255
    name: Str255 | None = None
    firstname: Str255 | None = None
    lastname: Str255 | None = None
    email: Str255 | None = None
    phone: Annotated[str, Field(max_length=64)] | None = None
    url: Annotated[str, Field(max_length=1024)] | None = None
    logo_url: Annotated[str, Field(max_length=1024)] | None = None
    customer_type: str | None = None
    currency: str | None = None
    timezone: str | None = None
    country: str | None = None
    address_line1: Str255 | None = None
    address_line2: Str255 | None = None
    city: Str255 | None = None
    state: Str255 | None = None
    zipcode: Annotated[str, Field(max_length=32)] | None = None
    legal_name: Str255 | None = None
    legal_number: Str255 | None = None
    tax_identification_number: Str255 | None = None
    net_payment_term: int | None = Field(None, ge=0)
    finalize_zero_amount_invoice: str | None = None
    billing_configuration: BillingConfigurationIn | None = None
    metadata: list[MetadataIn] | None = None


class CustomerBody(BaseModel):
    customer: CustomerIn


class TaxIn(_Input):
    name: Str255 | None = None
    code: Str255 | None = None
    rate: Decimal | None = Field(None, description='Percent, e.g. 20 or "20.5".')
    description: str | None = None
    applied_to_organization: bool | None = None


class TaxBody(BaseModel):
    tax: TaxIn


class MetricFilterIn(_Input):
    key: Str255
    values: list[Str255]


class BillableMetricIn(_Input):
    name: Str255 | None = None
    code: Str255 | None = None
    description: str | None = None
    aggregation_type: str | None = None
    field_name: Str255 | None = None
    recurring: bool | None = None
    expression: str | None = None
    rounding_function: str | None = None
    rounding_precision: int | None = None
    weighted_interval: str | None = None
    filters: list[MetricFilterIn] | None = None
    percentile: Decimal | None = Field(None, description="percentile_agg only: 0 < p ≤ 100.")
    footprint_per_unit: Decimal | None = Field(None, description="e.g. kgCO2e per unit.")
    footprint_unit: Annotated[str, Field(max_length=32)] | None = None


class BillableMetricBody(BaseModel):
    billable_metric: BillableMetricIn
