"""The ports the services talk to. Adapters implement them; services never import adapters.

A unit of work is one transaction: open it with `with uow_factory() as uow:`, call repositories,
then `uow.commit()`. Leaving the block without committing rolls back. Repositories never commit.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from types import TracebackType
from typing import Protocol
from uuid import UUID

from releve.domain.money import Currency
from releve.services.pagination import PageRequest
from releve.services.records import (
    ApiKey,
    BillableMetric,
    Customer,
    Organization,
    StoredEvent,
    Tax,
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
    def next_sequential_id(self, organization_id: UUID) -> int: ...
    def add(self, customer: Customer) -> None: ...
    def update(self, customer: Customer) -> None: ...
    def list(self, organization_id: UUID, page: PageRequest) -> tuple[list[Customer], int]: ...


class TaxRepository(Protocol):
    def get(self, organization_id: UUID, code: str) -> Tax | None: ...
    def add(self, tax: Tax) -> None: ...
    def update(self, tax: Tax) -> None: ...
    def delete(self, tax: Tax) -> None: ...
    def list(self, organization_id: UUID, page: PageRequest) -> tuple[list[Tax], int]: ...


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

    def counts_by_code(
        self, organization_id: UUID, external_subscription_ids: Iterable[str], since: datetime
    ) -> Mapping[str, int]: ...


class UnitOfWork(Protocol):
    organizations: OrganizationRepository
    customers: CustomerRepository
    taxes: TaxRepository
    billable_metrics: BillableMetricRepository
    events: EventRepository

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
