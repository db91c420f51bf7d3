"""Webhook delivery for `releve serve` (a daemon thread) and `releve webhooks deliver` (once).

Every `interval` seconds (env `RELEVE_WEBHOOK_INTERVAL`, default 5) the loop sends the webhooks
due (`WebhookService.deliver_due`), rendering objects through `webhook_objects`. Several
processes may run it: rows are leased before sending, so each webhook goes out once per
endpoint (at-least-once if a process dies mid-send). A failing round is logged; the next runs.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from releve.entrypoints import daemon, webhook_objects
from releve.services.webhook_delivery import DeliveryRun
from releve.services.webhook_ports import Webhook

if TYPE_CHECKING:
    from releve.bootstrap import Container

log = logging.getLogger(__name__)
DEFAULT_INTERVAL_SECONDS = 5.0
INTERVAL_ENV = "RELEVE_WEBHOOK_INTERVAL"
ROUND_LIMIT = 100


def interval_from_env() -> float:
    """The interval in seconds; a missing, non-numeric or non-positive value → 5."""
    return daemon.interval_from_env(INTERVAL_ENV, DEFAULT_INTERVAL_SECONDS)


def deliver_once(container: Container, limit: int = ROUND_LIMIT) -> DeliveryRun:
    """Send what is due now (at most `limit` attempts)."""
    # The route modules register their object renderers when the app module imports them.
    import releve.entrypoints.api.app  # noqa: F401

    def render(webhook: Webhook) -> Any:
        assert webhook.object_id is not None
        return webhook_objects.render(
            container, webhook.organization_id, webhook.object_type, webhook.object_id
        )

    return container.webhooks.deliver_due(render, limit=limit)


class WebhookLoop(daemon.DaemonLoop):
    """Start with `start()`, stop with `stop()` (waits for the current round to end)."""

    def __init__(self, container: Container, interval: float | None = None) -> None:
        super().__init__(
            "releve-webhooks",
            lambda: _deliver_round(container),
            interval if interval is not None else interval_from_env(),
        )


def _deliver_round(container: Container) -> bool:
    """One logged delivery round; False after a full round (more may be due: go on at once)."""
    try:
        run = deliver_once(container)
    except Exception:
        log.exception("webhooks: delivery round failed")
        run = DeliveryRun()
    if run.attempted:
        log.info(
            "webhooks: %d delivered, %d to retry, %d failed",
            len(run.succeeded),
            len(run.retrying),
            len(run.failed),
        )
    return run.attempted < ROUND_LIMIT
