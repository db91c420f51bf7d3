"""Test doubles and factories shared by integration and e2e tests."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta


class FakeClock:
    """A clock the test moves by hand (the `Clock` port)."""

    def __init__(self, now: datetime | None = None) -> None:
        self._now = now or datetime(2024, 3, 15, 12, 0, tzinfo=UTC)

    def now(self) -> datetime:
        return self._now

    def advance(self, delta: timedelta) -> None:
        self._now += delta

    def set(self, now: datetime) -> None:
        self._now = now
