"""The ports the services talk to. Adapters implement them; services never import adapters.

A unit of work is one transaction: open it with `with uow_factory() as uow:`, call repositories,
then `uow.commit()`. Leaving the block without committing rolls back. Repositories never commit.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime
from types import TracebackType
from typing import Protocol
from uuid import UUID

from releve.domain.money import Currency
from releve.services.pagination import PageRequest
from releve.services.records import (
    AggregateKey,
    ApiKey,
    BillableMetric,
    Customer,
    Organization,
    StateRow,
    StateVersion,
    StoredEvent,
    StoredPlan,
    Subscription,
    Tax,
    UsageAggregate,
)


class Clock(Protocol):
    def now(self) -> datetime:
        """The current time, timezone-aware."""
        ...


class CurrencyCatalog(Protocol):
    def __call__(self, code: str) -> Currency:
        """The ISO 4217 currency for `code`; raises a DomainError when unknown."""
        ...


class OrganizationRepository(Protocol):
    def add(self, organization: Organization) -> None: ...
    def get(self, organization_id: UUID) -> Organization | None: ...
    def get_default(self) -> Organization | None: ...
    def ids(self) -> list[UUID]:
        """Every organization id, oldest first."""
        ...

    def count(self) -> int: ...
    def add_api_key(self, api_key: ApiKey) -> None: ...
    def for_key_hash(self, key_hash: str) -> Organization | None:
        """The organization owning a non-revoked key with this hash."""
        ...

    def revoke_api_key(self, key_hash: str, at: datetime) -> bool: ...


class CustomerRepository(Protocol):
    def get(self, organization_id: UUID, external_id: str) -> Customer | None:
        """A live (not deleted) customer."""
        ...

    def get_by_id(self, customer_id: UUID) -> Customer | None: ...
    def by_ids(self, customer_ids: Collection[UUID]) -> dict[UUID, Customer]:
        """id → live customer, for those of `customer_ids` that exist (a few queries at most)."""
        ...

    def next_sequential_id(self, organization_id: UUID) -> int: ...
    def add(self, customer: Customer) -> None: ...
    def update(self, customer: Customer) -> None: ...
    def list(self, organization_id: UUID, page: PageRequest) -> tuple[list[Customer], int]: ...
    def timezones(self, organization_id: UUID, customer_ids: Collection[UUID]) -> dict[UUID, str]:
        """customer id → its own IANA time zone, for those that set one (one query)."""
        ...


class TaxRepository(Protocol):
    def get(self, organization_id: UUID, code: str) -> Tax | None: ...
    def add(self, tax: Tax) -> None: ...
    def update(self, tax: Tax) -> None: ...
    def delete(self, tax: Tax) -> None: ...
    def list(self, organization_id: UUID, page: PageRequest) -> tuple[list[Tax], int]: ...
    def applied_to_organization(self, organization_id: UUID) -> Sequence[Tax]: ...


class BillableMetricRepository(Protocol):
    def get(self, organization_id: UUID, code: str) -> BillableMetric | None:
        """A live (not deleted) metric."""
        ...

    def add(self, metric: BillableMetric) -> None: ...
    def update(self, metric: BillableMetric) -> None: ...
    def list(
        self, organization_id: UUID, page: PageRequest
    ) -> tuple[list[BillableMetric], int]: ...
    def live_codes(self, organization_id: UUID, codes: Collection[str]) -> set[str]:
        """Which of `codes` name a live metric (one query)."""
        ...

    def live_by_codes(
        self, organization_id: UUID, codes: Collection[str]
    ) -> dict[str, BillableMetric]:
        """code → live metric, for those of `codes` that exist (one query)."""
        ...

    def by_ids(self, organization_id: UUID, ids: Collection[UUID]) -> dict[UUID, BillableMetric]:
        """id → metric (deleted ones included: old charges still name them)."""
        ...


@dataclass(frozen=True, slots=True)
class EventFilter:
    external_subscription_id: str | None = None
    code: str | None = None
    timestamp_from: datetime | None = None
    timestamp_to: datetime | None = None
    status: str | None = None


class EventRepository(Protocol):
    def find_many(
        self, organization_id: UUID, transaction_ids: Collection[str]
    ) -> dict[str, StoredEvent]:
        """transaction_id → the stored event, for those already stored (one query)."""
        ...

    def add_many(self, events: Sequence[StoredEvent]) -> None:
        """Insert all, in as few statements as possible; a duplicate key raises StoreConflict."""
        ...

    def get(self, organization_id: UUID, transaction_id: str) -> StoredEvent | None: ...
    def list(
        self, organization_id: UUID, filters: EventFilter, page: PageRequest
    ) -> tuple[list[StoredEvent], int]: ...
    def set_status_for_code(
        self,
        organization_id: UUID,
        code: str,
        *,
        from_status: str,
        to_status: str,
        reason: str | None,
        only_reason: str | None = None,
    ) -> int:
        """Re-flag the events of one code; returns how many changed."""
        ...

    def chunk_for_external_id(
        self,
        organization_id: UUID,
        external_subscription_id: str,
        *,
        since: datetime | None,
        after: tuple[datetime, str] | None,
        limit: int,
    ) -> Sequence[StoredEvent]:
        """Events of one external id with timestamp ≥ `since`, ordered by (timestamp,
        transaction_id), strictly after the `after` key (keyset pagination)."""
        ...

    def set_matching(
        self, organization_id: UUID, changes: Sequence[tuple[UUID, str, str | None, UUID | None]]
    ) -> None:
        """Set (status, unmatched_reason, subscription_id) of events by id, in few statements."""
        ...

    def matched_in(
        self,
        organization_id: UUID,
        external_subscription_id: str,
        subscription_id: UUID,
        code: str,
        start: datetime,
        end: datetime,
    ) -> Sequence[StoredEvent]:
        """The events matched to a subscription for one code with start ≤ timestamp < end."""
        ...

    def external_ids(self, organization_id: UUID) -> set[str]:
        """Every external_subscription_id the organization's events name."""
        ...


