"""Database fixtures: every test gets a fresh, migrated database (see databases.py)."""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from uuid import UUID

import pytest
import sqlalchemy as sa
from starlette.exceptions import StarletteDeprecationWarning

with warnings.catch_warnings():
    # Starlette warns at import that it prefers `httpx2`; the suite runs warnings-as-errors and
    # the installed httpx works, so this one import-time notice is silenced here only.
    warnings.simplefilter("ignore", StarletteDeprecationWarning)
    from fastapi.testclient import TestClient

from releve.adapters.sql.engine import create_engine
from releve.bootstrap import Container, bootstrap
from releve.entrypoints.api.app import create_app
from releve.settings import Settings
from tests.integration.databases import DatabaseFactory
from tests.integration.support import FakeClock


@pytest.fixture(scope="session")
def database_factory(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DatabaseFactory]:
    factory = DatabaseFactory(tmp_path_factory.mktemp("db"))
    yield factory
    factory.drop_template()


@pytest.fixture
def database_url(database_factory: DatabaseFactory) -> Iterator[str]:
    with database_factory.fresh() as url:
        yield url


@pytest.fixture
def engine(database_url: str) -> Iterator[sa.Engine]:
    engine = create_engine(database_url)
    yield engine
    engine.dispose()


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def container(database_url: str, engine: sa.Engine, clock: FakeClock) -> Container:
    return bootstrap(Settings(database_url=database_url), engine=engine, clock=clock)


@pytest.fixture
def org(container: Container) -> tuple[UUID, str]:
    created = container.organizations.create("Acme", default_currency="EUR")
    return created.organization_id, created.api_key


@pytest.fixture
def other_org(container: Container) -> tuple[UUID, str]:
    created = container.organizations.create("Globex")
    return created.organization_id, created.api_key


@pytest.fixture
def client(container: Container) -> Iterator[TestClient]:
    with TestClient(create_app(container)) as test_client:
        yield test_client


@pytest.fixture
def api(client: TestClient, org: tuple[UUID, str]) -> TestClient:
    """A client authenticated as `org`."""
    client.headers["Authorization"] = f"Bearer {org[1]}"
    return client
