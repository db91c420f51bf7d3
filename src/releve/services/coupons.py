"""Coupons and applied coupons (Lago's `coupons`, `applied_coupons`)."""

from __future__ import annotations

from datetime import datetime

from releve.domain.coupons import AppliedCoupon, CouponsResult
from releve.services.billing_records import Invoice
from releve.services.ports import Clock, UnitOfWork, UnitOfWorkFactory
from releve.services.records import Customer


def invoice_coupons(
    uow: UnitOfWork, customer: Customer, currency: str, at: datetime
) -> tuple[AppliedCoupon, ...]:
    """The customer's active applied coupons an invoice in `currency` issued at `at` uses."""
    return ()


def settle_coupons(uow: UnitOfWork, invoice: Invoice, result: CouponsResult, now: datetime) -> None:
    """At finalization: persist what `invoice` consumed of its coupons. Does not commit."""
    return None


class CouponService:
    def __init__(self, uow: UnitOfWorkFactory, clock: Clock) -> None:
        self._uow = uow
        self._clock = clock
