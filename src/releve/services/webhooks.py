"""Webhooks: a durable outbox written in the same unit of work as the change it reports.

`emit` is the one call the rest of the services make: it inserts one outbox row per endpoint of
the organization that wants that webhook type (Lago's `event_types`, null = all), in the
caller's transaction, so a webhook exists if and only if its change commits. An organization
without endpoints records nothing (as in Lago: an endpoint added later does not receive past
webhooks). Delivery (rendering, signature, retries, log) runs after commit: `webhook_delivery`.

Why one row per (webhook, endpoint) rather than one webhook with per-endpoint deliveries: each
receiver has its own retry schedule and lease, so a broken receiver never holds back, or causes
a re-send to, a healthy one; and `X-Lago-Unique-Key` (the row id) is stable per receiver, as in
Lago, where a webhook belongs to one endpoint.

Endpoints (Lago's `webhook_endpoints`): `webhook_url` must be an absolute http(s) URL, unique in
the organization. `signature_algo` is `hmac` (also when omitted). Lago's `jwt` signs with Lago's
own RSA key pair, which Relevé does not have: it is refused with a 422
(`signature_algo: ["value_is_invalid"]`) rather than silently signed another way.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any, cast
from urllib.parse import urlsplit
from uuid import UUID

from releve.services.errors import NotFound, ValidationFailed
from releve.services.pagination import Page, PageRequest
from releve.services.ports import Clock, UnitOfWork
from releve.services.subscriptions.views import SubscriptionView, subscription_view
from releve.services.transactions import retry_on_conflict
from releve.services.validation import Errors
from releve.services.webhook_delivery import DeliveryRun, RetryPolicy, WebhookDelivery
from releve.services.webhook_ports import (
    FAILED,
    PENDING,
    Webhook,
    WebhookAttempt,
    WebhookEndpoint,
    WebhookSender,
    WebhookUnitOfWork,
    WebhookUnitOfWorkFactory,
)

SIGNATURE_ALGOS = ("hmac",)
MAX_URL_LENGTH = 1024
ENDPOINT_FIELDS = ("webhook_url", "signature_algo", "name", "event_types")


def emit(
    uow: UnitOfWork,
    organization_id: UUID,
    webhook_type: str,
    object_type: str,
    *,
    object_id: str | None = None,
    payload: Mapping[str, Any] | None = None,
) -> None:
    """Record webhook `webhook_type` (Lago's name, e.g. ``invoice.created``) about the object
    `object_type` — a stored one by `object_id`, or `payload` itself — in the caller's unit of
    work, so it is sent if and only if the change commits. Does not commit."""
    if (object_id is None) == (payload is None):
        raise ValueError("emit takes exactly one of object_id and payload")
    webhook_uow = cast(WebhookUnitOfWork, uow)  # the SQL unit of work carries `webhooks`
    endpoints = [
        e for e in webhook_uow.webhooks.endpoints(organization_id) if e.wants(webhook_type)
    ]
    if not endpoints:
        return
    # emit has no clock (its signature is shared by every caller): `created_at` is the wall
    # time the row is written, and `next_attempt_at` stays NULL (due at once) until the first
    # attempt, whose time comes from the delivery's injected clock.
    written = datetime.now(UTC)
    webhook_uow.webhooks.add_webhooks(
        [
            Webhook(
                id=uuid.uuid4(),
                organization_id=organization_id,
                webhook_endpoint_id=endpoint.id,
                webhook_type=webhook_type,
                object_type=object_type,
                object_id=object_id,
                payload=dict(payload) if payload is not None else None,
                body=None,
                status=PENDING,
                attempts=0,
                next_attempt_at=None,
                last_attempt_at=None,
                last_http_status=None,
                claim_token=None,
                claimed_until=None,
                created_at=written,
                updated_at=written,
            )
            for endpoint in endpoints
        ]
    )


def _parse_id(value: str, resource: str) -> UUID:
    try:
        return UUID(value)
    except (ValueError, TypeError, AttributeError):
        raise NotFound(resource) from None


def _check_url(errors: Errors, value: Any) -> None:
    if not isinstance(value, str) or not value.strip():
        errors.add("webhook_url", "value_is_mandatory")
        return
    if len(value) > MAX_URL_LENGTH:
        errors.add("webhook_url", "value_is_too_long")
        return
    try:
        parts = urlsplit(value)
        valid = parts.scheme in ("http", "https") and bool(parts.hostname) and " " not in value
        parts.port  # noqa: B018  (raises ValueError on a non-numeric port)
    except ValueError:
        valid = False
    if not valid:
        errors.add("webhook_url", "url_is_invalid")


def _check_fields(errors: Errors, values: Mapping[str, Any], *, creating: bool) -> None:
    if creating or "webhook_url" in values:
        _check_url(errors, values.get("webhook_url"))
    algo = values.get("signature_algo")
    if algo is not None and algo not in SIGNATURE_ALGOS:
        errors.add("signature_algo", "value_is_invalid")
    name = values.get("name")
    if name is not None and (not isinstance(name, str) or len(name) > 255):
        errors.add("name", "value_is_invalid")
    types = values.get("event_types")
    if types is not None and not (
        isinstance(types, list) and all(isinstance(t, str) and t for t in types)
    ):
        errors.add("event_types", "value_is_invalid")


class WebhookService:
    """Endpoints CRUD, the delivery log, manual retries, and delivery runs (`deliver_due`)."""

    def __init__(
        self,
        uow: WebhookUnitOfWorkFactory,
        clock: Clock,
        sender: WebhookSender | None = None,
        policy: RetryPolicy | None = None,
    ) -> None:
        self._uow = uow
        self._clock = clock
        self.policy = policy or RetryPolicy()
        self._sender = sender

    # --- endpoints ---------------------------------------------------------------------------

    def create_endpoint(self, organization_id: UUID, values: Mapping[str, Any]) -> WebhookEndpoint:
        errors = Errors()
        _check_fields(errors, values, creating=True)
        if errors:
            raise ValidationFailed(errors.details)

        def attempt() -> WebhookEndpoint:
            with self._uow() as uow:
                url = str(values["webhook_url"]).strip()
                if uow.webhooks.endpoint_by_url(organization_id, url) is not None:
                    raise ValidationFailed.one("webhook_url", "value_already_exist")
                now = self._clock.now()
                types = values.get("event_types")
                endpoint = WebhookEndpoint(
                    id=uuid.uuid4(),
                    organization_id=organization_id,
                    webhook_url=url,
                    signature_algo=str(values.get("signature_algo") or "hmac"),
                    name=values.get("name"),
                    event_types=list(types) if types is not None else None,
                    created_at=now,
                    updated_at=now,
                )
                uow.webhooks.add_endpoint(endpoint)
                uow.commit()
                return endpoint

        return retry_on_conflict(attempt)

    def get_endpoint(self, organization_id: UUID, lago_id: str) -> WebhookEndpoint:
        with self._uow(read_only=True) as uow:
            return self._endpoint(uow, organization_id, lago_id)

    def list_endpoints(self, organization_id: UUID, page: PageRequest) -> Page[WebhookEndpoint]:
        with self._uow(read_only=True) as uow:
            items, total = uow.webhooks.list_endpoints(organization_id, page)
            return Page(items, page, total)

    def update_endpoint(
        self, organization_id: UUID, lago_id: str, values: Mapping[str, Any]
    ) -> WebhookEndpoint:
        """Lago's PUT: the fields given replace the stored ones (`null` algo: unchanged)."""
        errors = Errors()
        _check_fields(errors, values, creating=False)

        def attempt() -> WebhookEndpoint:
            with self._uow() as uow:
                endpoint = self._endpoint(uow, organization_id, lago_id)
                if errors:
                    raise ValidationFailed(errors.details)
                if "webhook_url" in values:
                    url = str(values["webhook_url"]).strip()
                    other = uow.webhooks.endpoint_by_url(organization_id, url)
                    if other is not None and other.id != endpoint.id:
                        raise ValidationFailed.one("webhook_url", "value_already_exist")
                    endpoint.webhook_url = url
                if values.get("signature_algo") is not None:
                    endpoint.signature_algo = str(values["signature_algo"])
                if "name" in values:
                    endpoint.name = values["name"]
                if "event_types" in values:
                    types = values["event_types"]
                    endpoint.event_types = list(types) if types is not None else None
                endpoint.updated_at = self._clock.now()
                uow.webhooks.update_endpoint(endpoint)
                uow.commit()
                return endpoint

        return retry_on_conflict(attempt)

    def delete_endpoint(self, organization_id: UUID, lago_id: str) -> WebhookEndpoint:
        """Delete it, its undelivered webhooks and its delivery log."""
        with self._uow() as uow:
            endpoint = self._endpoint(uow, organization_id, lago_id)
            uow.webhooks.delete_endpoint(endpoint)
            uow.commit()
            return endpoint

    def _endpoint(
        self, uow: WebhookUnitOfWork, organization_id: UUID, lago_id: str
    ) -> WebhookEndpoint:
        endpoint = uow.webhooks.get_endpoint(
            organization_id, _parse_id(lago_id, "webhook_endpoint")
        )
        if endpoint is None:
            raise NotFound("webhook_endpoint")
        return endpoint

    # --- delivery log and retries --------------------------------------------------------------

    def deliveries(
        self, organization_id: UUID, endpoint_lago_id: str, page: PageRequest
    ) -> Page[tuple[WebhookAttempt, Webhook]]:
        """The endpoint's attempts, newest first, each with its webhook's current state."""
        with self._uow(read_only=True) as uow:
            endpoint = self._endpoint(uow, organization_id, endpoint_lago_id)
            items, total = uow.webhooks.attempts_of_endpoint(organization_id, endpoint.id, page)
            return Page(items, page, total)

    def get_webhook(self, organization_id: UUID, lago_id: str) -> Webhook:
        with self._uow(read_only=True) as uow:
            webhook = uow.webhooks.get(organization_id, _parse_id(lago_id, "webhook"))
            if webhook is None:
                raise NotFound("webhook")
            return webhook

    def retry(self, organization_id: UUID, lago_id: str) -> Webhook:
        """Send a failed (or still pending) webhook again at the next delivery run: one more
        attempt; if it fails too, the webhook is `failed` again. A succeeded one is a 422."""
        with self._uow() as uow:
            webhook = uow.webhooks.get(organization_id, _parse_id(lago_id, "webhook"))
            if webhook is None:
                raise NotFound("webhook")
            if webhook.status not in (FAILED, PENDING):
                raise ValidationFailed.one("status", "webhook_already_succeeded")
            now = self._clock.now()
            webhook.status = PENDING
            webhook.next_attempt_at = now
            webhook.claimed_until = None
            webhook.claim_token = None
            webhook.updated_at = now
            uow.webhooks.update(webhook)
            uow.commit()
            return webhook

    # --- delivery ----------------------------------------------------------------------------

    def deliver_due(
        self, render: Callable[[Webhook], Any], *, limit: int = 100, batch: int = 10
    ) -> DeliveryRun:
        """Send the webhooks due now (at most `limit`); `render(webhook)` gives the object of
        one emitted with `object_id` (raising NotFound when it is gone)."""
        if self._sender is None:
            raise RuntimeError("WebhookService was built without a sender")
        delivery = WebhookDelivery(self._uow, self._clock, self._sender, self.policy)
        return delivery.run(render, limit=limit, batch=batch)

    # --- objects webhooks report that no other service reads by id ----------------------------

    def subscription_view(self, organization_id: UUID, lago_id: str) -> SubscriptionView:
        with self._uow(read_only=True) as uow:
            subscription = uow.subscriptions.get_by_id(
                organization_id, _parse_id(lago_id, "subscription")
            )
            if subscription is None:
                raise NotFound("subscription")
            return subscription_view(uow, subscription, self._clock)
