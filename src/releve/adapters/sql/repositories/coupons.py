"""Coupons, applied coupons and coupon credits, per organization (never commits; the unit of
work does). Applied coupons become domain `AppliedCoupon` values here, where the currency
catalog (an adapter) is at hand."""

from __future__ import annotations

import builtins
from collections.abc import Collection, Sequence
from datetime import datetime
from decimal import Decimal
from uuid import UUID

import sqlalchemy as sa

from releve.adapters.currency_catalog import currency
from releve.adapters.sql.repositories.base import count_and_page, to_record, to_row
from releve.adapters.sql.tables_coupons import applied_coupons, coupon_credits, coupons
from releve.domain.coupons import (
    AppliedCoupon,
    AppliedCouponStatus,
    Coupon,
    CouponFrequency,
    CouponType,
)
from releve.services.coupon_records import (
    ACTIVE,
    TERMINATED,
    AppliedCouponFilter,
    AppliedCouponRecord,
    Consumption,
    CouponCredit,
    CouponRecord,
)
from releve.services.pagination import PageRequest


def _domain(applied: sa.Row[object], coupon: CouponRecord) -> AppliedCoupon:
    a = applied._mapping
    fixed = coupon.coupon_type == CouponType.FIXED_AMOUNT.value
    rate = a["percentage_rate"]
    return AppliedCoupon(
        id=str(a["id"]),
        coupon=Coupon(
            code=coupon.code,
            coupon_type=CouponType(coupon.coupon_type),
            frequency=CouponFrequency(a["frequency"]),
            amount_cents=a["amount_cents"] if fixed else None,
            currency=currency(a["amount_currency"]) if fixed else None,
            percentage_rate=Decimal(rate) if rate is not None and not fixed else None,
            frequency_duration=a["frequency_duration"],
            plan_codes=frozenset(coupon.plan_codes),
            billable_metric_codes=frozenset(coupon.billable_metric_codes),
        ),
        created_at=a["created_at"],
        amount_cents_remaining=a["amount_cents_remaining"],
        frequency_duration_remaining=a["frequency_duration_remaining"],
        status=AppliedCouponStatus(a["status"]),
    )


