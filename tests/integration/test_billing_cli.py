"""`releve bill` and the scheduler of `releve serve` (both stores)."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from uuid import UUID

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from releve.bootstrap import Container
from releve.entrypoints.cli import app
from releve.entrypoints.scheduler import BillingScheduler, interval_from_env, tick
from tests.integration.billing_support import catalog, list_invoices, subscribe
from tests.integration.support import FakeClock

pytestmark = pytest.mark.store


def test_bill_command_issues_due_invoices_once_with_a_summary(
    api: TestClient,
    clock: FakeClock,
    database_url: str,
    monkeypatch: pytest.MonkeyPatch,
    org: tuple[UUID, str],
) -> None:
    catalog(api, vat=None)
    subscribe(api, clock, datetime(2024, 1, 1, tzinfo=UTC))
    monkeypatch.setenv("RELEVE_DATABASE_URL", database_url)
    runner = CliRunner()
    result = runner.invoke(app, ["bill", "--at", "2024-02-01T01:00:00+00:00"])
    assert result.exit_code == 0, result.output
    assert "1 invoice(s) issued; totals: EUR 1000" in result.stdout
    assert f"ACM-{org[0].hex[-4:].upper()}-000001" in result.stdout
    again = runner.invoke(app, ["bill", "--at", "2024-02-01T01:00:00+00:00"])
    assert again.exit_code == 0 and "0 invoice(s) issued" in again.stdout
    assert len(list_invoices(api)) == 1
    for bad in ("yesterday", "2024-02-01T01:00:00", "2999-01-01T00:00:00+00:00"):
        assert runner.invoke(app, ["bill", "--at", bad]).exit_code == 2


def test_scheduler_tick_bills_and_the_thread_stops(
    api: TestClient, clock: FakeClock, container: Container, monkeypatch: pytest.MonkeyPatch
) -> None:
    catalog(api, vat=None)
    subscribe(api, clock, datetime(2024, 1, 1, tzinfo=UTC))
    clock.set(datetime(2024, 2, 1, 1, tzinfo=UTC))
    tick(container)
    assert len(list_invoices(api)) == 1
    clock.set(datetime(2024, 3, 1, 1, tzinfo=UTC))
    scheduler = BillingScheduler(container, interval=0.05)
    scheduler.start()
    deadline = time.monotonic() + 10
    while len(list_invoices(api)) < 2 and time.monotonic() < deadline:
        time.sleep(0.05)
    scheduler.stop()
    assert len(list_invoices(api)) == 2
    monkeypatch.setenv("RELEVE_SCHEDULER_INTERVAL", "2.5")
    assert interval_from_env() == 2.5
    for bad in ("soon", "0", "-1"):
        monkeypatch.setenv("RELEVE_SCHEDULER_INTERVAL", bad)
        assert interval_from_env() == 60.0
