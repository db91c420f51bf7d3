"""Coupons and applied coupons (Lago's `coupons`, `applied_coupons`), and the two hooks that
make every subscription invoice use them.

- `invoice_coupons`: the customer's active applied coupons an invoice prices with (drafts and
  refreshes too); the domain (`invoicing.compute_invoice_totals`) orders and applies them.
- `settle_coupons`: at finalization only, the consumed state (remaining amount, remaining
  periods, terminated when used up) is written with a compare-and-set, and one `coupon_credits`
  row per coupon records what the invoice took — so a refreshed draft never consumes, a second
  settle of the same invoice is a no-op, and a concurrent finalization retries with fresh state.

Deleting a coupon terminates it: nobody can apply it any more, while applied coupons keep
running (as Lago). Another organization's coupon, customer or applied coupon is not found.
"""

from __future__ import annotations

import builtins
import uuid
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast
from uuid import UUID

from releve.domain.coupons import AppliedCoupon, CouponsResult
from releve.services.billing_records import Invoice
from releve.services.coupon_input import (
    check_coupon_terms,
    coupon_values,
    override_values,
)
from releve.services.coupon_records import (
    ACTIVE,
    TERMINATED,
    AppliedCouponFilter,
    AppliedCouponRecord,
    Consumption,
    CouponCredit,
    CouponRecord,
    CouponUnitOfWork,
    CouponUnitOfWorkFactory,
)
from releve.services.errors import NotFound, StoreConflict, ValidationFailed
from releve.services.list_filters import customer_filter
from releve.services.pagination import Page, PageRequest
from releve.services.ports import Clock, CurrencyCatalog, UnitOfWork, UnitOfWorkFactory
from releve.services.records import Customer
from releve.services.transactions import retry_on_conflict

# Terms that may change only while nobody has the coupon (Lago's Coupons::UpdateService).
LOCKED_ONCE_APPLIED = (
    "code",
    "coupon_type",
    "amount_cents",
    "amount_currency",
    "percentage_rate",
    "frequency",
    "frequency_duration",
    "reusable",
    "plan_codes",
    "billable_metric_codes",
)


def invoice_coupons(
    uow: UnitOfWork, customer: Customer, currency: str, at: datetime
) -> tuple[AppliedCoupon, ...]:
    """The customer's active applied coupons an invoice in `currency` issued at `at` uses.

    Every coupon active when the invoice is priced counts — one applied during a draft's grace
    period too, on its next refresh (Lago). Fixed coupons in another currency are left out.
    """
    coupons = cast(CouponUnitOfWork, uow).coupons
    return tuple(coupons.active_for_invoice(customer.organization_id, customer.id, currency))


def settle_coupons(uow: UnitOfWork, invoice: Invoice, result: CouponsResult, now: datetime) -> None:
    """At finalization: persist what `invoice` consumed of its coupons. Does not commit.

    Idempotent per invoice; raises StoreConflict (the caller retries) when another transaction
    consumed one of the coupons since this invoice was priced.
    """
    if not result.applications:
        return
    repo = cast(CouponUnitOfWork, uow).coupons
    if repo.invoice_has_credits(invoice.id):
        return
    after = {a.id: a for a in result.updated}
    credits = []
    for application in result.applications:
        new = after[application.applied_coupon_id]
        applied_id = UUID(application.applied_coupon_id)
        # The state the invoice was priced with, derived from the domain's transition:
        # a once fixed coupon lost `amount`, a recurring one lost one period.
        old_remaining = new.amount_cents_remaining
        if new.coupon.frequency.value == "once" and old_remaining is not None:
            old_remaining += application.amount_cents
        old_periods = new.frequency_duration_remaining
        if new.coupon.frequency.value == "recurring" and old_periods is not None:
            old_periods += 1
        change = Consumption(
            applied_coupon_id=applied_id,
            expected_amount_cents_remaining=old_remaining,
            expected_frequency_duration_remaining=old_periods,
            amount_cents_remaining=new.amount_cents_remaining,
            frequency_duration_remaining=new.frequency_duration_remaining,
            status=new.status.value,
        )
        if not repo.consume(change, now):
            raise StoreConflict(f"applied coupon {applied_id} changed while invoicing")
        credits.append((applied_id, application.coupon_code, application.amount_cents))
    names = _coupon_names(uow, invoice.organization_id, [c[0] for c in credits])
    repo.add_credits(
        [
            CouponCredit(
                id=uuid.uuid4(),
                organization_id=invoice.organization_id,
                invoice_id=invoice.id,
                applied_coupon_id=applied_id,
                coupon_code=code,
                coupon_name=names.get(applied_id, code),
                amount_cents=amount,
                amount_currency=invoice.currency,
                created_at=now,
            )
            for applied_id, code, amount in credits
        ]
    )


