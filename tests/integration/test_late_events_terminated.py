"""Late events of a terminated subscription: a standalone adjustment invoice, once per new usage.

Catalog of `test_late_events`: VAT 20 %; metric `units` (sum of `value`); plan `late`, monthly,
0.00 EUR fee, one arrears graduated charge: 0–100 units at 1.00 EUR, above at 0.50 EUR.
Subscribed Jan 1 2026 (UTC), 90 units on Jan 15, terminated Jan 20 12:00: the final invoice bills
90 × 1.00 = 90.00 + VAT 18.00 = 108.00 and is finalized at once (no grace period).
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

import pytest
from fastapi.testclient import TestClient

from releve.adapters.sql.uow import SqlUnitOfWorkFactory
from releve.bootstrap import Container
from releve.domain.billing.period_invoice import InvoiceKind
from tests.integration.billing_support import list_invoices, subscribe
from tests.integration.support import FakeClock
from tests.integration.test_late_events import at, catalog, pending, send

pytestmark = pytest.mark.store


def adjustment_fees(invoice: dict[str, Any]) -> list[dict[str, Any]]:
    return [f for f in invoice["fees"] if f["item"]["type"] == "adjustment"]


def terminated(api: TestClient, clock: FakeClock) -> dict[str, Any]:
    catalog(api, "graduated")
    subscribe(api, clock, at(2026, 1, 1), plan_code="late")
    send(api, clock, at(2026, 1, 15), at(2026, 1, 15), 90)
    clock.set(at(2026, 1, 20, 12))
    assert api.delete("/api/v1/subscriptions/sub_1").status_code == 200
    (final,) = list_invoices(api)
    assert (final["status"], final["fees_amount_cents"], final["total_amount_cents"]) == (
        "finalized", 9000, 10800,
    )  # fmt: skip
    return final


def test_a_terminated_subscriptions_late_usage_is_invoiced_once_on_its_own_invoice(
    api: TestClient, clock: FakeClock, container: Container
) -> None:
    final = terminated(api, clock)
    # Dated Jan 18 (before the termination), arrives Jan 25: 110 units = 100 × 1.00 + 10 × 0.50
    # = 105.00, invoiced 90.00 → +15.00.
    send(api, clock, at(2026, 1, 25), at(2026, 1, 18), 20)
    (item,) = pending(api)
    assert item["adjustment_amount_cents"] == 1500

    clock.set(at(2026, 2, 1, 1))
    run = container.billing.bill_due()
    # 15.00 + VAT 3.00 = 18.00.
    (issued,) = run.issued
    assert (issued.invoice_type, issued.status, issued.total_amount_cents) == (
        "subscription", "finalized", 1800,
    )  # fmt: skip
    invoice = api.get(f"/api/v1/invoices/{issued.id}").json()["invoice"]
    (fee,) = invoice["fees"]
    assert fee["item"]["type"] == "adjustment"
    assert (fee["amount_cents"], fee["taxes_amount_cents"], fee["total_amount_cents"]) == (
        1500, 300, 1800,
    )  # fmt: skip
    assert fee["amount_details"]["original_invoice_number"] == final["number"]
    # The final invoice billed the termination day whole (its charge period ends Jan 21).
    assert (fee["from_date"], fee["to_date"]) == ("2026-01-01T00:00:00Z", "2026-01-21T00:00:00Z")
    (period,) = invoice["billing_periods"]
    assert period["invoicing_reason"] == "late_usage_adjustment"
    assert (invoice["fees_amount_cents"], invoice["taxes_amount_cents"]) == (1500, 300)
    assert pending(api) == []

    # Rerun (same day, next day): nothing more; the unique key refuses the same invoice twice.
    assert container.billing.bill_due().issued == []
    clock.set(at(2026, 2, 2))
    assert container.billing.bill_due().issued == []
    with SqlUnitOfWorkFactory(container.engine)() as uow:
        sub_id = UUID(invoice["subscriptions"][0]["lago_id"])
        sub = uow.subscriptions.get_by_id(issued.organization_id, sub_id)
        assert sub is not None
        link = uow.invoices.billed_periods([sub.id])[sub.id][-1]
        assert link.kind == InvoiceKind.ADJUSTMENT.value
        assert (
            container.billing.issue_in(uow, sub, InvoiceKind.ADJUSTMENT, link.period_start) is None
        )

    # A second late event, Feb 3 dated Jan 19: 120 units = 100 + 20 × 0.50 = 110.00; invoiced
    # 90.00 + 15.00 → +5.00, + VAT 1.00 = 6.00 on a second adjustment invoice.
    send(api, clock, at(2026, 2, 3), at(2026, 1, 19), 10)
    clock.set(at(2026, 2, 4))
    (second,) = container.billing.bill_due().issued
    assert (second.fees_amount_cents, second.total_amount_cents) == (500, 600)
    assert container.billing.bill_due().issued == []
    assert len(api.get("/api/v1/fees", params={"fee_type": "adjustment"}).json()["fees"]) == 2
    again = api.get(f"/api/v1/invoices/{final['lago_id']}").json()["invoice"]
    assert (again["fees_amount_cents"], again["total_amount_cents"]) == (9000, 10800)
    # Past usage lists the terminated period once: adjustment invoices are not periods.
    history = api.get("/api/v1/customers/cus_1/past_usage?external_subscription_id=sub_1")
    assert history.status_code == 200, history.text
    assert len(history.json()["usage_periods"]) == 1


def test_usage_after_the_termination_issues_nothing(
    api: TestClient, clock: FakeClock, container: Container
) -> None:
    terminated(api, clock)
    # Dated after the termination: not the subscription's (unmatched), nothing to adjust.
    send(api, clock, at(2026, 1, 25), at(2026, 1, 22), 20)
    clock.set(at(2026, 2, 1, 1))
    assert container.billing.bill_due().issued == []
    assert len(list_invoices(api)) == 1
