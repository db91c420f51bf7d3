"""A late event that arrives while a bill run is going on is settled by that run's invoice.

Regression (review of the per-run cache): the run used to decide at its start which
subscriptions had late usage; an event for an already finalized period arriving after that
decision was left out of the subscription's invoice of the same run, and lost for good when the
subscription was then terminated without a final invoice.
"""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from releve.adapters.sql.repositories.invoices import SqlInvoiceRepository
from releve.bootstrap import Container
from tests.integration.billing_support import list_invoices
from tests.integration.support import FakeClock
from tests.integration.test_late_events import at, january, pending, send

pytestmark = pytest.mark.store


def test_late_event_during_the_run_is_settled_by_its_invoice(
    api: TestClient, clock: FakeClock, container: Container, monkeypatch: pytest.MonkeyPatch
) -> None:
    january(api, clock, container, "graduated")
    original = SqlInvoiceRepository.billed_periods
    arrived: list[bool] = []

    def billed_periods(self: SqlInvoiceRepository, ids: Any) -> Any:
        found = original(self, ids)
        if not arrived:  # a late January event arrives while the March 1 run plans its work
            arrived.append(True)
            send(api, clock, at(2026, 3, 1, 1, 0, 10), at(2026, 1, 20), 20)
            clock.set(at(2026, 3, 1, 1, 0, 20))
        return found

    monkeypatch.setattr(SqlInvoiceRepository, "billed_periods", billed_periods)
    clock.set(at(2026, 3, 1, 1))
    run = container.billing.bill_due()
    monkeypatch.undo()
    assert arrived and not run.errors
    # January re-priced with the late 20 units: +15.00, +20 % VAT = 18.00 on the March invoice.
    assert [i.total_amount_cents for i in run.issued] == [1800]
    assert pending(api) == []
    clock.set(at(2026, 3, 10))
    r = api.delete("/api/v1/subscriptions/sub_1", params={"on_termination_invoice": "skip"})
    assert r.status_code == 200, r.text
    clock.set(at(2026, 3, 11))
    container.billing.bill_due()
    assert pending(api) == []
    assert 1800 in [i["total_amount_cents"] for i in list_invoices(api)]