def _coupon_names(
    uow: UnitOfWork, organization_id: UUID, applied_ids: list[UUID]
) -> dict[UUID, str]:
    repo = cast(CouponUnitOfWork, uow).coupons
    applied = [repo.get_applied(organization_id, i) for i in applied_ids]
    coupons = repo.by_ids(organization_id, {a.coupon_id for a in applied if a is not None})
    return {a.id: coupons[a.coupon_id].name for a in applied if a is not None}


def coupon_credits_for(
    uow: UnitOfWork, invoice_ids: Collection[UUID]
) -> dict[UUID, list[CouponCredit]]:
    """Invoice id → the coupon credits it consumed (for Lago's invoice `credits`)."""
    return cast(CouponUnitOfWork, uow).coupons.credits_for(invoice_ids)


@dataclass(frozen=True, slots=True)
class AppliedCouponView:
    applied: AppliedCouponRecord
    coupon: CouponRecord
    customer: Customer
    credits: tuple[CouponCredit, ...]


class CouponService:
    def __init__(self, uow: UnitOfWorkFactory, clock: Clock, currencies: CurrencyCatalog) -> None:
        self._uow = cast(CouponUnitOfWorkFactory, uow)
        self._clock = clock
        self._currencies = currencies

    # --- coupons -----------------------------------------------------------------------------

    def _check_targets(
        self, uow: CouponUnitOfWork, org_id: UUID, fields: Mapping[str, Any]
    ) -> None:
        missing_plans = [
            c for c in fields.get("plan_codes") or [] if uow.plans.get(org_id, c) is None
        ]
        if missing_plans:
            raise NotFound("plans")  # Lago: 404 plans_not_found
        metrics = fields.get("billable_metric_codes") or []
        if set(metrics) - uow.billable_metrics.live_codes(org_id, metrics):
            raise NotFound("billable_metrics")

    def create(self, organization_id: UUID, values: Mapping[str, Any]) -> CouponRecord:
        now = self._clock.now()
        clean = coupon_values(values, self._currencies, now, partial=False)
        check_coupon_terms(clean)
        fixed = clean["coupon_type"] == "fixed_amount"
        coupon = CouponRecord(
            id=uuid.uuid4(),
            organization_id=organization_id,
            code=clean["code"],
            name=clean["name"],
            description=clean.get("description"),
            coupon_type=clean["coupon_type"],
            amount_cents=clean.get("amount_cents") if fixed else None,
            amount_currency=clean.get("amount_currency") if fixed else None,
            percentage_rate=None if fixed else clean.get("percentage_rate"),
            frequency=clean["frequency"],
            frequency_duration=clean.get("frequency_duration")
            if clean["frequency"] == "recurring"
            else None,
            reusable=clean["reusable"],
            expiration=clean["expiration"],
            expiration_at=clean.get("expiration_at"),
            plan_codes=clean.get("plan_codes", []),
            billable_metric_codes=clean.get("billable_metric_codes", []),
            status=ACTIVE,
            created_at=now,
            updated_at=now,
        )

        def attempt() -> CouponRecord:
            with self._uow() as uow:
                if uow.coupons.get(organization_id, coupon.code) is not None:
                    raise ValidationFailed.one("code", "value_already_exist")
                self._check_targets(uow, organization_id, clean)
                uow.coupons.add(coupon)
                uow.commit()
            return coupon

        return retry_on_conflict(attempt)

    def get(self, organization_id: UUID, code: str) -> CouponRecord:
        with self._uow(read_only=True) as uow:
            coupon = uow.coupons.get(organization_id, code)
        if coupon is None:
            raise NotFound("coupon")
        return coupon

    def list(self, organization_id: UUID, page: PageRequest) -> Page[CouponRecord]:
        with self._uow(read_only=True) as uow:
            items, total = uow.coupons.list(organization_id, page)
        return Page(items, page, total)

    def update(self, organization_id: UUID, code: str, values: Mapping[str, Any]) -> CouponRecord:
        """Name, description and expiration always; the terms only while nobody has it."""
        now = self._clock.now()
        clean = coupon_values(values, self._currencies, now, partial=True)

        def attempt() -> CouponRecord:
            with self._uow() as uow:
                coupon = uow.coupons.get(organization_id, code)
                if coupon is None:
                    raise NotFound("coupon")
                changes = dict(clean)
                if uow.coupons.is_applied(coupon.id):
                    for name in LOCKED_ONCE_APPLIED:
                        changes.pop(name, None)
                new_code = changes.get("code", coupon.code)
                if new_code != coupon.code and uow.coupons.get(organization_id, new_code):
                    raise ValidationFailed.one("code", "value_already_exist")
                self._check_targets(uow, organization_id, changes)
                for name, value in changes.items():
                    setattr(coupon, name, value)
                if coupon.coupon_type == "fixed_amount":
                    coupon.percentage_rate = None
                    if coupon.amount_cents is None or coupon.amount_currency is None:
                        raise ValidationFailed.one("amount_cents", "value_is_mandatory")
                else:
                    coupon.amount_cents = coupon.amount_currency = None
                    if coupon.percentage_rate is None:
                        raise ValidationFailed.one("percentage_rate", "value_is_mandatory")
                check_coupon_terms({"frequency": coupon.frequency, **_duration(coupon)})
                if coupon.frequency != "recurring":
                    coupon.frequency_duration = None
                coupon.updated_at = now
                uow.coupons.update(coupon)
                uow.commit()
            return coupon

        return retry_on_conflict(attempt)

    def delete(self, organization_id: UUID, code: str) -> CouponRecord:
        """Terminate and hide the coupon; its applied coupons keep running (Lago)."""
        with self._uow() as uow:
            coupon = uow.coupons.get(organization_id, code)
            if coupon is None:
                raise NotFound("coupon")
            now = self._clock.now()
            coupon.status = TERMINATED
            coupon.terminated_at = coupon.deleted_at = coupon.updated_at = now
            uow.coupons.update(coupon)
            uow.commit()
        return coupon

    # --- applied coupons ---------------------------------------------------------------------

    def apply(self, organization_id: UUID, values: Mapping[str, Any]) -> AppliedCouponView:
        """Lago's POST /applied_coupons: the coupon's terms, with the overrides sent."""
        errors: dict[str, list[str]] = {}
        for name in ("external_customer_id", "coupon_code"):
            if not isinstance(values.get(name), str) or not values[name]:
                errors[name] = ["value_is_mandatory"]
        if errors:
            raise ValidationFailed(errors)

        def attempt() -> AppliedCouponView:
            now = self._clock.now()
            with self._uow() as uow:
                customer = uow.customers.get(organization_id, values["external_customer_id"])
                if customer is None:
                    raise NotFound("customer")
                coupon = uow.coupons.get(organization_id, values["coupon_code"])
                if coupon is None or not coupon.applicable_at(now):
                    raise NotFound("coupon")  # terminated or expired: Lago's Coupon.active
                terms = override_values(values, coupon.coupon_type, self._currencies)
                applied = _applied(organization_id, coupon, customer, terms, now)
                check_coupon_terms({"frequency": applied.frequency, **_duration(applied)})
                if not coupon.reusable and uow.coupons.applied_to_customer(coupon.id, customer.id):
                    raise ValidationFailed.one("coupon", "coupon_is_not_reusable")
                if applied.amount_currency is not None:
                    if customer.currency is None:
                        customer.currency = applied.amount_currency  # Lago sets it
                        customer.updated_at = now
                        uow.customers.update(customer)
                    elif customer.currency != applied.amount_currency:
                        raise ValidationFailed.one("currency", "currencies_does_not_match")
                uow.coupons.add_applied(applied)
                uow.commit()
            return AppliedCouponView(applied, coupon, customer, ())

        return retry_on_conflict(attempt)

    def list_applied(
        self,
        organization_id: UUID,
        page: PageRequest,
        *,
        external_customer_id: str | None = None,
        status: str | None = None,
        coupon_codes: tuple[str, ...] = (),
    ) -> Page[AppliedCouponView]:
        if status is not None and status not in (ACTIVE, TERMINATED):
            raise ValidationFailed.one("status", "value_is_invalid")
        with self._uow(read_only=True) as uow:
            known, customer_id = customer_filter(
                uow.customers, organization_id, external_customer_id
            )
            if not known:
                return Page([], page, 0)
            filters = AppliedCouponFilter(customer_id, status, coupon_codes)
            items, total = uow.coupons.list_applied(organization_id, filters, page)
            return Page(self._views(uow, organization_id, items), page, total)

    def terminate_applied(
        self, organization_id: UUID, external_customer_id: str, applied_id: str
    ) -> AppliedCouponView:
        """Lago's DELETE /customers/{id}/applied_coupons/{id}: it stops applying."""
        try:
            parsed = UUID(applied_id)
        except ValueError:
            raise NotFound("applied_coupon") from None
        with self._uow() as uow:
            customer = uow.customers.get(organization_id, external_customer_id)
            if customer is None:
                raise NotFound("customer")
            applied = uow.coupons.get_applied(organization_id, parsed)
            if applied is None or applied.customer_id != customer.id:
                raise NotFound("applied_coupon")
            if applied.status == ACTIVE:
                now = self._clock.now()
                applied.status = TERMINATED
                applied.terminated_at = applied.updated_at = now
                uow.coupons.update_applied(applied)
            (view,) = self._views(uow, organization_id, [applied])
            uow.commit()
        return view

    @staticmethod
    def _views(
        uow: CouponUnitOfWork, organization_id: UUID, items: builtins.list[AppliedCouponRecord]
    ) -> builtins.list[AppliedCouponView]:
        coupons = uow.coupons.by_ids(organization_id, {a.coupon_id for a in items})
        credits = uow.coupons.credits_of([a.id for a in items])
        views = []
        for a in items:
            customer = uow.customers.get_by_id(a.customer_id)
            assert customer is not None
            views.append(AppliedCouponView(a, coupons[a.coupon_id], customer, tuple(credits[a.id])))
        return views


