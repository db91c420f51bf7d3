"""Delivering the outbox: claim with a lease, render once, sign, send, record every attempt.

One run, repeated until nothing is due or `limit` is reached:

1. **Claim** (own transaction): lease up to `batch` due rows to a fresh token for
   `RetryPolicy.lease` — a conditional UPDATE, so two processes never hold the same row, and a
   process that dies mid-send only delays its rows until the lease expires.
2. **Render** (first attempt only) the Lago envelope ``{"webhook_type", "object_type",
   "organization_id", <object_type>: object}`` and freeze it (own transaction): every retry
   sends byte-identical JSON, so signatures and receivers' de-duplication stay consistent.
3. **Send** outside any transaction (HTTP may take up to the sender's timeout).
4. **Record** (own transaction): the attempt row, and the outcome — 2xx `succeeded`; anything
   else `pending` again after `backoff(n)`, or `failed` once `max_attempts` is reached; an
   object that no longer exists `failed` at once (nothing to send, ever).

Guarantee: at-least-once per (webhook, endpoint). A crash between send and record re-sends the
same bytes with the same `X-Lago-Unique-Key` after the lease: receivers de-duplicate on it.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any
from uuid import UUID

from releve.services import exact_json, webhook_signing
from releve.services.errors import NotFound
from releve.services.ports import Clock
from releve.services.records import Organization
from releve.services.webhook_ports import (
    FAILED,
    PENDING,
    SUCCEEDED,
    SendResult,
    Webhook,
    WebhookAttempt,
    WebhookEndpoint,
    WebhookSender,
    WebhookUnitOfWorkFactory,
)

ERROR_LIMIT = 1024


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """Exponential backoff: attempt n failed → wait `base × 2^(n−1)`, at most `cap`.

    Defaults: 1, 2, 4, … 64 min between the 8 attempts (about 2 h 7 min in all), then `failed`
    (a manual retry is still possible). `lease` bounds how long a claimed row stays invisible
    to other processes; it must exceed `batch × sender timeout`.
    """

    max_attempts: int = 8
    base: timedelta = timedelta(minutes=1)
    cap: timedelta = timedelta(hours=6)
    lease: timedelta = timedelta(minutes=5)

    def backoff(self, attempt: int) -> timedelta:
        wait: timedelta = self.base * (2 ** max(attempt - 1, 0))
        return min(wait, self.cap)


@dataclass(slots=True)
class DeliveryRun:
    """What one run did: ids of the webhooks attempted, by outcome of their attempt."""

    succeeded: list[UUID] = field(default_factory=list)
    retrying: list[UUID] = field(default_factory=list)
    failed: list[UUID] = field(default_factory=list)

    @property
    def attempted(self) -> int:
        return len(self.succeeded) + len(self.retrying) + len(self.failed)


@dataclass(frozen=True, slots=True)
class _Claimed:
    webhook: Webhook
    token: UUID
    endpoint: WebhookEndpoint
    organization: Organization


def envelope(webhook: Webhook, obj: Any) -> dict[str, Any]:
    """Lago's webhook body (`app/services/webhooks/base_service.rb`)."""
    return {
        "webhook_type": webhook.webhook_type,
        "object_type": webhook.object_type,
        "organization_id": str(webhook.organization_id),
        webhook.object_type: obj,
    }


