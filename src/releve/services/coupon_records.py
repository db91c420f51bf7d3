"""What coupons and add-ons store, and the repository ports their use cases talk to.

Field names equal the column names (`adapters/sql/tables_coupons.py`). Amounts are integer
minor units, rates `Decimal` percent, times aware UTC. An applied coupon carries its effective
terms (the coupon's, with the overrides given when it was applied) and its consumption state,
which only a finalized invoice changes.
"""

from __future__ import annotations

import builtins
from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Protocol
from uuid import UUID

from releve.domain.coupons import AppliedCoupon
from releve.services.billing_ports import BillingUnitOfWork
from releve.services.pagination import PageRequest

ACTIVE = "active"
TERMINATED = "terminated"


@dataclass(slots=True)
class CouponRecord:
    id: UUID
    organization_id: UUID
    code: str
    name: str
    coupon_type: str  # fixed_amount | percentage
    frequency: str  # once | recurring | forever
    reusable: bool
    expiration: str  # no_expiration | time_limit
    status: str
    created_at: datetime
    updated_at: datetime
    description: str | None = None
    amount_cents: int | None = None
    amount_currency: str | None = None
    percentage_rate: Decimal | None = None
    frequency_duration: int | None = None
    expiration_at: datetime | None = None
    plan_codes: list[str] = field(default_factory=list)
    billable_metric_codes: list[str] = field(default_factory=list)
    terminated_at: datetime | None = None
    deleted_at: datetime | None = None

    def applicable_at(self, moment: datetime) -> bool:
        """Whether it may still be applied to a customer (not terminated, not expired)."""
        if self.status != ACTIVE or self.deleted_at is not None:
            return False
        return self.expiration_at is None or moment < self.expiration_at


@dataclass(slots=True)
class AppliedCouponRecord:
    id: UUID
    organization_id: UUID
    coupon_id: UUID
    customer_id: UUID
    frequency: str
    status: str
    created_at: datetime
    updated_at: datetime
    amount_cents: int | None = None
    amount_currency: str | None = None
    percentage_rate: Decimal | None = None
    frequency_duration: int | None = None
    amount_cents_remaining: int | None = None
    frequency_duration_remaining: int | None = None
    terminated_at: datetime | None = None


@dataclass(slots=True)
class CouponCredit:
    """What one finalized invoice took from one applied coupon (Lago's `credits` item)."""

    id: UUID
    organization_id: UUID
    invoice_id: UUID
    applied_coupon_id: UUID
    coupon_code: str
    coupon_name: str
    amount_cents: int
    amount_currency: str
    created_at: datetime


@dataclass(slots=True)
class AddOn:
    id: UUID
    organization_id: UUID
    code: str
    name: str
    amount_cents: int
    amount_currency: str
    created_at: datetime
    updated_at: datetime
    tax_codes: list[str] = field(default_factory=list)
    invoice_display_name: str | None = None
    description: str | None = None
    deleted_at: datetime | None = None


@dataclass(slots=True)
class AddOnFee:
    fee_id: UUID
    organization_id: UUID
    invoice_id: UUID
    add_on_id: UUID
    description: str | None = None


@dataclass(frozen=True, slots=True)
class AppliedCouponFilter:
    customer_id: UUID | None = None
    status: str | None = None
    coupon_codes: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Consumption:
    """A compare-and-set of an applied coupon's state: `expected_*` is what the invoice was
    priced with; the write fails (returns False) if another transaction changed it first."""

    applied_coupon_id: UUID
    expected_amount_cents_remaining: int | None
    expected_frequency_duration_remaining: int | None
    amount_cents_remaining: int | None
    frequency_duration_remaining: int | None
    status: str


class CouponRepository(Protocol):
    def get(self, organization_id: UUID, code: str) -> CouponRecord | None:
        """A live (not deleted) coupon."""
        ...

    def by_ids(self, organization_id: UUID, ids: Collection[UUID]) -> dict[UUID, CouponRecord]:
        """Deleted coupons included: applied ones keep running."""
        ...

    def add(self, coupon: CouponRecord) -> None: ...
    def update(self, coupon: CouponRecord) -> None: ...
    def list(self, organization_id: UUID, page: PageRequest) -> tuple[list[CouponRecord], int]: ...
    def is_applied(self, coupon_id: UUID) -> bool: ...
    def applied_to_customer(self, coupon_id: UUID, customer_id: UUID) -> bool:
        """Whether this coupon was ever applied to this customer (any status)."""
        ...

    def add_applied(self, applied: AppliedCouponRecord) -> None: ...
    def update_applied(self, applied: AppliedCouponRecord) -> None: ...
    def get_applied(
        self, organization_id: UUID, applied_id: UUID
    ) -> AppliedCouponRecord | None: ...
    def list_applied(
        self, organization_id: UUID, filters: AppliedCouponFilter, page: PageRequest
    ) -> tuple[builtins.list[AppliedCouponRecord], int]: ...
    def active_for_invoice(
        self, organization_id: UUID, customer_id: UUID, currency: str
    ) -> builtins.list[AppliedCoupon]:
        """The customer's active applied coupons usable in `currency` (percentage ones, and
        fixed ones in that currency), as domain values with their coupon's limits."""
        ...

    def consume(self, change: Consumption, at: datetime) -> bool: ...
    def invoice_has_credits(self, invoice_id: UUID) -> bool: ...
    def add_credits(self, credits: Sequence[CouponCredit]) -> None: ...
    def credits_for(
        self, invoice_ids: Collection[UUID]
    ) -> dict[UUID, builtins.list[CouponCredit]]: ...
    def credits_of(
        self, applied_ids: Collection[UUID]
    ) -> dict[UUID, builtins.list[CouponCredit]]: ...


class AddOnRepository(Protocol):
    def get(self, organization_id: UUID, code: str) -> AddOn | None:
        """A live (not deleted) add-on."""
        ...

    def add(self, add_on: AddOn) -> None: ...
    def update(self, add_on: AddOn) -> None: ...
    def list(self, organization_id: UUID, page: PageRequest) -> tuple[list[AddOn], int]: ...
    def add_fees(self, fees: Sequence[AddOnFee]) -> None: ...
    def fees_for(self, invoice_ids: Collection[UUID]) -> dict[UUID, AddOnFee]:
        """fee id → its add-on details, for the add-on fees of these invoices."""
        ...


class CouponUnitOfWork(BillingUnitOfWork, Protocol):
    """The billing unit of work plus coupons and add-ons (the SQL unit of work has both)."""

    @property
    def coupons(self) -> CouponRepository: ...
    @property
    def add_ons(self) -> AddOnRepository: ...

    def __enter__(self) -> CouponUnitOfWork: ...


class CouponUnitOfWorkFactory(Protocol):
    def __call__(self, *, read_only: bool = False) -> CouponUnitOfWork: ...
