"""Terminating while a billing run issues the same subscription's invoices: the termination is
retried in a fresh transaction (never a 409), and each period is billed exactly once."""

from __future__ import annotations

import threading
from collections import Counter
from datetime import UTC, datetime
from typing import Any

import pytest
from fastapi.testclient import TestClient

from releve.bootstrap import Container
from tests.integration.billing_support import catalog, list_invoices, subscribe, usage
from tests.integration.support import FakeClock

pytestmark = pytest.mark.store

SUBSCRIPTIONS = 4


def at(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=UTC)  # type: ignore[arg-type, misc]


def test_terminate_racing_bill_due_succeeds_with_one_final_invoice(
    api: TestClient, clock: FakeClock, container: Container, org: Any
) -> None:
    catalog(api, vat=None)
    ids = [f"sub_{n}" for n in range(SUBSCRIPTIONS)]
    for n, external_id in enumerate(ids):
        subscribe(api, clock, at(2024, 1, 1), customer=f"cus_{n}", external_id=external_id)
        usage(api, clock, at(2024, 1, 20, n), "api_calls", {"value": 10}, external_id=external_id)
    clock.set(at(2024, 2, 10))  # January is due and not billed yet: both threads issue it
    barrier = threading.Barrier(2)
    failures: list[BaseException] = []
    runs: list[Any] = []

    def terminate() -> None:
        barrier.wait()
        for external_id in ids:
            try:
                view = container.subscriptions.terminate(org[0], external_id)
                assert view.subscription.status == "terminated"
            except BaseException as exc:
                failures.append(exc)

    def bill() -> None:
        barrier.wait()
        runs.append(container.billing.bill_due())

    threads = [threading.Thread(target=terminate), threading.Thread(target=bill)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert failures == []
    assert [r.errors for r in runs] == [[]]
    found = list_invoices(api, per_page=100)
    reasons = Counter(
        (i["subscriptions"][0]["external_id"], i["billing_periods"][0]["invoicing_reason"])
        for i in found
    )
    for external_id in ids:
        assert reasons[(external_id, "subscription_terminating")] == 1, reasons
        assert reasons[(external_id, "subscription_periodic")] == 1, reasons
    assert len(found) == 2 * SUBSCRIPTIONS
    for external_id in ids:
        r = api.delete(f"/api/v1/subscriptions/{external_id}")
        assert r.status_code == 404  # already terminated: nothing live left
