"""Acceptance (issue 4): a finalized invoice cannot change — not through the API, not in SQL.

Extends test_billing.py (PUT total_amount_cents → 405; SQL UPDATE of total/number/status,
DELETE of the invoice, UPDATE/DELETE of its fees; payment_status and voiding allowed) and
test_billing_lifecycle.py (finalize/refresh/delete of a finalized invoice → 405 not_draft)
with what they leave out: every amount/date/identity field through PUT, fee lines in the PUT
body, the fee endpoints, each refused call leaving the invoice byte-for-byte the same; in SQL
every protected invoice column, INSERT into fees, the applied taxes (INSERT/UPDATE/DELETE), and
a voided invoice that stays immutable. Runs on SQLite and PostgreSQL (the triggers of
migration 0003 differ per store).

The invoice: plan `pro` (10.00 EUR a month in arrears; api_calls 0.05 EUR; storage graduated),
VAT 20 %, January 2024, 10 calls: 1000 + 10 × 0.05 = 1050; VAT 210 → total 1260.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any
from uuid import UUID, uuid4

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient

from releve.adapters.sql.tables_billing import applied_taxes, fees, invoices
from releve.bootstrap import Container
from tests.integration.billing_support import catalog, list_invoices, subscribe, usage
from tests.integration.support import FakeClock

pytestmark = pytest.mark.store


def _finalized(api: TestClient, clock: FakeClock, container: Container) -> dict[str, Any]:
    catalog(api)
    subscribe(api, clock, datetime(2024, 1, 1, tzinfo=UTC))
    usage(api, clock, datetime(2024, 1, 3, tzinfo=UTC), "api_calls", {"value": 10})
    clock.set(datetime(2024, 2, 1, 1, tzinfo=UTC))
    container.billing.bill_due()
    (listed,) = list_invoices(api)
    got = api.get(f"/api/v1/invoices/{listed['lago_id']}").json()["invoice"]
    # 1000 + 10 × 0.05 = 1050; VAT 20 % = 210; total 1260; number 1.
    assert (got["status"], got["sequential_id"]) == ("finalized", 1)
    assert (got["fees_amount_cents"], got["taxes_amount_cents"], got["total_amount_cents"]) == (
        1050,
        210,
        1260,
    )
    assert len(got["applied_taxes"]) == 1 and len(got["fees"]) == 2
    return dict(got)


def _same(api: TestClient, before: dict[str, Any]) -> None:
    after = api.get(f"/api/v1/invoices/{before['lago_id']}").json()["invoice"]
    assert after == before


@pytest.mark.parametrize(
    "changes",
    [
        {"fees_amount_cents": 1},
        {"taxes_amount_cents": 0},
        {"total_amount_cents": 0, "payment_status": "succeeded"},  # all or nothing
        {"sub_total_excluding_taxes_amount_cents": 5},
        {"issuing_date": "2024-03-01"},
        {"payment_due_date": "2030-01-01"},
        {"currency": "USD"},
        {"number": "X-1"},
        {"status": "draft"},
        {"status": "voided"},
        {"invoice_type": "one_off"},
        {"fees": [{"amount_cents": 1}]},
        {"applied_taxes": []},
        {"net_payment_term": 90},
    ],
    ids=lambda changes: "+".join(changes),
)
def test_put_cannot_change_a_finalized_invoice(
    api: TestClient, clock: FakeClock, container: Container, changes: dict[str, Any]
) -> None:
    before = _finalized(api, clock, container)
    r = api.put(f"/api/v1/invoices/{before['lago_id']}", json={"invoice": changes})
    assert r.status_code == 405, r.text
    assert r.json() == {
        "status": 405,
        "error": "Method Not Allowed",
        "code": "invoice_not_editable",
    }
    _same(api, before)


def test_every_other_api_call_is_refused_and_changes_nothing(
    api: TestClient, clock: FakeClock, container: Container
) -> None:
    before = _finalized(api, clock, container)
    url = f"/api/v1/invoices/{before['lago_id']}"
    for method, path, code in (
        ("DELETE", "", "not_draft"),
        ("PUT", "/refresh", "not_draft"),
        ("PUT", "/finalize", "not_draft"),
    ):
        r = api.request(method, url + path)
        assert r.status_code == 405 and r.json()["code"] == code, (method, path, r.text)
        _same(api, before)
    fee_url = f"/api/v1/fees/{before['fees'][0]['lago_id']}"
    for method in ("PUT", "DELETE", "PATCH"):
        r = api.request(method, fee_url, json={"fee": {"amount_cents": 1}})
        assert r.status_code == 405, (method, r.text)  # fees are read-only
    assert api.get(fee_url).json()["fee"] == before["fees"][0]
    _same(api, before)
    # A voided invoice is frozen too: a second void, a finalize, a PUT of amounts.
    r = api.post(f"{url}/void")
    assert r.status_code == 200 and r.json()["invoice"]["status"] == "voided"
    voided = api.get(url).json()["invoice"]
    assert api.post(f"{url}/void").status_code == 405
    assert api.put(f"{url}/finalize").status_code == 405
    assert api.put(url, json={"invoice": {"total_amount_cents": 0}}).status_code == 405
    _same(api, voided)


INVOICE_CHANGES: list[tuple[str, Any]] = [
    ("fees_amount_cents", 1),
    ("coupons_amount_cents", 100),
    ("sub_total_excluding_taxes_amount_cents", 1),
    ("taxes_amount_cents", 0),
    ("sub_total_including_taxes_amount_cents", 1),
    ("credit_notes_amount_cents", 100),
    ("prepaid_credit_amount_cents", 100),
    ("total_amount_cents", 0),
    ("sequential_id", 2),
    ("issuing_date", date(2024, 3, 1)),
    ("payment_due_date", date(2030, 1, 1)),
    ("currency", "USD"),
    ("invoice_type", "one_off"),
    ("finalized_at", datetime(2030, 1, 1, tzinfo=UTC)),
    ("status", "deleted"),
]


@pytest.mark.parametrize(("column", "value"), INVOICE_CHANGES, ids=[c for c, _ in INVOICE_CHANGES])
def test_sql_cannot_update_a_protected_invoice_column(
    api: TestClient,
    clock: FakeClock,
    container: Container,
    engine: sa.Engine,
    column: str,
    value: Any,
) -> None:
    before = _finalized(api, clock, container)
    invoice_id = UUID(before["lago_id"])
    statement = invoices.update().where(invoices.c.id == invoice_id).values({column: value})
    with pytest.raises(sa.exc.DBAPIError, match="immutable"), engine.begin() as c:
        c.execute(statement)
    _same(api, before)


def test_sql_cannot_touch_fees_or_applied_taxes_even_after_voiding(
    api: TestClient, clock: FakeClock, container: Container, engine: sa.Engine
) -> None:
    before = _finalized(api, clock, container)
    invoice_id = UUID(before["lago_id"])
    with engine.connect() as c:
        fee = c.execute(sa.select(fees).where(fees.c.invoice_id == invoice_id).limit(1)).one()
        tax = c.execute(
            sa.select(applied_taxes).where(applied_taxes.c.invoice_id == invoice_id)
        ).one()
    new_fee = {**fee._asdict(), "id": uuid4(), "position": 99, "amount_cents": 1}
    new_tax = {**tax._asdict(), "id": uuid4(), "position": 9, "amount_cents": 1}
    forbidden = [
        fees.insert().values(new_fee),
        fees.update().where(fees.c.id == fee.id).values(units=0),
        fees.update().where(fees.c.id == fee.id).values(taxes_amount_cents=0),
        fees.update()
        .where(fees.c.id == fee.id)
        .values(to_datetime=datetime(2030, 1, 1, tzinfo=UTC)),
        fees.update().where(fees.c.id == fee.id).values(invoice_id=uuid4()),
        applied_taxes.insert().values(new_tax),
        applied_taxes.update().where(applied_taxes.c.id == tax.id).values(amount_cents=0),
        applied_taxes.update().where(applied_taxes.c.id == tax.id).values(tax_rate=0),
        applied_taxes.delete().where(applied_taxes.c.id == tax.id),
    ]

    def refused() -> None:
        for statement in forbidden:
            with pytest.raises(sa.exc.DBAPIError, match="immutable"), engine.begin() as c:
                c.execute(statement)

    refused()
    _same(api, before)
    with engine.begin() as c:  # voiding is the one status change allowed
        c.execute(invoices.update().where(invoices.c.id == invoice_id).values(status="voided"))
    refused()
    for statement in (
        invoices.update().where(invoices.c.id == invoice_id).values(total_amount_cents=0),
        invoices.update().where(invoices.c.id == invoice_id).values(status="draft"),
        invoices.delete().where(invoices.c.id == invoice_id),
    ):
        with pytest.raises(sa.exc.DBAPIError, match="immutable"), engine.begin() as c:
            c.execute(statement)
    after = api.get(f"/api/v1/invoices/{before['lago_id']}").json()["invoice"]
    assert after["status"] == "voided"
    assert {k: v for k, v in after.items() if k not in ("status", "voided_at")} == {
        k: v for k, v in before.items() if k not in ("status", "voided_at")
    }
