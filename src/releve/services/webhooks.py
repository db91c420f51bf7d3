"""Webhooks: a durable outbox written in the same unit of work as the change it reports.

`emit` is the one call the rest of the services make; delivery (signature, retries, log) is
done after commit by the delivery loop.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from uuid import UUID

from releve.services.ports import Clock, UnitOfWork, UnitOfWorkFactory


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
    return None


class WebhookService:
    def __init__(self, uow: UnitOfWorkFactory, clock: Clock) -> None:
        self._uow = uow
        self._clock = clock