class WebhookDelivery:
    def __init__(
        self,
        uow: WebhookUnitOfWorkFactory,
        clock: Clock,
        sender: WebhookSender,
        policy: RetryPolicy,
    ) -> None:
        self._uow = uow
        self._clock = clock
        self._sender = sender
        self._policy = policy

    def run(self, render: Callable[[Webhook], Any], *, limit: int, batch: int) -> DeliveryRun:
        result = DeliveryRun()
        while result.attempted < limit:
            claimed = self._claim(min(batch, limit - result.attempted))
            if not claimed:
                break
            for item in claimed:
                self._deliver(item, render, result)
        return result

    def _claim(self, count: int) -> list[_Claimed]:
        now = self._clock.now()
        token = uuid.uuid4()
        with self._uow() as uow:
            rows = uow.webhooks.claim(now, now + self._policy.lease, token, count)
            out = []
            for webhook in rows:
                endpoint = uow.webhooks.get_endpoint(
                    webhook.organization_id, webhook.webhook_endpoint_id
                )
                organization = uow.organizations.get(webhook.organization_id)
                assert endpoint is not None and organization is not None  # FKs (cascade)
                out.append(_Claimed(webhook, token, endpoint, organization))
            uow.commit()
        return out

    def _deliver(
        self, item: _Claimed, render: Callable[[Webhook], Any], result: DeliveryRun
    ) -> None:
        webhook = item.webhook
        body = webhook.body
        if body is None:
            try:
                obj = webhook.payload if webhook.object_id is None else render(webhook)
                rendered = exact_json.dumps(envelope(webhook, obj))
            except NotFound:
                gone = f"{webhook.object_type} {webhook.object_id} not found"
                self._record(item, SendResult(None, None, gone, 0), result, final=True)
                return
            except Exception as exc:  # a renderer bug must not stop the other webhooks
                error = f"rendering failed: {type(exc).__name__}: {exc}"
                self._record(item, SendResult(None, None, error, 0), result)
                return
            body = self._freeze(item, rendered)
            if body is None:
                return  # the lease expired and another process owns the row now
        data = body.encode("utf-8")
        headers = webhook_signing.headers(
            item.organization.webhook_hmac_key, data, str(webhook.id), self._clock.now()
        )
        sent = self._sender.send(item.endpoint.webhook_url, data, headers)
        self._record(item, sent, result)

    def _freeze(self, item: _Claimed, body: str) -> str | None:
        with self._uow() as uow:
            stored = uow.webhooks.freeze_body(item.webhook.id, item.token, body)
            uow.commit()
        return stored

    def _record(
        self, item: _Claimed, sent: SendResult, result: DeliveryRun, *, final: bool = False
    ) -> None:
        now = self._clock.now()
        with self._uow() as uow:
            webhook = uow.webhooks.get(item.webhook.organization_id, item.webhook.id)
            if webhook is None:
                return  # its endpoint was deleted meanwhile (cascade)
            number = webhook.attempts + 1
            uow.webhooks.add_attempt(
                WebhookAttempt(
                    id=uuid.uuid4(),
                    organization_id=webhook.organization_id,
                    webhook_id=webhook.id,
                    webhook_endpoint_id=webhook.webhook_endpoint_id,
                    attempt=number,
                    http_status=sent.http_status,
                    response_excerpt=sent.response_excerpt,
                    error=None if sent.error is None else sent.error[:ERROR_LIMIT],
                    attempted_at=now,
                    duration_ms=sent.duration_ms,
                )
            )
            if webhook.claim_token == item.token:
                self._outcome(webhook, sent, number, now, final)
                uow.webhooks.update(webhook)
            uow.commit()
        {SUCCEEDED: result.succeeded, PENDING: result.retrying, FAILED: result.failed}[
            webhook.status
        ].append(webhook.id)

    def _outcome(
        self, webhook: Webhook, sent: SendResult, number: int, now: datetime, final: bool
    ) -> None:
        webhook.attempts = number
        webhook.last_attempt_at = now
        webhook.last_http_status = sent.http_status
        webhook.claim_token = None
        webhook.claimed_until = None
        webhook.updated_at = now
        if sent.ok:
            webhook.status, webhook.next_attempt_at = SUCCEEDED, None
        elif final or number >= self._policy.max_attempts:
            webhook.status, webhook.next_attempt_at = FAILED, None
        else:
            webhook.status = PENDING
            webhook.next_attempt_at = now + self._policy.backoff(number)
