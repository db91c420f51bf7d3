"""Drafts in a grace period: refresh with late events, finalize, void, delete, and the run
that finalizes drafts once their grace period is over.

Catalog (billing_support.catalog, no VAT): plan `pro`, monthly, 10.00 EUR; api_calls standard
0.05 EUR/call. Customer grace period: 3 days, so January's invoice (boundary Feb 1 00:00 UTC)
stays draft until Feb 4 00:00 UTC.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from uuid import UUID

import pytest
from fastapi.testclient import TestClient

from releve.bootstrap import Container
from tests.integration.billing_support import catalog, fees_by_code, list_invoices, post, subscribe
from tests.integration.support import FakeClock

pytestmark = pytest.mark.store


def at(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=UTC)  # type: ignore[arg-type, misc]


def _event(api: TestClient, clock: FakeClock, sent: datetime, happened: datetime, n: int) -> None:
    """`n` api calls that happened at `happened`, received at `sent` (late when after)."""
    clock.set(sent)
    post(
        api,
        "events",
        {
            "event": {
                "transaction_id": f"calls-{happened.isoformat()}-{sent.isoformat()}",
                "external_subscription_id": "sub_1",
                "code": "api_calls",
                "timestamp": int(happened.timestamp()),
                "properties": {"value": n},
            }
        },
    )


def _january_draft(api: TestClient, clock: FakeClock, container: Container) -> dict[str, Any]:
    catalog(api, vat=None)
    subscribe(api, clock, at(2024, 1, 1))
    post(
        api,
        "customers",
        {
            "customer": {
                "external_id": "cus_1",
                "billing_configuration": {"invoice_grace_period": 3},
            }
        },
    )
    _event(api, clock, at(2024, 1, 15, 9), at(2024, 1, 15, 9), 100)
    clock.set(at(2024, 2, 1, 1))
    run = container.billing.bill_due()
    assert [i.status for i in run.issued] == ["draft"] and run.finalized == []
    (draft,) = list_invoices(api, status="draft")
    assert draft["total_amount_cents"] == 1000 + 100 * 5  # 10.00 + 100 × 0.05
    return draft


def _prefix(org: tuple[UUID, str]) -> str:
    return f"ACM-{org[0].hex[-4:].upper()}"


def test_refresh_counts_late_events_then_finalize_void_and_wrong_states(
    api: TestClient,
    clock: FakeClock,
    container: Container,
    client: TestClient,
    org: tuple[UUID, str],
    other_org: tuple[UUID, str],
) -> None:
    draft = _january_draft(api, clock, container)
    url = f"/api/v1/invoices/{draft['lago_id']}"
    # A late event: sent Feb 2, it happened Jan 20 (inside the closed period).
    _event(api, clock, at(2024, 2, 2, 10), at(2024, 1, 20, 12), 40)
    assert api.get(url).json()["invoice"]["total_amount_cents"] == 1500  # not refreshed yet

    other = {"Authorization": f"Bearer {other_org[1]}"}
    for method, path in (
        ("PUT", "/refresh"),
        ("PUT", "/finalize"),
        ("POST", "/void"),
        ("DELETE", ""),
    ):
        r = client.request(method, url + path, headers=other)
        assert r.status_code == 404 and r.json()["code"] == "invoice_not_found", (method, path)
    assert api.put("/api/v1/invoices/not-a-uuid/refresh").status_code == 404

    r = api.put(f"{url}/refresh")
    assert r.status_code == 200, r.text
    refreshed = r.json()["invoice"]
    # 10.00 + (100 + 40) × 0.05 = 10.00 + 7.00 = 17.00
    assert refreshed["lago_id"] == draft["lago_id"] and refreshed["status"] == "draft"
    assert (refreshed["fees_amount_cents"], refreshed["total_amount_cents"]) == (1700, 1700)
    calls = fees_by_code(refreshed)["api_calls"]
    assert (calls["amount_cents"], calls["units"], calls["events_count"]) == (700, "140", 2)
    assert refreshed["number"] == f"{_prefix(org)}-DRAFT"
    assert len(list_invoices(api)) == 1

    r = api.post(f"{url}/void")
    assert r.status_code == 405 and r.json() == {
        "status": 405,
        "error": "Method Not Allowed",
        "code": "not_voidable",
    }

    clock.set(at(2024, 2, 3, 8))
    r = api.put(f"{url}/finalize")
    assert r.status_code == 200, r.text
    final = r.json()["invoice"]
    assert (final["status"], final["number"], final["sequential_id"]) == (
        "finalized",
        f"{_prefix(org)}-000001",
        1,
    )
    assert (final["total_amount_cents"], final["payment_status"]) == (1700, "pending")
    assert final["issuing_date"] == "2024-02-01"

    for method, path in (("PUT", "/finalize"), ("PUT", "/refresh"), ("DELETE", "")):
        r = api.request(method, url + path)
        assert r.status_code == 405 and r.json()["code"] == "not_draft", (method, path)
    _event(api, clock, at(2024, 2, 3, 9), at(2024, 1, 25), 1000)  # too late now
    assert api.get(url).json()["invoice"]["total_amount_cents"] == 1700

    r = api.post(f"{url}/void")
    assert r.status_code == 200, r.text
    assert r.json()["invoice"]["status"] == "voided"
    assert api.post(f"{url}/void").status_code == 405
    assert list_invoices(api, status="voided")[0]["lago_id"] == draft["lago_id"]


def test_bill_due_finalizes_a_draft_once_its_grace_period_is_over(
    api: TestClient, clock: FakeClock, container: Container, org: tuple[UUID, str]
) -> None:
    draft = _january_draft(api, clock, container)
    clock.set(at(2024, 2, 3, 23, 59))
    run = container.billing.bill_due()
    assert run.issued == [] and run.finalized == [] and run.errors == []
    _event(api, clock, at(2024, 2, 3, 23, 59), at(2024, 1, 31, 23), 20)  # late, still counts
    clock.set(at(2024, 2, 4, 0, 30))
    run = container.billing.bill_due()
    assert run.errors == []
    (done,) = run.finalized
    assert done.id == UUID(draft["lago_id"])
    assert (done.number, done.total_amount_cents) == (f"{_prefix(org)}-000001", 1000 + 120 * 5)
    again = container.billing.bill_due()
    assert again.finalized == [] and again.issued == []
    (shown,) = list_invoices(api)
    assert (shown["status"], shown["sequential_id"], shown["total_amount_cents"]) == (
        "finalized",
        1,
        1600,
    )

    url = f"/api/v1/invoices/{shown['lago_id']}"
    r = api.put(url, json={"invoice": {"payment_status": "succeeded"}})
    assert r.status_code == 200
    r = api.post(f"{url}/void")
    assert r.status_code == 405 and r.json()["code"] == "not_voidable"  # paid: no void

    clock.set(at(2024, 3, 1, 1))
    (march,) = container.billing.bill_due().issued  # February: draft, numbered later
    assert march.status == "draft" and march.total_amount_cents == 1000


def test_delete_a_draft_and_the_period_stays_billed(
    api: TestClient, clock: FakeClock, container: Container
) -> None:
    draft = _january_draft(api, clock, container)
    url = f"/api/v1/invoices/{draft['lago_id']}"
    r = api.delete(url)
    assert r.status_code == 200, r.text
    assert r.json()["invoice"]["status"] == "deleted"
    assert api.get(url).status_code == 404
    assert api.delete(url).status_code == 404
    clock.set(at(2024, 2, 10))
    run = container.billing.bill_due()
    assert run.issued == [] and run.finalized == [] and list_invoices(api) == []
