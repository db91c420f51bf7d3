"""The wallet ledger as a store: append-only (triggers), one consumption per (wallet, invoice),
and the balance invariant under random histories (hypothesis): for any sequence of top-ups,
voids and invoice consumptions, the balance equals the sum of the settled ledger rows and is
never negative, in money and in credits.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any
from uuid import UUID

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from releve.adapters.sql.tables_wallets import wallet_transactions
from releve.bootstrap import Container
from releve.domain.fee_lines import FeeLine, FeeType
from releve.domain.wallets import consume_wallets
from releve.services import wallets
from releve.services.billing_records import Invoice
from releve.services.errors import ValidationFailed
from releve.services.wallet_records import INBOUND, TX_SETTLED, wallet_uow

pytestmark = pytest.mark.store

NOW = datetime(2024, 3, 15, 12, tzinfo=UTC)


def _customer(container: Container, org_id: UUID, external_id: str) -> None:
    container.customers.upsert(org_id, {"external_id": external_id, "currency": "EUR"})


def _draft_invoice(org_id: UUID, customer_id: UUID, total: int) -> Invoice:
    zero = Decimal(0)
    return Invoice(
        id=uuid.uuid4(), organization_id=org_id, customer_id=customer_id,
        invoice_type="subscription", status="draft", payment_status="pending", currency="EUR",
        issuing_date=date(2024, 3, 15), payment_due_date=date(2024, 3, 15), net_payment_term=0,
        fees_amount_cents=total, coupons_amount_cents=0,
        progressive_billing_credit_amount_cents=0, sub_total_excluding_taxes_amount_cents=total,
        taxes_amount_cents=0, sub_total_including_taxes_amount_cents=total,
        credit_notes_amount_cents=0, prepaid_credit_amount_cents=0,
        prepaid_granted_credit_amount_cents=0, prepaid_purchased_credit_amount_cents=0,
        total_amount_cents=total, taxes_rate=zero, created_at=NOW, updated_at=NOW,
    )  # fmt: skip


def _consume(container: Container, org_id: UUID, external_id: str, due: int) -> int:
    """Finalize-like: price an invoice of `due` cents against the wallets and settle it,
    twice (a retry), in one unit of work. Returns what the wallets paid."""
    with container.wallets._uow() as uow:
        customer = uow.customers.get(org_id, external_id)
        assert customer is not None
        invoice = _draft_invoice(org_id, customer.id, due)
        uow.invoices.add(invoice, [], [], [])
        found = wallets.invoice_wallets(uow, customer, "EUR", NOW)
        currency = found[0].currency if found else None
        if currency is None:
            uow.commit()
            return 0
        line = FeeLine(id="f", fee_type=FeeType.CHARGE, amount_cents=due, currency=currency)
        result = consume_wallets([line], {"f": due}, found, currency)
        wallets.settle_wallets(uow, invoice, result, NOW)
        wallets.settle_wallets(uow, invoice, result, NOW)  # idempotent per invoice
        uow.commit()
        return result.amount_cents


def _ledger_sums(container: Container, wallet_id: UUID) -> tuple[int, Decimal]:
    with container.engine.connect() as c:
        rows = c.execute(
            sa.select(
                wallet_transactions.c.transaction_type,
                wallet_transactions.c.amount_cents,
                wallet_transactions.c.credit_amount,
            ).where(
                wallet_transactions.c.wallet_id == wallet_id,
                wallet_transactions.c.status == TX_SETTLED,
            )
        ).all()
    cents = sum(a if k == INBOUND else -a for k, a, _ in rows)
    credits = sum((c if k == INBOUND else -c for k, _, c in rows), Decimal(0))
    return cents, credits


credits = st.decimals(min_value=0, max_value=500, places=2, allow_nan=False, allow_infinity=False)
operations = st.lists(
    st.one_of(
        st.tuples(st.just("grant"), credits),
        st.tuples(st.just("buy"), credits),
        st.tuples(st.just("void"), credits),
        st.tuples(st.just("invoice"), st.integers(min_value=0, max_value=60_000)),
    ),
    max_size=8,
)
rates = st.sampled_from([Decimal("1"), Decimal("1.5"), Decimal("0.333"), Decimal("3")])


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(ops=operations, rate=rates, priority=st.integers(min_value=1, max_value=50))
def test_balance_is_the_ledger_sum_and_never_negative(
    container: Container, org: tuple[UUID, str], ops: list[tuple[str, Any]], rate: Decimal,
    priority: int,
) -> None:  # fmt: skip
    org_id = org[0]
    external_id = f"cus_{uuid.uuid4().hex[:8]}"
    _customer(container, org_id, external_id)
    wallet = container.wallets.create(
        org_id,
        {"external_customer_id": external_id, "currency": "EUR", "rate_amount": str(rate),
         "priority": priority},
    )  # fmt: skip
    lago_id = str(wallet.wallet.id)
    for kind, value in ops:
        before = container.wallets.get(org_id, lago_id).balance
        if kind == "invoice":
            paid = _consume(container, org_id, external_id, value)
            assert paid == min(value, before.balance_cents)
        else:
            field = {"grant": "granted_credits", "buy": "paid_credits", "void": "voided_credits"}
            try:
                container.wallets.create_transactions(
                    org_id, {"wallet_id": lago_id, field[kind]: str(value)}
                )
            except ValidationFailed:
                assert kind == "void" and value > before.credits
        balance = container.wallets.get(org_id, lago_id).balance
        assert (balance.balance_cents, balance.credits) == _ledger_sums(container, wallet.wallet.id)
        assert balance.balance_cents >= 0 and balance.credits >= 0
        assert 0 <= balance.granted_balance_cents <= balance.balance_cents


def _one_row(container: Container, org: tuple[UUID, str]) -> UUID:
    _customer(container, org[0], "cus_1")
    created = container.wallets.create(
        org[0],
        {"external_customer_id": "cus_1", "currency": "EUR", "rate_amount": "1",
         "granted_credits": "10"},
    )  # fmt: skip
    return created.wallet.id


@pytest.mark.parametrize(
    "change",
    [
        lambda t: t.update().values(amount_cents=1),
        lambda t: t.update().values(status="failed"),  # a settled row is final
        lambda t: t.delete(),
    ],
)
def test_the_ledger_is_append_only(
    container: Container, org: tuple[UUID, str], change: Callable[[sa.Table], Any]
) -> None:
    wallet_id = _one_row(container, org)
    with pytest.raises(sa.exc.DBAPIError, match="append-only"), container.engine.begin() as c:
        c.execute(change(wallet_transactions).where(wallet_transactions.c.wallet_id == wallet_id))
    assert _ledger_sums(container, wallet_id) == (1000, Decimal(10))


def test_an_invoice_consumes_a_wallet_once_whatever_retries(
    container: Container, org: tuple[UUID, str]
) -> None:
    wallet_id = _one_row(container, org)
    assert _consume(container, org[0], "cus_1", 400) == 400
    with container.engine.connect() as c:
        (row,) = c.execute(
            wallet_transactions.select().where(
                wallet_transactions.c.wallet_id == wallet_id,
                wallet_transactions.c.transaction_status == "invoiced",
            )
        ).all()
    duplicate = dict(row._mapping, id=uuid.uuid4(), created_at=NOW + timedelta(seconds=1))
    with pytest.raises(sa.exc.IntegrityError), container.engine.begin() as c:
        c.execute(wallet_transactions.insert().values(**duplicate))
    with container.wallets._uow() as uow:
        assert len(wallet_uow(uow).wallets.for_invoice(org[0], row.invoice_id)) == 1
    assert _ledger_sums(container, wallet_id) == (600, Decimal(6))  # 1000 − 400; 10 − 4