class SqlCouponRepository:
    def __init__(self, connection: sa.Connection) -> None:
        self._c = connection

    # --- coupons -----------------------------------------------------------------------------

    def get(self, organization_id: UUID, code: str) -> CouponRecord | None:
        row = self._c.execute(
            coupons.select().where(
                coupons.c.organization_id == organization_id,
                coupons.c.code == code,
                coupons.c.deleted_at.is_(None),
            )
        ).first()
        return to_record(CouponRecord, row) if row else None

    def by_ids(self, organization_id: UUID, ids: Collection[UUID]) -> dict[UUID, CouponRecord]:
        if not ids:
            return {}
        rows = self._c.execute(
            coupons.select().where(
                coupons.c.organization_id == organization_id, coupons.c.id.in_(list(ids))
            )
        )
        return {r.id: to_record(CouponRecord, r) for r in rows}

    def add(self, coupon: CouponRecord) -> None:
        self._c.execute(coupons.insert().values(**to_row(coupon)))

    def update(self, coupon: CouponRecord) -> None:
        values = to_row(coupon)
        del values["id"]
        self._c.execute(coupons.update().where(coupons.c.id == coupon.id).values(**values))

    def list(self, organization_id: UUID, page: PageRequest) -> tuple[list[CouponRecord], int]:
        query = (
            coupons.select()
            .where(coupons.c.organization_id == organization_id, coupons.c.deleted_at.is_(None))
            .order_by(coupons.c.created_at.desc(), coupons.c.code)
        )
        rows, total = count_and_page(self._c, query, page.offset, page.per_page)
        return [to_record(CouponRecord, r) for r in rows], total

    def is_applied(self, coupon_id: UUID) -> bool:
        return (
            self._c.execute(
                sa.select(applied_coupons.c.id).where(applied_coupons.c.coupon_id == coupon_id)
            ).first()
            is not None
        )

    def applied_to_customer(self, coupon_id: UUID, customer_id: UUID) -> bool:
        return (
            self._c.execute(
                sa.select(applied_coupons.c.id).where(
                    applied_coupons.c.coupon_id == coupon_id,
                    applied_coupons.c.customer_id == customer_id,
                )
            ).first()
            is not None
        )

    # --- applied coupons ---------------------------------------------------------------------

    def add_applied(self, applied: AppliedCouponRecord) -> None:
        self._c.execute(applied_coupons.insert().values(**to_row(applied)))

    def update_applied(self, applied: AppliedCouponRecord) -> None:
        values = to_row(applied)
        del values["id"]
        self._c.execute(
            applied_coupons.update().where(applied_coupons.c.id == applied.id).values(**values)
        )

    def get_applied(self, organization_id: UUID, applied_id: UUID) -> AppliedCouponRecord | None:
        row = self._c.execute(
            applied_coupons.select().where(
                applied_coupons.c.organization_id == organization_id,
                applied_coupons.c.id == applied_id,
            )
        ).first()
        return to_record(AppliedCouponRecord, row) if row else None

    def list_applied(
        self, organization_id: UUID, filters: AppliedCouponFilter, page: PageRequest
    ) -> tuple[builtins.list[AppliedCouponRecord], int]:
        query = applied_coupons.select().where(applied_coupons.c.organization_id == organization_id)
        if filters.customer_id is not None:
            query = query.where(applied_coupons.c.customer_id == filters.customer_id)
        if filters.status is not None:
            query = query.where(applied_coupons.c.status == filters.status)
        if filters.coupon_codes:
            ids = sa.select(coupons.c.id).where(
                coupons.c.organization_id == organization_id,
                coupons.c.code.in_(filters.coupon_codes),
            )
            query = query.where(applied_coupons.c.coupon_id.in_(ids))
        query = query.order_by(applied_coupons.c.created_at.desc(), applied_coupons.c.id)
        rows, total = count_and_page(self._c, query, page.offset, page.per_page)
        return [to_record(AppliedCouponRecord, r) for r in rows], total

    def active_for_invoice(
        self, organization_id: UUID, customer_id: UUID, currency_code: str
    ) -> builtins.list[AppliedCoupon]:
        rows = list(
            self._c.execute(
                applied_coupons.select()
                .where(
                    applied_coupons.c.organization_id == organization_id,
                    applied_coupons.c.customer_id == customer_id,
                    applied_coupons.c.status == ACTIVE,
                    sa.or_(
                        applied_coupons.c.amount_currency.is_(None),
                        applied_coupons.c.amount_currency == currency_code,
                    ),
                )
                .order_by(applied_coupons.c.created_at, applied_coupons.c.id)
            )
        )
        by_id = self.by_ids(organization_id, {r.coupon_id for r in rows})
        return [_domain(r, by_id[r.coupon_id]) for r in rows]

    def consume(self, change: Consumption, at: datetime) -> bool:
        """Compare-and-set: on PostgreSQL a concurrent writer blocks this UPDATE, which then
        re-checks the condition on the committed row and matches nothing."""
        c = applied_coupons.c
        condition = [
            c.id == change.applied_coupon_id,
            c.status == ACTIVE,
            c.amount_cents_remaining.is_(None)
            if change.expected_amount_cents_remaining is None
            else c.amount_cents_remaining == change.expected_amount_cents_remaining,
            c.frequency_duration_remaining.is_(None)
            if change.expected_frequency_duration_remaining is None
            else c.frequency_duration_remaining == change.expected_frequency_duration_remaining,
        ]
        result = self._c.execute(
            applied_coupons.update()
            .where(*condition)
            .values(
                amount_cents_remaining=change.amount_cents_remaining,
                frequency_duration_remaining=change.frequency_duration_remaining,
                status=change.status,
                terminated_at=at if change.status == TERMINATED else None,
                updated_at=at,
            )
        )
        return result.rowcount == 1

    # --- credits -----------------------------------------------------------------------------

    def invoice_has_credits(self, invoice_id: UUID) -> bool:
        return (
            self._c.execute(
                sa.select(coupon_credits.c.id).where(coupon_credits.c.invoice_id == invoice_id)
            ).first()
            is not None
        )

    def add_credits(self, credits: Sequence[CouponCredit]) -> None:
        if credits:
            self._c.execute(coupon_credits.insert(), [to_row(c) for c in credits])

    def _credits(
        self, column: sa.Column[UUID], ids: Collection[UUID]
    ) -> dict[UUID, builtins.list[CouponCredit]]:
        found: dict[UUID, builtins.list[CouponCredit]] = {i: [] for i in ids}
        if not ids:
            return found
        rows = self._c.execute(
            coupon_credits.select()
            .where(column.in_(list(ids)))
            .order_by(coupon_credits.c.created_at, coupon_credits.c.id)
        )
        for row in rows:
            found[row._mapping[column.name]].append(to_record(CouponCredit, row))
        return found

    def credits_for(self, invoice_ids: Collection[UUID]) -> dict[UUID, builtins.list[CouponCredit]]:
        return self._credits(coupon_credits.c.invoice_id, invoice_ids)

    def credits_of(self, applied_ids: Collection[UUID]) -> dict[UUID, builtins.list[CouponCredit]]:
        return self._credits(coupon_credits.c.applied_coupon_id, applied_ids)
