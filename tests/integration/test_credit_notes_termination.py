"""Automatic credit notes for the unused prepaid days of an in-advance plan (termination and
upgrade), and the Σ-of-credit-notes invariant under random request sequences.

Catalog (billing_support.catalog, in advance): VAT 20 %; plan `pro`, monthly, 30.00 EUR paid
in advance. Customer cus_1 lives in Europe/Paris and subscribes on Jan 1 2024 00:00 Paris: the
start invoice is 30.00 + VAT 6.00 = 36.00.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from uuid import UUID

import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from releve.adapters.sql.uow import SqlUnitOfWorkFactory
from releve.bootstrap import Container
from releve.services import credit_notes as credit_note_hooks
from releve.services.errors import NotFound, ValidationFailed
from tests.integration.billing_support import catalog, fees_by_code, list_invoices, post, subscribe
from tests.integration.support import FakeClock

pytestmark = pytest.mark.store

PARIS_MIDNIGHT_JAN_1 = datetime(2023, 12, 31, 23, tzinfo=UTC)
JAN_10_15H_PARIS = datetime(2024, 1, 10, 14, tzinfo=UTC)
FEB_1_PARIS = datetime(2024, 1, 31, 23, tzinfo=UTC)


def in_advance(api: TestClient, clock: FakeClock, **plan: Any) -> dict[str, Any]:
    catalog(api, pay_in_advance=True, amount_cents=3000, **plan)
    subscribe(api, clock, PARIS_MIDNIGHT_JAN_1, timezone="Europe/Paris")
    (start,) = list_invoices(api)
    return start


def credit_notes(api: TestClient) -> list[dict[str, Any]]:
    notes: list[dict[str, Any]] = api.get("/api/v1/credit_notes").json()["credit_notes"]
    return notes


def terminate(
    api: TestClient, clock: FakeClock, when: datetime, external_id: str = "sub_1"
) -> None:
    clock.set(when)
    r = api.delete(f"/api/v1/subscriptions/{external_id}")
    assert r.status_code == 200, r.text


def test_termination_mid_month_credits_the_unused_days(
    api: TestClient, clock: FakeClock, container: Container, org: tuple[UUID, str]
) -> None:
    start = in_advance(api, clock)
    assert start["total_amount_cents"] == 3600
    terminate(api, clock, JAN_10_15H_PARIS)
    (note,) = credit_notes(api)
    # Jan 1–10 used (the termination day counts), Jan 11–31 unused: 21 of 31 days.
    # 3000 × 21/31 = 2032.26 → 2032; VAT 20 % × 2032 = 406.4 → 406; total 2438, all credited.
    assert {k: note[k] for k in (
        "reason", "credit_status", "refund_status", "sub_total_excluding_taxes_amount_cents",
        "taxes_amount_cents", "total_amount_cents", "credit_amount_cents",
        "refund_amount_cents", "offset_amount_cents", "balance_amount_cents",
        "coupons_adjustment_amount_cents", "lago_invoice_id", "issuing_date",
    )} == {
        "reason": "order_change", "credit_status": "available", "refund_status": None,
        "sub_total_excluding_taxes_amount_cents": 2032, "taxes_amount_cents": 406,
        "total_amount_cents": 2438, "credit_amount_cents": 2438, "refund_amount_cents": 0,
        "offset_amount_cents": 0, "balance_amount_cents": 2438,
        "coupons_adjustment_amount_cents": 0, "lago_invoice_id": start["lago_id"],
        "issuing_date": "2024-01-10",
    }  # fmt: skip
    assert [(i["amount_cents"], i["fee"]["lago_id"]) for i in note["items"]] == [
        (2032, fees_by_code(start)["pro"]["lago_id"])
    ]
    # Terminating again never issues a second credit note.
    with SqlUnitOfWorkFactory(container.engine)() as uow:
        subscription = uow.subscriptions.get_by_id(
            org[0], UUID(start["subscriptions"][0]["lago_id"])
        )
        assert subscription is not None
        credit_note_hooks.on_subscription_terminated(uow, subscription, clock.now())
        uow.commit()
    assert len(credit_notes(api)) == 1
    # The credit reduces the customer's next invoice: a new subscription from Feb 1 (Paris).
    clock.set(FEB_1_PARIS)
    post(
        api,
        "subscriptions",
        {
            "subscription": {
                "external_customer_id": "cus_1",
                "plan_code": "pro",
                "external_id": "sub_2",
            }
        },
    )
    newest = list_invoices(api)[0]
    # 3000 + 600 = 3600 − 2438 = 1162
    assert (newest["credit_notes_amount_cents"], newest["total_amount_cents"]) == (2438, 1162)
    (consumed,) = credit_notes(api)
    assert (consumed["balance_amount_cents"], consumed["credit_status"]) == (0, "consumed")


def test_no_credit_note_for_arrears_free_skip_or_voided_prepaid_invoice(
    api: TestClient, clock: FakeClock, container: Container
) -> None:
    catalog(api, pay_in_advance=False, amount_cents=3000)
    post(
        api,
        "plans",
        {
            "plan": {
                "name": "Free",
                "code": "free",
                "interval": "monthly",
                "amount_cents": 0,
                "amount_currency": "EUR",
                "pay_in_advance": True,
            }
        },
    )
    post(
        api,
        "plans",
        {
            "plan": {
                "name": "Adv",
                "code": "adv",
                "interval": "monthly",
                "amount_cents": 3000,
                "amount_currency": "EUR",
                "pay_in_advance": True,
            }
        },
    )
    subscribe(api, clock, PARIS_MIDNIGHT_JAN_1, external_id="arrears", timezone="Europe/Paris")
    subscribe(api, clock, PARIS_MIDNIGHT_JAN_1, external_id="free", plan_code="free")
    subscribe(api, clock, PARIS_MIDNIGHT_JAN_1, external_id="skip", plan_code="adv")
    subscribe(api, clock, PARIS_MIDNIGHT_JAN_1, external_id="voided", plan_code="adv")
    voided = next(i for i in list_invoices(api) if i["subscriptions"][0]["external_id"] == "voided")
    assert api.post(f"/api/v1/invoices/{voided['lago_id']}/void").status_code == 200
    clock.set(JAN_10_15H_PARIS)
    for external_id in ("arrears", "free", "voided"):
        assert api.delete(f"/api/v1/subscriptions/{external_id}").status_code == 200
    r = api.delete("/api/v1/subscriptions/skip", params={"on_termination_credit_note": "skip"})
    assert r.status_code == 200, r.text
    assert credit_notes(api) == []


def test_upgrade_credits_the_unused_part_of_the_old_plan(
    api: TestClient, clock: FakeClock, container: Container
) -> None:
    start = in_advance(api, clock)
    post(
        api,
        "plans",
        {
            "plan": {
                "name": "Max",
                "code": "max",
                "interval": "monthly",
                "amount_cents": 6000,
                "amount_currency": "EUR",
                "pay_in_advance": True,
            }
        },
    )
    clock.set(JAN_10_15H_PARIS)
    post(
        api,
        "subscriptions",
        {
            "subscription": {
                "external_customer_id": "cus_1",
                "plan_code": "max",
                "external_id": "sub_1",
            }
        },
    )
    (note,) = credit_notes(api)
    # Upgrade: the unused part starts on the change day (Lago) — Jan 10–31, 22 of 31 days.
    # 3000 × 22/31 = 2129.03 → 2129; VAT 425.8 → 426; total 2555.
    assert (note["lago_invoice_id"], note["sub_total_excluding_taxes_amount_cents"],
            note["taxes_amount_cents"], note["credit_amount_cents"]) == (
        start["lago_id"], 2129, 426, 2555)  # fmt: skip


ITEMS = st.lists(
    st.tuples(
        st.sampled_from(["pro", "api_calls"]),
        st.integers(min_value=0, max_value=3200),
        st.sampled_from(["credit", "refund", "offset", "mixed"]),
    ),
    min_size=1,
    max_size=6,
)


@settings(
    max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(requests=ITEMS)
def test_credit_notes_never_exceed_the_invoice_total(
    api: TestClient,
    clock: FakeClock,
    container: Container,
    org: tuple[UUID, str],
    requests: list[tuple[str, int, str]],
) -> None:
    """Whatever is asked, in any order: Σ credit notes ≤ invoice total, each fee credited ≤
    its amount, and a refused request stores nothing."""
    if not list_invoices(api):
        catalog(api, pay_in_advance=True, amount_cents=3000)
        subscribe(api, clock, PARIS_MIDNIGHT_JAN_1)
    (invoice,) = list_invoices(api)
    fees = fees_by_code(invoice)
    for code, amount, how in requests:
        fee = fees.get(code, fees["pro"])
        before = len(credit_notes(api))
        try:
            estimate = container.credit_notes.estimate(
                org[0],
                {
                    "invoice_id": invoice["lago_id"],
                    "items": [{"fee_id": fee["lago_id"], "amount_cents": amount}],
                },
            )
        except (ValidationFailed, NotFound):
            continue
        total = estimate.amounts.total_amount_cents
        half = total // 2
        split = {
            "credit": {"credit_amount_cents": total},
            "refund": {"refund_amount_cents": total},
            "offset": {"offset_amount_cents": total},
            "mixed": {"credit_amount_cents": half, "offset_amount_cents": total - half},
        }[how]
        try:
            container.credit_notes.create(
                org[0],
                {
                    "invoice_id": invoice["lago_id"],
                    "reason": "other",
                    "items": [{"fee_id": fee["lago_id"], "amount_cents": amount}],
                    **split,
                },
            )
        except ValidationFailed:
            assert len(credit_notes(api)) == before
    notes = credit_notes(api)
    assert sum(n["total_amount_cents"] for n in notes) <= invoice["total_amount_cents"]
    assert sum(n["refund_amount_cents"] for n in notes) == 0  # the invoice was never paid
    credited: dict[str, int] = {}
    for n in notes:
        for item in n["items"]:
            credited[item["fee"]["lago_id"]] = (
                credited.get(item["fee"]["lago_id"], 0) + item["amount_cents"]
            )
    assert all(
        credited[f["lago_id"]] <= f["amount_cents"]
        for f in fees.values()
        if f["lago_id"] in credited
    )
