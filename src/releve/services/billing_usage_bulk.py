"""The bill run's usage pre-read: a chunk's billed periods read in a few statements, not two per
subscription.

When `bill_due` has planned a chunk (`PLAN_CHUNK` subscriptions), `pre_read` reads the aggregate
rows every planned invoice will bill — the ranges `usage_states.period_ranges` names: whole
local days from the daily rollup, edge hours from the hourly rows, earlier periods for carrying
charges — with one statement per table for all subscriptions sharing those ranges (on a calendar
plan in one zone: the whole chunk), decodes and merges them (`usage_states.merge_read`, the same
fold `merged_states` computes) and leaves each invoice's usage in the run cache, where
`billing_usage.usage_for_period` takes it (once) instead of reading. Nothing is put in the
process-wide current-usage caches: a run reads each subscription once. Subscriptions whose
charges need each event's value (some percentage charges) are read as before.

Consistency with late events: the pre-read happens at `read_at`, before the invoices' own
transactions, and each invoice using it is issued as of `read_at` (`finalized_at`, the instant
late detection compares aggregates' `updated_at` with). The pre-read takes what an invoice
takes before reading: the write lock on SQLite (a write transaction, never committed), the
subscriptions' advisory locks on PostgreSQL, and only then the clock — so an ingest either
committed before the read (and is billed) or writes its aggregates after `read_at` (and is a late
event, settled by `late_settlement` / `late_adjustments` like any event after finalization).
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, tzinfo
from typing import Any, cast
from uuid import UUID

from releve.domain.aggregations import Aggregator, aggregator_for
from releve.domain.billing.period_invoice import InvoiceKind, invoice_charge_period
from releve.domain.filters import BucketKey
from releve.domain.periods import Period
from releve.domain.usage import UsageFacts
from releve.services.billing_due import domain_of
from releve.services.billing_ports import BillingUnitOfWorkFactory
from releve.services.late_records import AdjustmentUnitOfWork
from releve.services.records import StateRow, Subscription
from releve.services.usage import _earlier_period_starts, _needs_event_values
from releve.services.usage_states import Range, merge_read, period_ranges, usage_by_bucket

Usage = Mapping[str, Mapping[BucketKey, UsageFacts]]
Rows = list[tuple[StateRow, str]]


@dataclass(slots=True)
class _Request:
    """One invoice's usage to read: its subscription, charge period and charges."""

    subscription_id: UUID
    tz: tzinfo
    period: Period
    aggregators: dict[UUID, Aggregator[Any]]
    carrying: frozenset[UUID]
    starts: list[datetime]
    rows: Rows = field(default_factory=list)


@dataclass(slots=True)
class PreRead:
    """A chunk's pre-read usage: (subscription, period start, end) → usage, and `read_at`."""

    read_at: datetime | None = None
    late: set[UUID] = field(default_factory=set)  # of the owners, with late usage at read_at
    usage: dict[tuple[UUID, datetime, datetime], Usage] = field(default_factory=dict)
    _owners: set[UUID] = field(default_factory=set)  # subscriptions with usage read ahead

    def take(self, subscription_id: UUID, period: Period) -> Usage | None:
        """The pre-read usage of that invoice, at most once (a retry reads it live)."""
        return self.usage.pop((subscription_id, period.start, period.end), None)

    def has(self, subscription_id: UUID) -> bool:
        return subscription_id in self._owners

    def without_late_usage(self, subscription_ids: Collection[UUID]) -> bool:
        """Whether these subscriptions' invoices, issued as of `read_at`, have no late usage to
        settle (known only for subscriptions whose usage was read ahead)."""
        return all(s in self._owners and s not in self.late for s in subscription_ids)

    def forget(self, subscription_id: UUID) -> None:
        self._owners.discard(subscription_id)
        for key in [k for k in self.usage if k[0] == subscription_id]:
            del self.usage[key]

    def put(self, subscription_id: UUID, period: Period, usage: Usage) -> None:
        self._owners.add(subscription_id)
        self.usage[(subscription_id, period.start, period.end)] = usage


_Group = tuple[UUID, tuple[Range, ...], tuple[Range, ...]]


