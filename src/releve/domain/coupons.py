"""Coupons: pre-tax discounts, applied in Lago's order and spread exactly over their fees.

Order (Lago `Credits::AppliedCouponsService`): coupons limited to billable metrics first, then
coupons limited to plans, then unlimited coupons; oldest applied coupon first within a group.
Each coupon sees the base left by the coupons before it, so a percentage coupon applied after a
fixed one discounts the reduced base.

Amounts are integer minor units of the invoice currency. A percentage discount is rounded once,
half-up by default (design.md §3). Each coupon's amount is allocated over its eligible fees in
proportion to their remaining base (largest remainder), so per-fee shares add up exactly to the
coupon and never exceed a fee's base.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from decimal import Decimal

from releve.domain.errors import DomainError
from releve.domain.fee_lines import FeeLine, FeeType
from releve.domain.money import Currency, Rounding, allocate


class InvalidCoupon(DomainError):
    """A coupon or applied coupon is inconsistent."""

    code = "invalid_coupon"


class CouponType(enum.Enum):
    FIXED_AMOUNT = "fixed_amount"
    PERCENTAGE = "percentage"


class CouponFrequency(enum.Enum):
    ONCE = "once"  # one invoice (a fixed amount may be used up over several, see below)
    RECURRING = "recurring"  # `frequency_duration` invoices
    FOREVER = "forever"


class CouponScope(enum.IntEnum):
    """Application group; the integer value is the order in which groups apply."""

    BILLABLE_METRICS = 0
    PLANS = 1
    ALL = 2


@dataclass(frozen=True, slots=True)
class Coupon:
    """A coupon definition (with any per-customer overrides already merged by the caller).

    Fixed coupons carry `amount_cents` (minor units) and `currency`; percentage coupons carry
    `percentage_rate` (Decimal percent, 0–100). `plan_codes` and `billable_metric_codes` limit
    the fees the coupon applies to; Lago allows one kind of limit per coupon, not both.
    """

    code: str
    coupon_type: CouponType
    frequency: CouponFrequency = CouponFrequency.ONCE
    amount_cents: int | None = None
    currency: Currency | None = None
    percentage_rate: Decimal | None = None
    frequency_duration: int | None = None
    plan_codes: frozenset[str] = frozenset()
    billable_metric_codes: frozenset[str] = frozenset()

    def __post_init__(self) -> None:
        if self.coupon_type is CouponType.FIXED_AMOUNT:
            if self.amount_cents is None or self.amount_cents < 0 or self.currency is None:
                raise InvalidCoupon(
                    "a fixed coupon needs amount_cents ≥ 0 and a currency", field="amount_cents"
                )
        else:
            rate = self.percentage_rate
            if not isinstance(rate, Decimal) or not Decimal(0) <= rate <= Decimal(100):
                raise InvalidCoupon(
                    "a percentage coupon needs a Decimal rate between 0 and 100",
                    field="percentage_rate",
                )
        if self.frequency is CouponFrequency.RECURRING and (
            self.frequency_duration is None or self.frequency_duration < 1
        ):
            raise InvalidCoupon(
                "a recurring coupon needs frequency_duration ≥ 1", field="frequency_duration"
            )
        if self.plan_codes and self.billable_metric_codes:
            raise InvalidCoupon(
                "a coupon is limited to plans or to billable metrics, not both", field="applies_to"
            )

    @property
    def scope(self) -> CouponScope:
        if self.billable_metric_codes:
            return CouponScope.BILLABLE_METRICS
        if self.plan_codes:
            return CouponScope.PLANS
        return CouponScope.ALL

    def applies_to(self, fee: FeeLine) -> bool:
        """Whether the coupon may discount this fee. Credit purchases are never discounted."""
        if fee.fee_type is FeeType.CREDIT:
            return False
        if self.billable_metric_codes:
            return fee.billable_metric_code in self.billable_metric_codes
        if self.plan_codes:
            return fee.plan_code in self.plan_codes
        return True


class AppliedCouponStatus(enum.Enum):
    ACTIVE = "active"
    TERMINATED = "terminated"


@dataclass(frozen=True, slots=True)
class AppliedCoupon:
    """A coupon applied to a customer, with its consumption state.

    - `amount_cents_remaining`: for a `once` fixed coupon, what is left to use (minor units).
    - `frequency_duration_remaining`: for a `recurring` coupon, invoices left.
    Use `AppliedCoupon.new` to start from the coupon's full amount and duration.
    """

    id: str
    coupon: Coupon
    created_at: datetime
    amount_cents_remaining: int | None = None
    frequency_duration_remaining: int | None = None
    status: AppliedCouponStatus = AppliedCouponStatus.ACTIVE

    def __post_init__(self) -> None:
        if self.created_at.tzinfo is None or self.created_at.utcoffset() is None:
            raise ValueError("AppliedCoupon.created_at must be timezone-aware")
        fixed_once = (
            self.coupon.coupon_type is CouponType.FIXED_AMOUNT
            and self.coupon.frequency is CouponFrequency.ONCE
        )
        if fixed_once and (self.amount_cents_remaining is None or self.amount_cents_remaining < 0):
            raise InvalidCoupon(
                "a once fixed coupon needs amount_cents_remaining ≥ 0",
                field="amount_cents_remaining",
            )
        if self.coupon.frequency is CouponFrequency.RECURRING and (
            self.frequency_duration_remaining is None or self.frequency_duration_remaining < 0
        ):
            raise InvalidCoupon(
                "a recurring coupon needs frequency_duration_remaining ≥ 0",
                field="frequency_duration_remaining",
            )

    @classmethod
    def new(cls, id: str, coupon: Coupon, created_at: datetime) -> AppliedCoupon:
        """A fresh application: full amount, full duration."""
        return cls(
            id=id,
            coupon=coupon,
            created_at=created_at,
            amount_cents_remaining=coupon.amount_cents
            if coupon.coupon_type is CouponType.FIXED_AMOUNT
            else None,
            frequency_duration_remaining=coupon.frequency_duration
            if coupon.frequency is CouponFrequency.RECURRING
            else None,
        )

    @property
    def is_active(self) -> bool:
        if self.status is AppliedCouponStatus.TERMINATED:
            return False
        if self.coupon.frequency is CouponFrequency.RECURRING:
            return (self.frequency_duration_remaining or 0) > 0
        return True


@dataclass(frozen=True, slots=True)
class CouponApplication:
    """One coupon's discount on this invoice: its amount and its exact share per fee id."""

    applied_coupon_id: str
    coupon_code: str
    amount_cents: int
    fee_shares: Mapping[str, int]


