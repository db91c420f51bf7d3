"""Retrying a use case whose transaction lost a unique-key race."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TypeVar

from releve.services.errors import StoreConflict

T = TypeVar("T")
MAX_ATTEMPTS = 5


def retry_on_conflict(attempt: Callable[[], T], attempts: int = MAX_ATTEMPTS) -> T:
    """Run `attempt` (which opens its own unit of work) again after a `StoreConflict`.

    The second run sees the winner's committed rows, so it decides correctly (replay, conflict,
    or insert); a race therefore never surfaces as a server error.
    """
    for n in range(attempts):
        try:
            return attempt()
        except StoreConflict:
            if n == attempts - 1:
                raise
            time.sleep(0.005 * (n + 1))
    raise AssertionError("unreachable")  # pragma: no cover
