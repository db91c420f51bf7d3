"""Webhook endpoints, the outbox and its attempts (never commits; the unit of work does).

`claim` is the one concurrency-sensitive statement: a conditional UPDATE whose WHERE re-checks
the lease, so of two processes claiming the same row only one matches it (PostgreSQL re-reads a
row locked by a concurrent UPDATE before applying the WHERE; SQLite has one writer at a time).
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import datetime
from typing import Any
from uuid import UUID

import sqlalchemy as sa

from releve.adapters.sql.repositories.base import count_and_page, to_record, to_row
from releve.adapters.sql.tables_webhooks import webhook_attempts, webhook_endpoints, webhooks
from releve.services.pagination import PageRequest
from releve.services.webhook_ports import PENDING, Webhook, WebhookAttempt, WebhookEndpoint

_endpoints = webhook_endpoints.c
_w = webhooks.c
_a = webhook_attempts.c


# Built once: every webhook emitted (one or more per invoice of a bill run) asks this.
_ENDPOINTS = (
    webhook_endpoints.select()
    .where(_endpoints.organization_id == sa.bindparam("org"))
    .order_by(_endpoints.created_at, _endpoints.id)
)


def _endpoint(row: sa.Row[Any]) -> WebhookEndpoint:
    return to_record(WebhookEndpoint, row)


class SqlWebhookRepository:
    def __init__(self, connection: sa.Connection) -> None:
        self._c = connection

    # --- endpoints ---------------------------------------------------------------------------

    def add_endpoint(self, endpoint: WebhookEndpoint) -> None:
        self._c.execute(webhook_endpoints.insert().values(**to_row(endpoint)))

    def update_endpoint(self, endpoint: WebhookEndpoint) -> None:
        values = to_row(endpoint)
        del values["id"]
        self._c.execute(
            webhook_endpoints.update().where(_endpoints.id == endpoint.id).values(**values)
        )

    def delete_endpoint(self, endpoint: WebhookEndpoint) -> None:
        # Explicit, not only ON DELETE CASCADE: SQLite enforces it only with foreign keys on.
        self._c.execute(webhook_attempts.delete().where(_a.webhook_endpoint_id == endpoint.id))
        self._c.execute(webhooks.delete().where(_w.webhook_endpoint_id == endpoint.id))
        self._c.execute(webhook_endpoints.delete().where(_endpoints.id == endpoint.id))

    def get_endpoint(self, organization_id: UUID, endpoint_id: UUID) -> WebhookEndpoint | None:
        row = self._c.execute(
            webhook_endpoints.select().where(
                _endpoints.organization_id == organization_id, _endpoints.id == endpoint_id
            )
        ).first()
        return _endpoint(row) if row else None

    def endpoint_by_url(self, organization_id: UUID, url: str) -> WebhookEndpoint | None:
        row = self._c.execute(
            webhook_endpoints.select().where(
                _endpoints.organization_id == organization_id, _endpoints.webhook_url == url
            )
        ).first()
        return _endpoint(row) if row else None

    def endpoints(self, organization_id: UUID) -> list[WebhookEndpoint]:
        rows = self._c.execute(_ENDPOINTS, {"org": organization_id})
        return [_endpoint(r) for r in rows]

    def list_endpoints(
        self, organization_id: UUID, page: PageRequest
    ) -> tuple[list[WebhookEndpoint], int]:
        query = (
            webhook_endpoints.select()
            .where(_endpoints.organization_id == organization_id)
            .order_by(_endpoints.created_at.desc(), _endpoints.id)
        )
        rows, total = count_and_page(self._c, query, page.offset, page.per_page)
        return [_endpoint(r) for r in rows], total

    # --- outbox ------------------------------------------------------------------------------

    def add_webhooks(self, items: Sequence[Webhook]) -> None:
        if items:
            self._c.execute(webhooks.insert(), [to_row(w) for w in items])

    def get(self, organization_id: UUID, webhook_id: UUID) -> Webhook | None:
        row = self._c.execute(
            webhooks.select().where(_w.organization_id == organization_id, _w.id == webhook_id)
        ).first()
        return to_record(Webhook, row) if row else None

    def update(self, webhook: Webhook) -> None:
        values = to_row(webhook)
        del values["id"]
        self._c.execute(webhooks.update().where(_w.id == webhook.id).values(**values))

    def claim(self, now: datetime, until: datetime, token: UUID, limit: int) -> list[Webhook]:
        free = sa.or_(_w.claimed_until.is_(None), _w.claimed_until <= now)
        due = sa.and_(
            _w.status == PENDING,
            sa.or_(_w.next_attempt_at.is_(None), _w.next_attempt_at <= now),
            free,
        )
        ids = list(
            self._c.execute(
                sa.select(_w.id).where(due).order_by(_w.created_at, _w.id).limit(limit)
            ).scalars()
        )
        if not ids:
            return []
        self._c.execute(
            webhooks.update()
            .where(_w.id.in_(ids), due)
            .values(claim_token=token, claimed_until=until)
        )
        rows = self._c.execute(
            webhooks.select()
            .where(_w.id.in_(ids), _w.claim_token == token)
            .order_by(_w.created_at, _w.id)
        )
        return [to_record(Webhook, r) for r in rows]

    def freeze_body(self, webhook_id: UUID, token: UUID, body: str) -> str | None:
        self._c.execute(
            webhooks.update()
            .where(_w.id == webhook_id, _w.claim_token == token, _w.body.is_(None))
            .values(body=body)
        )
        stored = self._c.execute(
            sa.select(_w.body).where(_w.id == webhook_id, _w.claim_token == token)
        ).scalar_one_or_none()
        return stored

    # --- attempts ----------------------------------------------------------------------------

    def add_attempt(self, attempt: WebhookAttempt) -> None:
        self._c.execute(webhook_attempts.insert().values(**to_row(attempt)))

    def attempts_of_endpoint(
        self, organization_id: UUID, endpoint_id: UUID, page: PageRequest
    ) -> tuple[list[tuple[WebhookAttempt, Webhook]], int]:
        query = (
            sa.select(webhook_attempts, webhooks)
            .join(webhooks, webhooks.c.id == _a.webhook_id)
            .where(_a.organization_id == organization_id, _a.webhook_endpoint_id == endpoint_id)
            .order_by(_a.attempted_at.desc(), _a.attempt.desc(), _a.id)
        )
        rows, total = count_and_page(self._c, query, page.offset, page.per_page)
        n = len(webhook_attempts.c)
        out = []
        for row in rows:
            values = tuple(row)
            attempt = WebhookAttempt(
                **dict(zip(webhook_attempts.c.keys(), values[:n], strict=True))
            )
            webhook = Webhook(**dict(zip(webhooks.c.keys(), values[n:], strict=True)))
            out.append((attempt, webhook))
        return out, total

    def attempts_of(self, webhook_ids: Collection[UUID]) -> list[WebhookAttempt]:
        if not webhook_ids:
            return []
        rows = self._c.execute(
            webhook_attempts.select()
            .where(_a.webhook_id.in_(list(webhook_ids)))
            .order_by(_a.webhook_id, _a.attempt)
        )
        return [to_record(WebhookAttempt, r) for r in rows]
