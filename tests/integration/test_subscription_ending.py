"""`ending_at`: the billing loop (and `releve bill`) ends a subscription at its `ending_at`.

Plan: monthly, 31.00 EUR in arrears, api_calls at 0.05 EUR (billing_support.catalog), customer
in UTC, subscribed on 2024-01-01, `ending_at` 2024-01-15 12:00 UTC.
Final invoice (hand-computed): the termination day counts as used → 15 of January's 31 days:
31.00 × 15/31 = 15.00 EUR; usage 10 calls × 0.05 = 0.50 EUR (the 4 calls sent at 18:00, after
the end, are not counted); total 15.50 EUR = 1550 cents, no tax.
"""

from __future__ import annotations

from datetime import UTC, datetime
from uuid import UUID

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from releve.bootstrap import Container
from releve.entrypoints.cli import app
from releve.entrypoints.scheduler import tick
from tests.integration.billing_support import catalog, list_invoices, post, subscribe
from tests.integration.support import FakeClock

pytestmark = pytest.mark.store


def _ending_subscription(api: TestClient, clock: FakeClock) -> None:
    catalog(api, vat=None, amount_cents=3100)
    subscribe(api, clock, datetime(2024, 1, 1, tzinfo=UTC))
    r = api.put(
        "/api/v1/subscriptions/sub_1",
        json={"subscription": {"ending_at": "2024-01-15T12:00:00Z"}},
    )
    assert r.status_code == 200, r.text
    for n, (when, calls) in enumerate(
        ((datetime(2024, 1, 10, 9, tzinfo=UTC), 10), (datetime(2024, 1, 15, 18, tzinfo=UTC), 4))
    ):
        clock.set(when)
        post(api, "events", {"event": {"transaction_id": f"e{n}", "code": "api_calls",
                                       "external_subscription_id": "sub_1",
                                       "timestamp": int(when.timestamp()),
                                       "properties": {"value": calls}}})  # fmt: skip


def _check_final_invoice(api: TestClient) -> None:
    sub = api.get("/api/v1/subscriptions/sub_1?status=terminated")
    assert sub.status_code == 200, sub.text
    body = sub.json()["subscription"]
    assert (body["status"], body["terminated_at"]) == ("terminated", "2024-01-15T12:00:00Z")
    (final,) = list_invoices(api)
    assert (final["status"], final["fees_amount_cents"], final["total_amount_cents"]) == (
        "finalized", 1550, 1550,
    )  # fmt: skip
    amounts = sorted(f["amount_cents"] for f in final["fees"])
    assert amounts == [50, 1500]  # 10 calls × 0.05; 31.00 × 15/31


def test_the_scheduler_ends_a_subscription_at_its_ending_at_with_its_final_invoice(
    api: TestClient, clock: FakeClock, container: Container, org: tuple[UUID, str]
) -> None:
    _ending_subscription(api, clock)
    clock.set(datetime(2024, 1, 20, tzinfo=UTC))
    tick(container)
    _check_final_invoice(api)
    tick(container)  # nothing more: ended once, invoiced once
    assert len(list_invoices(api)) == 1


def test_releve_bill_ends_due_subscriptions_too(
    api: TestClient,
    clock: FakeClock,
    database_url: str,
    monkeypatch: pytest.MonkeyPatch,
    org: tuple[UUID, str],
) -> None:
    _ending_subscription(api, clock)
    monkeypatch.setenv("RELEVE_DATABASE_URL", database_url)
    result = CliRunner().invoke(app, ["bill", "--at", "2024-01-15T11:00:00+00:00"])
    assert result.exit_code == 0, result.output
    assert list_invoices(api) == []  # not yet: ending_at is at 12:00
    result = CliRunner().invoke(app, ["bill", "--at", "2024-01-20T00:00:00+00:00"])
    assert result.exit_code == 0, result.output
    _check_final_invoice(api)
