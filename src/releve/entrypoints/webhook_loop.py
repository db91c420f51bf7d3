"""Webhook delivery for `releve serve` (a daemon thread) and `releve webhooks deliver` (once).

Every `interval` seconds (env `RELEVE_WEBHOOK_INTERVAL`, default 5) the loop sends the webhooks
due (`WebhookService.deliver_due`), rendering objects through `webhook_objects`. Several
processes may run it: rows are leased before sending, so each webhook goes out once per
endpoint (at-least-once if a process dies mid-send). A failing round is logged; the next runs.
"""

from __future__ import annotations

import logging
import os
import threading
from typing import TYPE_CHECKING, Any

from releve.entrypoints import webhook_objects
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
    raw = os.environ.get(INTERVAL_ENV)
    try:
        value = float(raw) if raw else DEFAULT_INTERVAL_SECONDS
    except ValueError:
        log.warning(
            "%s=%r is not a number; using %s s", INTERVAL_ENV, raw, DEFAULT_INTERVAL_SECONDS
        )
        return DEFAULT_INTERVAL_SECONDS
    return value if value > 0 else DEFAULT_INTERVAL_SECONDS


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


class WebhookLoop:
    """Start with `start()`, stop with `stop()` (waits for the current round to end)."""

    def __init__(self, container: Container, interval: float | None = None) -> None:
        self._container = container
        self.interval = interval if interval is not None else interval_from_env()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="releve-webhooks", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self, timeout: float = 30.0) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout)

    def _loop(self) -> None:
        while not self._stop.is_set():
            try:
                run = deliver_once(self._container)
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
            if run.attempted < ROUND_LIMIT:  # a full round: more may be due, go on at once
                self._stop.wait(self.interval)
