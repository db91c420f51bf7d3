"""Fresh migrated databases for tests: SQLite files by default, PostgreSQL on request.

`RELEVE_TEST_DATABASE_URL=postgresql://…/test` switches to PostgreSQL. Each pytest-xdist
worker migrates one template database per session (`releve_tpl_<worker>_<pid>`), and every test
gets its own `CREATE DATABASE … TEMPLATE` copy, dropped afterwards — the schema always comes from
the migrations, and a copy costs milliseconds. On SQLite the template is a migrated file copied
per test.
"""

from __future__ import annotations

import itertools
import os
import shutil
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import sqlalchemy as sa

from releve.adapters.sql.engine import create_engine, normalize_url
from releve.adapters.sql.migrate import upgrade

PG_URL = os.environ.get("RELEVE_TEST_DATABASE_URL") or None
_counter = itertools.count()


def backend() -> str:
    return "postgresql" if PG_URL else "sqlite"


def _worker() -> str:
    return os.environ.get("PYTEST_XDIST_WORKER", "main")


class DatabaseFactory:
    """Builds per-test databases from a once-migrated template."""

    def __init__(self, workdir: Path) -> None:
        self._workdir = workdir
        self._template: str | None = None

    def _admin(self) -> sa.Engine:
        assert PG_URL is not None
        return create_engine(PG_URL, isolation_level="AUTOCOMMIT", poolclass=sa.pool.NullPool)

    def _url_for(self, name: str) -> str:
        assert PG_URL is not None
        return (
            sa.engine.make_url(normalize_url(PG_URL))
            .set(database=name)
            .render_as_string(hide_password=False)
        )

    def template(self) -> str:
        if self._template is not None:
            return self._template
        if PG_URL:
            # The pid keeps concurrent suites (two checkouts, a developer and CI) apart.
            name = f"releve_tpl_{_worker()}_{os.getpid()}"
            admin = self._admin()
            with admin.connect() as c:
                c.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
                c.exec_driver_sql(f'CREATE DATABASE "{name}"')
            admin.dispose()
            engine = create_engine(self._url_for(name), poolclass=sa.pool.NullPool)
            upgrade(engine)
            engine.dispose()
            self._template = name
        else:
            path = self._workdir / "template.db"
            engine = create_engine(f"sqlite:///{path}")
            upgrade(engine)
            engine.dispose()
            # Fold the WAL into the main file so a plain file copy is a complete database.
            raw = sqlite3.connect(path)
            raw.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            raw.close()
            self._template = str(path)
        return self._template

    @contextmanager
    def fresh(self) -> Iterator[str]:
        """The URL of a new migrated database, removed when the block ends."""
        template = self.template()
        n = next(_counter)
        if PG_URL:
            name = f"releve_t_{_worker()}_{os.getpid()}_{n}"
            admin = self._admin()
            with admin.connect() as c:
                c.exec_driver_sql(f'CREATE DATABASE "{name}" TEMPLATE "{template}"')
            try:
                yield self._url_for(name)
            finally:
                with admin.connect() as c:
                    c.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
                admin.dispose()
        else:
            path = self._workdir / f"test_{n}.db"
            shutil.copyfile(template, path)
            yield f"sqlite:///{path}"

    def drop_template(self) -> None:
        if PG_URL and self._template:
            admin = self._admin()
            with admin.connect() as c:
                c.exec_driver_sql(f'DROP DATABASE IF EXISTS "{self._template}" WITH (FORCE)')
            admin.dispose()
