"""Webhook records and the ports webhooks talk to: the repository and the HTTP sender.

`WebhookUnitOfWork` is the ordinary `UnitOfWork` plus `webhooks`; the SQL unit of work provides
both. Field names equal the column names (`tables_webhooks.py`).
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol
from uuid import UUID

from releve.services.pagination import PageRequest
from releve.services.ports import UnitOfWork

PENDING = "pending"
SUCCEEDED = "succeeded"
FAILED = "failed"
STATUSES = (PENDING, SUCCEEDED, FAILED)


@dataclass(slots=True)
class WebhookEndpoint:
    id: UUID
    organization_id: UUID
    webhook_url: str
    signature_algo: str
    name: str | None
    event_types: list[str] | None  # None: every webhook type (Lago's default)
    created_at: datetime
    updated_at: datetime

    def wants(self, webhook_type: str) -> bool:
        return self.event_types is None or webhook_type in self.event_types


@dataclass(slots=True)
class Webhook:
    """One webhook for one endpoint (the outbox row)."""

    id: UUID
    organization_id: UUID
    webhook_endpoint_id: UUID
    webhook_type: str
    object_type: str
    object_id: str | None
    payload: Any  # the object itself when emitted with `payload=`, else None
    body: str | None  # the exact JSON sent, frozen at the first attempt
    status: str
    attempts: int
    next_attempt_at: datetime | None  # None: never attempted, due at once
    last_attempt_at: datetime | None
    last_http_status: int | None
    claim_token: UUID | None
    claimed_until: datetime | None
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True, slots=True)
class WebhookAttempt:
    id: UUID
    organization_id: UUID
    webhook_id: UUID
    webhook_endpoint_id: UUID
    attempt: int  # 1 for the first
    http_status: int | None  # None: no HTTP answer (connection error, timeout)
    response_excerpt: str | None
    error: str | None
    attempted_at: datetime
    duration_ms: int


@dataclass(frozen=True, slots=True)
class SendResult:
    """What one HTTP POST gave: a status (any), or an error when no answer came."""

    http_status: int | None
    response_excerpt: str | None
    error: str | None
    duration_ms: int

    @property
    def ok(self) -> bool:
        return self.http_status is not None and 200 <= self.http_status < 300


class WebhookSender(Protocol):
    def send(self, url: str, body: bytes, headers: Mapping[str, str]) -> SendResult:
        """POST `body` to `url`; never raises for network or HTTP errors (they are results)."""
        ...


class WebhookRepository(Protocol):
    def add_endpoint(self, endpoint: WebhookEndpoint) -> None: ...
    def update_endpoint(self, endpoint: WebhookEndpoint) -> None: ...
    def delete_endpoint(self, endpoint: WebhookEndpoint) -> None:
        """Delete it with its webhooks and their attempts."""
        ...

    def get_endpoint(self, organization_id: UUID, endpoint_id: UUID) -> WebhookEndpoint | None: ...
    def endpoint_by_url(self, organization_id: UUID, url: str) -> WebhookEndpoint | None: ...
    def endpoints(self, organization_id: UUID) -> list[WebhookEndpoint]: ...
    def list_endpoints(
        self, organization_id: UUID, page: PageRequest
    ) -> tuple[list[WebhookEndpoint], int]: ...
    def add_webhooks(self, webhooks: Sequence[Webhook]) -> None: ...
    def get(self, organization_id: UUID, webhook_id: UUID) -> Webhook | None: ...
    def update(self, webhook: Webhook) -> None: ...
    def claim(self, now: datetime, until: datetime, token: UUID, limit: int) -> list[Webhook]:
        """Lease up to `limit` due webhooks (pending; next_attempt_at null or ≤ now; no live
        lease) to `token` until `until` in one conditional UPDATE; returns those it won."""
        ...

    def freeze_body(self, webhook_id: UUID, token: UUID, body: str) -> str | None:
        """Store `body` unless one is stored already; the stored body (None: lease lost)."""
        ...

    def add_attempt(self, attempt: WebhookAttempt) -> None: ...
    def attempts_of_endpoint(
        self, organization_id: UUID, endpoint_id: UUID, page: PageRequest
    ) -> tuple[list[tuple[WebhookAttempt, Webhook]], int]:
        """The endpoint's attempts with their webhook, newest first."""
        ...

    def attempts_of(self, webhook_ids: Collection[UUID]) -> list[WebhookAttempt]: ...


class WebhookUnitOfWork(UnitOfWork, Protocol):
    @property
    def webhooks(self) -> WebhookRepository: ...

    def __enter__(self) -> WebhookUnitOfWork: ...


class WebhookUnitOfWorkFactory(Protocol):
    def __call__(self, *, read_only: bool = False) -> WebhookUnitOfWork: ...
