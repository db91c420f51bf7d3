"""What one bill run reads once: the catalog (plans, charge filters, organizations, taxes) and
customers, and which subscriptions have late usage to settle.

Each subscription is billed in its own units of work, and pricing used to reload the same plan
(plan + charges + filters + metrics) five times per subscription. `RunCache.factory` wraps the
unit of work factory for one `bill_due`: the units of work it opens answer those lookups from a
dictionary filled on first use, and delegate everything else to the real repositories.

Why it is safe: the cache lives only as long as one run (`bill_due` builds a new one each time,
nothing is process-global), and nothing a bill run does writes a plan, a charge filter, an
organization, a tax or a customer. A catalog edited by an API call while a run is going on is
seen by the next run, as if the edit had come just after this one (a run prices against one
snapshot of the catalog, taken at first use).

Usage (`billing_usage_bulk`): the current chunk's invoices' usage, read ahead in a few
statements, handed to `billing_usage.usage_for_period` by the units of work (`pre_read`).

Deductions: customers with no applied coupon, credit note or wallet row at all when their chunk
is planned (one query per chunk) read none per invoice; one granted meanwhile is used by their
next invoice, as if granted just after this one. Customers whose subscriptions may settle late
usage are always read (settling creates a credit note the same invoice consumes).

Late usage (`late_adjustments`): the run asks once which subscriptions have a finalized period
with usage written after its finalization (`late_subscription_ids`); their customers'
deductions are always read (settling creates a credit note the same invoice consumes). Whether
an invoice has late periods to settle is answered without a query only for subscriptions whose
usage was read ahead: the pre-read asks for its chunk under its locks, at its `read_at`, and the
invoice is issued as of `read_at`, so usage written later is newer than the invoice and settled
by the standard machinery (the next invoice, or `terminated_with_new_usage`). Deciding once at
the run's start instead lost an event arriving mid-run for good when the subscription was then
terminated without a final invoice (review; `test_bill_run_late_race.py`).
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any, cast
from uuid import UUID

from releve.services.billing_ports import BillingUnitOfWork, BillingUnitOfWorkFactory
from releve.services.billing_usage_bulk import PreRead
from releve.services.late_records import AdjustmentUnitOfWork, FinalizedPeriod
from releve.services.records import Customer, Organization, StoredPlan, Tax

_MISSING = object()


@dataclass(slots=True)
class RunCache:
    """Lookups memoized for one bill run (never shared between runs)."""

    plans: dict[tuple[UUID, UUID], StoredPlan | None] = field(default_factory=dict)
    organizations: dict[UUID, Organization | None] = field(default_factory=dict)
    customers: dict[UUID, Customer | None] = field(default_factory=dict)
    taxes: dict[tuple[UUID, str], Tax | None] = field(default_factory=dict)
    organization_taxes: dict[UUID, Sequence[Tax]] = field(default_factory=dict)
    filter_ids: dict[tuple[UUID, ...], dict[tuple[UUID, int], UUID]] = field(default_factory=dict)
    # Active subscriptions known to have no late finalized period when the run started.
    without_late_usage: set[UUID] = field(default_factory=set)
    # Customers of the current chunk holding no coupon, credit note or wallet when it was
    # planned (one query per chunk): their invoices deduct nothing, without reading.
    without_deductions: set[UUID] = field(default_factory=set)
    # The current chunk's usage, read ahead (`billing_usage_bulk`); units of work hand it out.
    pre_read: PreRead = field(default_factory=PreRead)

    def factory(self, inner: BillingUnitOfWorkFactory) -> BillingUnitOfWorkFactory:
        """`inner`, with its units of work reading through this cache."""

        def make(*, read_only: bool = False) -> BillingUnitOfWork:
            return cast(BillingUnitOfWork, _CachedUnitOfWork(inner(read_only=read_only), self))

        return make


class _Delegate:
    """Forwards every attribute it does not define to the wrapped repository."""

    def __init__(self, inner: Any, cache: RunCache) -> None:
        self._inner = inner
        self._cache = cache

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)


class _Plans(_Delegate):
    def get_by_id(self, organization_id: UUID, plan_id: UUID) -> StoredPlan | None:
        key = (organization_id, plan_id)
        found = self._cache.plans.get(key, _MISSING)
        if found is _MISSING:
            found = self._cache.plans[key] = self._inner.get_by_id(organization_id, plan_id)
        return cast(StoredPlan | None, found)


class _Organizations(_Delegate):
    def get(self, organization_id: UUID) -> Organization | None:
        found = self._cache.organizations.get(organization_id, _MISSING)
        if found is _MISSING:
            found = self._inner.get(organization_id)
            self._cache.organizations[organization_id] = found
        return cast(Organization | None, found)


class _Customers(_Delegate):
    def get_by_id(self, customer_id: UUID) -> Customer | None:
        found = self._cache.customers.get(customer_id, _MISSING)
        if found is _MISSING:
            found = self._cache.customers[customer_id] = self._inner.get_by_id(customer_id)
        return cast(Customer | None, found)


class _Taxes(_Delegate):
    def get(self, organization_id: UUID, code: str) -> Tax | None:
        key = (organization_id, code)
        found = self._cache.taxes.get(key, _MISSING)
        if found is _MISSING:
            found = self._cache.taxes[key] = self._inner.get(organization_id, code)
        return cast(Tax | None, found)

    def applied_to_organization(self, organization_id: UUID) -> Sequence[Tax]:
        found = self._cache.organization_taxes.get(organization_id)
        if found is None:
            found = tuple(self._inner.applied_to_organization(organization_id))
            self._cache.organization_taxes[organization_id] = found
        return found


class _Invoices(_Delegate):
    def charge_filter_ids(self, charge_ids: Collection[UUID]) -> dict[tuple[UUID, int], UUID]:
        key = tuple(sorted(charge_ids))
        found = self._cache.filter_ids.get(key)
        if found is None:
            found = self._cache.filter_ids[key] = self._inner.charge_filter_ids(charge_ids)
        return dict(found)


class _Adjustments(_Delegate):
    def late_periods(self, subscription_ids: Collection[UUID]) -> list[FinalizedPeriod]:
        if self._cache.pre_read.without_late_usage(subscription_ids):
            return []  # as of the pre-read, under its locks: nothing late (module docstring)
        return cast(list[FinalizedPeriod], self._inner.late_periods(subscription_ids))


class _Coupons(_Delegate):
    def active_for_invoice(self, organization_id: UUID, customer_id: UUID, currency: str) -> Any:
        if customer_id in self._cache.without_deductions:
            return []
        return self._inner.active_for_invoice(organization_id, customer_id, currency)


class _CreditNotes(_Delegate):
    def available_balances(self, organization_id: UUID, customer_id: UUID, currency: str) -> Any:
        if customer_id in self._cache.without_deductions:
            return []
        return self._inner.available_balances(organization_id, customer_id, currency)


class _Wallets(_Delegate):
    def for_customer(self, organization_id: UUID, customer_id: UUID, *, lock: bool = False) -> Any:
        if customer_id in self._cache.without_deductions:
            return []
        return self._inner.for_customer(organization_id, customer_id, lock=lock)


class _CachedUnitOfWork:
    """The wrapped unit of work with the cached repositories in front (`RunCache`)."""

    def __init__(self, inner: BillingUnitOfWork, cache: RunCache) -> None:
        self._inner = inner
        self._cache = cache

    def __enter__(self) -> _CachedUnitOfWork:
        inner = cast(AdjustmentUnitOfWork, self._inner.__enter__())
        cache = self._cache
        self.plans = _Plans(inner.plans, cache)
        self.organizations = _Organizations(inner.organizations, cache)
        self.customers = _Customers(inner.customers, cache)
        self.taxes = _Taxes(inner.taxes, cache)
        self.invoices = _Invoices(inner.invoices, cache)
        self.adjustments = _Adjustments(inner.adjustments, cache)
        self.pre_read = cache.pre_read
        self.coupons = _Coupons(inner.coupons, cache)  # type: ignore[attr-defined]
        self.credit_notes = _CreditNotes(inner.credit_notes, cache)  # type: ignore[attr-defined]
        self.wallets = _Wallets(inner.wallets, cache)  # type: ignore[attr-defined]
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._inner.__exit__(exc_type, exc, tb)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)
