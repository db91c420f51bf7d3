"""A bill run reads coupons, credit notes and wallets only for the customers holding any (one
query per chunk says which): a customer with a coupon still gets it deducted, the others are
billed the same without the three reads each."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient

from releve.bootstrap import Container
from tests.integration.billing_support import catalog, list_invoices, subscribe
from tests.integration.support import FakeClock
from tests.integration.test_coupons_billing import apply, coupon

pytestmark = pytest.mark.store

DEDUCTION_TABLES = ("applied_coupons", "credit_notes", "wallets")


def test_only_customers_holding_deductions_are_read(
    api: TestClient, clock: FakeClock, container: Container, engine: sa.Engine
) -> None:
    catalog(api)
    for n in range(6):
        subscribe(
            api, clock, datetime(2024, 1, 1, tzinfo=UTC), customer=f"cus_{n}", external_id=f"s{n}"
        )
    coupon(api, "welcome", coupon_type="fixed_amount", amount_cents=300, amount_currency="EUR")
    apply(api, "welcome", customer="cus_1")
    moment = datetime(2024, 2, 1, tzinfo=UTC)
    clock.set(moment)
    reads: list[str] = []

    def count(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        head = statement.lstrip().upper()
        if head.startswith("SELECT") and any(f"FROM {t}" in statement for t in DEDUCTION_TABLES):
            reads.append(statement)

    sa.event.listen(engine, "before_cursor_execute", count)
    try:
        run = container.billing.bill_due(moment)
    finally:
        sa.event.remove(engine, "before_cursor_execute", count)
    assert run.errors == []
    invoices = {i["customer"]["external_id"]: i for i in list_invoices(api)}
    assert len(invoices) == 6
    assert invoices["cus_1"]["coupons_amount_cents"] == 300
    assert all(invoices[f"cus_{n}"]["coupons_amount_cents"] == 0 for n in (0, 2, 3, 4, 5))
    # Read per customer, it was 3 reads × 6 customers (and more to settle the coupon); now the
    # chunk's query, cus_1's three reads and its coupon's settlement only.
    assert len(reads) < 3 * 6, reads