def _duration(record: CouponRecord | AppliedCouponRecord) -> dict[str, Any]:
    return {"frequency_duration": record.frequency_duration}


def _applied(
    organization_id: UUID,
    coupon: CouponRecord,
    customer: Customer,
    terms: Mapping[str, Any],
    now: datetime,
) -> AppliedCouponRecord:
    fixed = coupon.coupon_type == "fixed_amount"
    frequency = terms.get("frequency", coupon.frequency)
    duration = terms.get("frequency_duration", coupon.frequency_duration)
    amount = terms.get("amount_cents", coupon.amount_cents) if fixed else None
    return AppliedCouponRecord(
        id=uuid.uuid4(),
        organization_id=organization_id,
        coupon_id=coupon.id,
        customer_id=customer.id,
        amount_cents=amount,
        amount_currency=terms.get("amount_currency", coupon.amount_currency) if fixed else None,
        percentage_rate=None if fixed else terms.get("percentage_rate", coupon.percentage_rate),
        frequency=frequency,
        frequency_duration=duration if frequency == "recurring" else None,
        # The domain's fresh state (`AppliedCoupon.new`): the full amount and duration.
        amount_cents_remaining=amount,
        frequency_duration_remaining=duration if frequency == "recurring" else None,
        status=ACTIVE,
        created_at=now,
        updated_at=now,
    )
