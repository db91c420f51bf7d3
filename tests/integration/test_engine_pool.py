"""The engine keeps enough connections for a burst of concurrent requests: the second burst
opens none (SQLAlchemy's default pool of 5 closed and reopened overflow connections)."""

from __future__ import annotations

import threading
from typing import Any

import pytest
import sqlalchemy as sa

from releve.adapters.sql.engine import create_engine

pytestmark = pytest.mark.store


def test_a_second_burst_of_twelve_connections_opens_none(database_url: str) -> None:
    if database_url.endswith(":memory:"):
        pytest.skip("an in-memory database has a single connection")
    engine = create_engine(database_url)
    opened: list[Any] = []
    sa.event.listen(engine, "connect", lambda *_: opened.append(1))
    barrier = threading.Barrier(12)

    def hold() -> None:
        with engine.connect().execution_options(read_only=True) as c:
            c.exec_driver_sql("SELECT 1")
            barrier.wait(timeout=30)  # all 12 checked out at once

    try:
        for _ in range(2):
            before = len(opened)
            threads = [threading.Thread(target=hold) for _ in range(12)]
            for t in threads:
                t.start()
            for t in threads:
                t.join()
            burst = len(opened) - before
        assert burst == 0  # the second burst reused the first one's connections
        assert len(opened) == 12
    finally:
        engine.dispose()
