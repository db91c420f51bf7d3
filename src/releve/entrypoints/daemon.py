"""The background loops of `releve serve` (billing scheduler, webhook delivery): one daemon
thread each, with the same interval setting and the same start/stop.

Both loops must stop the same way (at the end of the current round, never in the middle of
one) and read their interval the same way, so that lives here once.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Callable

log = logging.getLogger(__name__)


def interval_from_env(name: str, default: float) -> float:
    """The interval in seconds from env `name`; a missing, non-numeric or non-positive value →
    `default` (a typo must not stop billing or webhooks, only be logged)."""
    raw = os.environ.get(name)
    if not raw:
        return default
    try:
        value = float(raw)
    except ValueError:
        log.warning("%s=%r is not a number; using %s s", name, raw, default)
        return default
    return value if value > 0 else default


class DaemonLoop:
    """Runs `run_round` in a daemon thread until `stop()`; after a round that returns True it
    waits `interval` seconds, after one that returns False (more work is due) it goes on at
    once. `stop()` waits for the current round to end."""

    def __init__(self, name: str, run_round: Callable[[], bool], interval: float) -> None:
        self.interval = interval
        self._run_round = run_round
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name=name, daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self, timeout: float = 30.0) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout)

    def _loop(self) -> None:
        while not self._stop.is_set():
            if self._run_round():
                self._stop.wait(self.interval)