@dataclass(frozen=True, slots=True)
class CouponsResult:
    """Discounts of every applied coupon, and the coupons' state after this invoice.

    `updated` lists every input coupon (in application order) with its new state; the caller
    persists it only when the invoice is finalized.
    """

    applications: tuple[CouponApplication, ...]
    updated: tuple[AppliedCoupon, ...]
    fee_discounts: Mapping[str, int] = field(default_factory=dict)

    @property
    def amount_cents(self) -> int:
        return sum(a.amount_cents for a in self.applications)


def application_order(applied_coupons: Sequence[AppliedCoupon]) -> list[AppliedCoupon]:
    """Lago's order: metric-limited, then plan-limited, then unlimited; oldest first in each."""
    return sorted(applied_coupons, key=lambda ac: (ac.coupon.scope, ac.created_at, ac.id))


def _discount(
    applied: AppliedCoupon, base: int, currency: Currency, rounding: Rounding
) -> int | None:
    """The coupon's amount on an eligible base, or None when it cannot apply."""
    coupon = applied.coupon
    if coupon.coupon_type is CouponType.PERCENTAGE:
        assert coupon.percentage_rate is not None
        exact = Decimal(base) * coupon.percentage_rate / Decimal(100)
        return int(exact.quantize(Decimal(1), rounding=rounding.decimal_mode))
    if coupon.currency != currency:
        return None  # Lago: a fixed coupon only applies to invoices in its currency
    if coupon.frequency is CouponFrequency.ONCE:
        assert applied.amount_cents_remaining is not None
        available = applied.amount_cents_remaining
    else:
        assert coupon.amount_cents is not None
        available = coupon.amount_cents
    return min(available, base)


def _after_use(applied: AppliedCoupon, amount: int) -> AppliedCoupon:
    coupon = applied.coupon
    if coupon.frequency is CouponFrequency.FOREVER:
        return applied
    if coupon.frequency is CouponFrequency.RECURRING:
        assert applied.frequency_duration_remaining is not None
        left = applied.frequency_duration_remaining - 1
        status = AppliedCouponStatus.TERMINATED if left <= 0 else AppliedCouponStatus.ACTIVE
        return replace(applied, frequency_duration_remaining=left, status=status)
    if coupon.coupon_type is CouponType.PERCENTAGE:
        return replace(applied, status=AppliedCouponStatus.TERMINATED)
    assert applied.amount_cents_remaining is not None
    remaining = applied.amount_cents_remaining - amount
    status = AppliedCouponStatus.TERMINATED if remaining == 0 else AppliedCouponStatus.ACTIVE
    return replace(applied, amount_cents_remaining=remaining, status=status)


def apply_coupons(
    fees: Sequence[FeeLine],
    bases: Mapping[str, int],
    applied_coupons: Sequence[AppliedCoupon],
    currency: Currency,
    rounding: Rounding = Rounding.HALF_UP,
) -> CouponsResult:
    """Apply coupons to fees whose discountable base (minor units, by fee id) is `bases`.

    `bases` is each fee's amount after progressive-billing credits. A coupon whose eligible
    fees have a zero base, or whose discount rounds to 0, is not applied and keeps its state
    (Lago: no coupon on a zero invoice; a recurring coupon's duration is only used by invoices
    it discounts). Only active coupons apply; inactive ones are returned unchanged.
    """
    remaining = {fee.id: bases[fee.id] for fee in fees}
    discounts = dict.fromkeys(remaining, 0)
    applications: list[CouponApplication] = []
    updated: list[AppliedCoupon] = []
    for applied in application_order(applied_coupons):
        eligible = [f.id for f in fees if applied.coupon.applies_to(f) and remaining[f.id] > 0]
        base = sum(remaining[i] for i in eligible)
        amount = _discount(applied, base, currency, rounding) if applied.is_active else None
        if not amount:
            # Nothing to discount (zero base, rounds to 0, or wrong currency): the coupon is
            # not consumed, so a `once` coupon is not burnt on an invoice it did not reduce.
            updated.append(applied)
            continue
        # Integer weights and amount ≤ base: each share ≤ that fee's remaining base.
        shares = allocate(amount, [remaining[i] for i in eligible])
        for fee_id, share in zip(eligible, shares, strict=True):
            remaining[fee_id] -= share
            discounts[fee_id] += share
        applications.append(
            CouponApplication(
                applied_coupon_id=applied.id,
                coupon_code=applied.coupon.code,
                amount_cents=amount,
                fee_shares={i: s for i, s in zip(eligible, shares, strict=True) if s},
            )
        )
        updated.append(_after_use(applied, amount))
    return CouponsResult(
        applications=tuple(applications), updated=tuple(updated), fee_discounts=discounts
    )
