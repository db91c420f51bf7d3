"""`releve organizations create` and `releve demo --if-empty` against the configured store."""

from __future__ import annotations

import json
from functools import partialmethod
from pathlib import Path

import pytest
from typer.testing import CliRunner

from releve.bootstrap import Container
from releve.entrypoints.cli import app
from releve.services.demo import DemoService

pytestmark = pytest.mark.store


def test_organizations_create_prints_json(
    database_url: str, container: Container, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("RELEVE_DATABASE_URL", database_url)
    result = CliRunner().invoke(app, ["organizations", "create", "Acme"])
    assert result.exit_code == 0, result.output
    created = json.loads(result.stdout.strip().splitlines()[-1])
    org = container.authentication.authenticate(created["api_key"])
    assert org is not None and str(org.id) == created["organization_id"]


def test_demo_if_empty_seeds_once(
    database_url: str, container: Container, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("RELEVE_DATABASE_URL", database_url)
    monkeypatch.chdir(tmp_path)
    # The full demo takes ~10 s; the CLI wiring is the same at a tenth of the volume.
    monkeypatch.setattr(DemoService, "seed", partialmethod(DemoService.seed, scale=0.1))
    first = CliRunner().invoke(app, ["demo", "--if-empty"])
    assert first.exit_code == 0, first.output
    second = CliRunner().invoke(app, ["demo", "--if-empty"])
    assert second.exit_code == 0, second.output
    assert container.organizations.count() == 1
    key = next(line.split()[-1] for line in second.stdout.splitlines() if "API key" in line)
    assert container.authentication.authenticate(key) is not None
    assert any("/portal/" in line for line in second.stdout.splitlines())