class PlanRepository(Protocol):
    def get(self, organization_id: UUID, code: str) -> StoredPlan | None:
        """A live parent plan by code (override children are not addressable by code)."""
        ...

    def get_by_id(self, organization_id: UUID, plan_id: UUID) -> StoredPlan | None:
        """Any plan by id, children and deleted plans included."""
        ...

    def add(self, stored: StoredPlan) -> None:
        """Insert the plan, its charges and their filters."""
        ...

    def update(self, stored: StoredPlan) -> None:
        """Rewrite the plan; charges keep their ids when the new plan keeps them, removed ones
        are deleted (with their aggregates), new ones inserted; filters are rewritten."""
        ...

    def list(self, organization_id: UUID, page: PageRequest) -> tuple[list[StoredPlan], int]: ...
    def children_ids(self, organization_id: UUID, plan_id: UUID) -> Sequence[UUID]: ...
    def by_ids(self, organization_id: UUID, plan_ids: Collection[UUID]) -> dict[UUID, StoredPlan]:
        """id → any plan (children and deleted ones included), loaded together."""
        ...

    def codes_by_ids(self, organization_id: UUID, plan_ids: Collection[UUID]) -> dict[UUID, str]:
        """id → code of any plan (children and deleted ones included), without its charges."""
        ...


@dataclass(frozen=True, slots=True)
class SubscriptionFilter:
    statuses: tuple[str, ...] = ("active",)
    customer_id: UUID | None = None
    plan_id: UUID | None = None


class SubscriptionRepository(Protocol):
    def add(self, subscription: Subscription) -> None: ...
    def update(self, subscription: Subscription) -> None: ...
    def get_by_id(self, organization_id: UUID, subscription_id: UUID) -> Subscription | None: ...
    def by_ids(
        self, organization_id: UUID, subscription_ids: Collection[UUID]
    ) -> dict[UUID, Subscription]:
        """id → subscription (any status), for those of `subscription_ids` that exist."""
        ...

    def current(self, organization_id: UUID, external_id: str) -> Subscription | None:
        """The active subscription of an external id, else its pending one."""
        ...

    def pending(self, organization_id: UUID, external_id: str) -> Subscription | None: ...
    def for_external_ids(
        self, organization_id: UUID, external_ids: Collection[str]
    ) -> list[Subscription]:
        """Every subscription (any status) of these external ids (one query)."""
        ...

    def list(
        self, organization_id: UUID, filters: SubscriptionFilter, page: PageRequest
    ) -> tuple[list[Subscription], int]: ...
    def on_plans(self, organization_id: UUID, plan_ids: Collection[UUID]) -> Sequence[Subscription]:
        """Subscriptions (any status) on these plans."""
        ...

    def due_pending(self, now: datetime) -> Sequence[Subscription]:
        """Pending subscriptions (all organizations) whose start is ≤ now."""
        ...

    def due_ending(self, now: datetime) -> Sequence[Subscription]:
        """Active subscriptions (all organizations) whose `ending_at` is ≤ now."""
        ...

    def external_ids(self, organization_id: UUID) -> set[str]: ...


