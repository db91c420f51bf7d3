"""A real `releve serve` process on a free port, with a fresh migrated database."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from tests.integration.databases import DatabaseFactory

E2E_API_KEY = "rlv_e2e_" + "k" * 36


@dataclass(frozen=True)
class Server:
    url: str
    api_key: str


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="session")
def e2e_databases(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DatabaseFactory]:
    factory = DatabaseFactory(tmp_path_factory.mktemp("e2e-db"))
    yield factory
    factory.drop_template()


@pytest.fixture
def server(e2e_databases: DatabaseFactory, tmp_path: Path) -> Iterator[Server]:
    port = _free_port()
    releve = Path(sys.executable).with_name("releve")
    with e2e_databases.fresh() as database_url:
        env = {
            **os.environ,
            "RELEVE_DATABASE_URL": database_url,
            "RELEVE_API_KEY": E2E_API_KEY,
        }
        log = (tmp_path / "server.log").open("wb")
        process = subprocess.Popen(
            [str(releve), "serve", "--host", "127.0.0.1", "--port", str(port), "--no-scheduler"],
            env=env,
            cwd=tmp_path,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        url = f"http://127.0.0.1:{port}"
        try:
            deadline = time.monotonic() + 30
            while True:
                try:
                    if httpx.get(f"{url}/health", timeout=1).status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                if process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError((tmp_path / "server.log").read_text())
                time.sleep(0.1)
            yield Server(url, E2E_API_KEY)
        finally:
            process.terminate()
            process.wait(timeout=10)
            log.close()