def pre_read(
    factory: BillingUnitOfWorkFactory,
    planned: Sequence[tuple[Subscription, Sequence[tuple[InvoiceKind, datetime]]]],
    now: Callable[[], datetime],
) -> PreRead:
    """The usage of every invoice in `planned` (module docstring); `now`: the clock."""
    with factory(read_only=True) as uow:
        requests = [r for s, jobs in planned for r in _requests(uow, s, jobs)]
    return _read(factory, requests, {s.id: s.organization_id for s, _ in planned}, now)


def read_periods(
    factory: BillingUnitOfWorkFactory,
    wanted: Sequence[tuple[Subscription, Period]],
    now: Callable[[], datetime],
) -> PreRead:
    """`pre_read` of given charge periods (what tests compare with the per-invoice read)."""
    with factory(read_only=True) as uow:
        requests = [r for s, period in wanted for r in _requests(uow, s, [], periods=[period])]
    return _read(factory, requests, {s.id: s.organization_id for s, _ in wanted}, now)


def _read(
    factory: BillingUnitOfWorkFactory,
    requests: list[_Request],
    owners: dict[UUID, UUID],
    now: Callable[[], datetime],
) -> PreRead:
    found = PreRead()
    if not requests:
        return found
    current: dict[_Group, list[tuple[_Request, frozenset[UUID]]]] = {}
    past: dict[_Group, list[tuple[_Request, frozenset[UUID]]]] = {}
    for r in requests:
        (hours, days), (past_hours, past_days) = period_ranges(r.tz, r.period, r.starts)
        org = owners[r.subscription_id]
        current.setdefault((org, tuple(hours), tuple(days)), []).append(
            (r, frozenset(r.aggregators))
        )
        if r.carrying:
            past.setdefault((org, tuple(past_hours), tuple(past_days)), []).append((r, r.carrying))
    with factory() as uow:  # a write transaction (SQLite's lock), never committed
        uow.usage_aggregates.lock(sorted(owners))
        found.read_at = now()
        # Late usage as of `read_at`, under the same locks: an invoice issued as of `read_at`
        # settles exactly this; anything written later is newer than it (`billing_run_cache`).
        adjustments = cast(AdjustmentUnitOfWork, uow).adjustments
        found.late = adjustments.late_subscription_ids(sorted(owners))
        for groups in (current, past):
            for (org, hour_ranges, day_ranges), members in groups.items():
                by_sub: dict[UUID, list[tuple[_Request, frozenset[UUID]]]] = {}
                for r, charges in members:
                    by_sub.setdefault(r.subscription_id, []).append((r, charges))
                rows = uow.usage_aggregates.states_of(
                    org,
                    list(by_sub),
                    hours=list(hour_ranges),
                    days=list(day_ranges),
                    charge_ids=frozenset().union(*(c for _, c in members)),
                )
                for subscription_id, version, text in rows:
                    for r, charges in by_sub[subscription_id]:
                        if version.charge_id in charges:
                            r.rows.append((version, text))
    for r in requests:
        merged = merge_read(r.aggregators, r.rows, r.period, r.starts)
        r.rows = []
        found.put(
            r.subscription_id,
            r.period,
            {
                str(charge_id): usage_by_bucket(
                    aggregator, merged.get(charge_id, []), r.period, r.starts
                )
                for charge_id, aggregator in r.aggregators.items()
            },
        )
    return found


def _requests(
    uow: Any,
    subscription: Subscription,
    jobs: Sequence[tuple[InvoiceKind, datetime]],
    *,
    periods: Sequence[Period] = (),
) -> list[_Request]:
    """What each of `jobs` (or `periods`) bills, as `billing_usage.usage_for_period` reads it."""
    if not jobs and not periods:
        return []
    domain = domain_of(uow, subscription)
    charges = [c for c in domain.plan.charges if not c.pay_in_advance]
    if not charges or any(_needs_event_values(c) for c in charges):
        return []
    requests = []
    billed = [invoice_charge_period(domain, kind, when) for kind, when in jobs]
    for period in [*billed, *periods]:
        if period is None or period.is_empty:
            continue
        aggregators = {UUID(c.id): aggregator_for(c.metric) for c in charges}
        carrying = frozenset(k for k, a in aggregators.items() if a.uses_carried)
        starts = _earlier_period_starts(domain, period) if carrying else []
        requests.append(_Request(subscription.id, domain.tz, period, aggregators, carrying, starts))
    return requests