class UsageAggregateRepository(Protocol):
    def lock(self, subscription_ids: Collection[UUID]) -> None:
        """Serialize aggregate writers of these subscriptions until the transaction ends."""
        ...

    def load(
        self, organization_id: UUID, keys: Collection[AggregateKey]
    ) -> dict[AggregateKey, UsageAggregate]:
        """The stored states of those keys that exist (one query per chunk)."""
        ...

    def upsert(
        self, organization_id: UUID, aggregates: Sequence[UsageAggregate], at: datetime
    ) -> None:
        """Insert or overwrite these states (ON CONFLICT DO UPDATE)."""
        ...

    def load_daily(
        self, organization_id: UUID, keys: Collection[AggregateKey]
    ) -> dict[AggregateKey, UsageAggregate]:
        """`load` for the per-local-day rollup (`hour_start` of a key is the day's start)."""
        ...

    def upsert_daily(
        self, organization_id: UUID, aggregates: Sequence[UsageAggregate], at: datetime
    ) -> None:
        """`upsert` for the per-local-day rollup."""
        ...

    def delete(self, organization_id: UUID, subscription_id: UUID, since: datetime | None) -> None:
        """Drop a subscription's hourly and daily aggregates (those starting ≥ `since` when
        given: a local day start, so no daily row keeps hours that were dropped)."""
        ...

    def state_versions(
        self,
        organization_id: UUID,
        subscription_id: UUID,
        *,
        hours: Sequence[tuple[datetime, datetime]],
        days: Sequence[tuple[datetime, datetime]],
        charge_ids: Collection[UUID] | None = None,
    ) -> list[StateVersion]:
        """Hourly rows whose hour starts in one of `hours` ([start, end) ranges) and daily rows
        whose day starts in one of `days`, of these charges when given: their versions only,
        without the state (a cheap query)."""
        ...

    def state_texts(
        self, organization_id: UUID, subscription_id: UUID, rows: Sequence[StateVersion]
    ) -> list[tuple[StateVersion, str]]:
        """These rows (of either table) as they are now: version and state as JSON text; rows
        deleted since are missing."""
        ...

    def states_of(
        self,
        organization_id: UUID,
        subscription_ids: Collection[UUID],
        *,
        hours: Sequence[tuple[datetime, datetime]],
        days: Sequence[tuple[datetime, datetime]],
        charge_ids: Collection[UUID],
    ) -> list[tuple[UUID, StateRow, str]]:
        """(subscription id, row, state as JSON text) of the rows of `charge_ids` in these
        ranges (days: the daily rollup, hours: the hourly rows) of all `subscription_ids`."""
        ...

    def for_subscription(
        self,
        organization_id: UUID,
        subscription_id: UUID,
        until: datetime,
        *,
        since: datetime | None = None,
        charge_ids: Collection[UUID] | None = None,
    ) -> list[UsageAggregate]:
        """The subscription's states with since ≤ hour_start < until (of these charges when
        given), oldest first."""
        ...


class UnitOfWork(Protocol):
    # Read-only members (properties), so an adapter may expose its own repository classes.
    @property
    def organizations(self) -> OrganizationRepository: ...
    @property
    def customers(self) -> CustomerRepository: ...
    @property
    def taxes(self) -> TaxRepository: ...
    @property
    def billable_metrics(self) -> BillableMetricRepository: ...
    @property
    def events(self) -> EventRepository: ...
    @property
    def plans(self) -> PlanRepository: ...
    @property
    def subscriptions(self) -> SubscriptionRepository: ...
    @property
    def usage_aggregates(self) -> UsageAggregateRepository: ...

    def __enter__(self) -> UnitOfWork: ...
    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None: ...
    def commit(self) -> None:
        """Commit; a unique-key race detected at commit raises StoreConflict."""
        ...

    def rollback(self) -> None: ...


class UnitOfWorkFactory(Protocol):
    def __call__(self, *, read_only: bool = False) -> UnitOfWork: ...
