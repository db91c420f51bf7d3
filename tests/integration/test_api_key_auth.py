"""API-key authentication per request: nothing cached, so a revocation holds on the next request,
even when another process (a second engine: the CLI, another API worker) revoked the key."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any
from uuid import UUID

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient

from releve.adapters.sql.engine import create_engine
from releve.bootstrap import Container, bootstrap
from releve.settings import Settings
from tests.integration.support import FakeClock

pytestmark = pytest.mark.store


@pytest.fixture
def elsewhere(database_url: str, clock: FakeClock) -> Iterator[Container]:
    """Another process's view of the same database: its own engine and pool."""
    engine = create_engine(database_url)
    yield bootstrap(Settings(database_url=database_url), engine=engine, clock=clock)
    engine.dispose()


def _get(client: TestClient, key: str) -> int:
    r = client.get("/api/v1/customers", headers={"Authorization": f"Bearer {key}"})
    return r.status_code


def test_revoked_or_rotated_key_fails_on_the_very_next_request(
    client: TestClient, org: tuple[UUID, str], elsewhere: Container
) -> None:
    organization_id, key = org
    assert [_get(client, key) for _ in range(3)] == [200, 200, 200]
    rotated = elsewhere.organizations.issue_api_key(organization_id)
    assert elsewhere.organizations.revoke_api_key(key)
    assert _get(client, key) == 401
    assert _get(client, rotated) == 200
    assert _get(client, rotated + "x") == 401 and _get(client, "") == 401


def test_the_organization_read_is_current(
    container: Container, org: tuple[UUID, str], elsewhere: Container
) -> None:
    before = container.authentication.authenticate(org[1])
    assert before is not None and before.timezone == "UTC"
    with elsewhere.engine.begin() as c:
        c.execute(sa.text("UPDATE organizations SET timezone = 'Europe/Paris'"))
    after = container.authentication.authenticate(org[1])
    assert after is not None and after.timezone == "Europe/Paris"


def test_authentication_never_takes_the_sqlite_write_lock(
    container: Container, org: tuple[UUID, str]
) -> None:
    seen: list[str] = []

    def record(*args: Any) -> None:
        seen.append(" ".join(str(args[2]).split()).upper())

    sa.event.listen(container.engine, "before_cursor_execute", record)
    try:
        assert container.authentication.authenticate(org[1]) is not None
    finally:
        sa.event.remove(container.engine, "before_cursor_execute", record)
    assert "BEGIN IMMEDIATE" not in seen  # SQLite: DEFERRED; PostgreSQL: autocommit, no BEGIN
    assert [s.split()[0] for s in seen if not s.startswith("BEGIN")] == ["SELECT"]
