"""`releve demo`: a newcomer's organization with three verticals, three months of usage and
invoices for the past periods; its usage aggregates are exactly what a rebuild from the raw
event log gives; and every feature a user meets first — coupons, add-ons, wallets, credit
notes, public plans, footprints, budgets, alerts, webhooks, payments, a dashboard user — made
by the services at believable moments (`releve.services.demo.moments`).

The seed is deterministic (a seeded generator on the FakeClock's now); the tests run it at a
small `scale` (fewer calls, SMS and API calls) to stay fast on both stores.
"""

from __future__ import annotations

import json
import random
from collections import Counter
from datetime import timedelta
from decimal import ROUND_HALF_UP, Decimal

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from releve.adapters.sql import (
    tables,
    tables_accounts,
    tables_alerts,
    tables_billing,
    tables_coupons,
    tables_credit_notes,
    tables_wallets,
    tables_webhooks,
)
from releve.bootstrap import Container
from releve.entrypoints.cli import app
from releve.services.demo import CUSTOMERS, DemoSeed, subscription_start
from releve.services.demo.catalog import VERTICAL_OF_METRIC
from releve.services.demo.moments import DEMO_USER, LATE_PAYER, SIDE_LINE
from releve.services.demo.usage_generator import generate_usage
from tests.integration.support import FakeClock
from tests.integration.test_aggregates import snapshot

pytestmark = pytest.mark.store

SCALE = 0.15


@pytest.fixture
def seeded(container: Container) -> DemoSeed:
    return container.demo.seed(scale=SCALE)


def test_demo_seeds_verticals_plans_customers_events_and_invoices(
    seeded: DemoSeed, container: Container, engine: sa.Engine, clock: FakeClock
) -> None:
    org = seeded.organization_id
    now = clock.now()
    with engine.connect() as c:
        customers = c.execute(
            sa.select(tables.customers.c.currency, tables.customers.c.timezone).where(
                tables.customers.c.organization_id == org
            )
        ).all()
        metric_codes = set(
            c.scalars(
                sa.select(tables.billable_metrics.c.code).where(
                    tables.billable_metrics.c.organization_id == org
                )
            )
        )
        charge_models = set(c.scalars(sa.select(tables.charges.c.charge_model)))
        filters = c.scalar(sa.select(sa.func.count()).select_from(tables.charge_filters)) or 0
        events = c.execute(
            sa.select(
                tables.events.c.transaction_id,
                tables.events.c.timestamp,
                tables.events.c.status,
                tables.events.c.code,
            ).where(tables.events.c.organization_id == org)
        ).all()
        invoices = c.execute(
            sa.select(
                tables_billing.invoices.c.status,
                tables_billing.invoices.c.currency,
                tables_billing.invoices.c.issuing_date,
            ).where(tables_billing.invoices.c.organization_id == org)
        ).all()

    assert len(customers) >= 12
    assert {"EUR", "USD", "JPY"} <= {row.currency for row in customers}
    assert {"Europe/Paris", "America/New_York", "Asia/Tokyo", "Pacific/Auckland"} <= {
        row.timezone for row in customers
    }
    assert len(metric_codes) >= 6
    assert {VERTICAL_OF_METRIC[code] for code in metric_codes} == {"telecom", "utility", "cloud"}
    assert {"standard", "graduated", "volume", "package"} <= charge_models
    assert filters >= 5

    # Three months of events, all matched but the misspelt sample the demo sends on purpose.
    assert seeded.events == len(events) > 2_000
    assert min(e.timestamp for e in events) <= now - timedelta(days=88)
    assert max(e.timestamp for e in events) <= now
    unmatched = sorted(e.transaction_id for e in events if e.status != "matched")
    assert unmatched == [f"demo_typo_{n}" for n in range(seeded.unmatched)] and unmatched
    assert set(Counter(e.code for e in events)) == set(metric_codes) | {"api_call"}

    # Every subscription has invoices for its past periods, finalized on the day they fell due.
    assert len(invoices) >= 2 * len(customers)
    # …but the terminated side line's final invoice: nothing left to bill, closed (not numbered).
    assert Counter(row.status for row in invoices)["closed"] == 1
    assert {row.status for row in invoices} == {"finalized", "closed"}
    assert {"EUR", "USD", "JPY"} <= {row.currency for row in invoices}
    assert min(row.issuing_date for row in invoices) < (now - timedelta(days=50)).date()
    assert container.billing.bill_due(now).issued == []  # nothing left due
    assert seeded.moments == 10


def _invoices(engine: sa.Engine, org: object) -> list[sa.Row[tuple[object, ...]]]:
    i = tables_billing.invoices
    with engine.connect() as c:
        return list(
            c.execute(
                sa.select(i, tables.customers.c.external_id.label("customer"))
                .join(tables.customers, tables.customers.c.id == i.c.customer_id)
                .where(i.c.organization_id == org)
                .order_by(i.c.issuing_date, i.c.sequential_id)
            )
        )


def _count(engine: sa.Engine, table: sa.Table, org: object) -> int:
    with engine.connect() as c:
        query = sa.select(sa.func.count()).select_from(table)
        return c.scalar(query.where(table.c.organization_id == org)) or 0


def test_coupons_credit_the_invoices_after_they_were_applied(
    seeded: DemoSeed, engine: sa.Engine
) -> None:
    org = seeded.organization_id
    assert _count(engine, tables_coupons.coupons, org) == 2
    assert _count(engine, tables_coupons.applied_coupons, org) == 2
    discounted = [r for r in _invoices(engine, org) if r.coupons_amount_cents > 0]
    by_customer = Counter(r.customer for r in discounted)
    assert by_customer == {"acme": 2, "bistro_lyon": 1}  # 10 % for two periods; €20 once
    for row in discounted:
        if row.customer == "acme":  # 10 % of the fees, rounded half-up once
            tenth = (Decimal(row.fees_amount_cents) / 10).quantize(Decimal(1), ROUND_HALF_UP)
            assert row.coupons_amount_cents == tenth
        else:
            assert row.coupons_amount_cents == 2000
        assert row.sub_total_excluding_taxes_amount_cents == (
            row.fees_amount_cents - row.coupons_amount_cents
        )


def test_the_workshop_is_billed_on_a_one_off_invoice(seeded: DemoSeed, engine: sa.Engine) -> None:
    one_off = [r for r in _invoices(engine, seeded.organization_id) if r.invoice_type == "one_off"]
    assert [(r.customer, r.currency, r.total_amount_cents) for r in one_off] == [
        ("initech", "EUR", 45_000)
    ]


def test_wallets_are_bought_paid_and_consumed(seeded: DemoSeed, engine: sa.Engine) -> None:
    org = seeded.organization_id
    invoices = _invoices(engine, org)
    assert _count(engine, tables_wallets.wallets, org) == 2
    credit = [r for r in invoices if r.invoice_type == "credit"]
    assert [(r.customer, r.total_amount_cents, r.payment_status) for r in credit] == [
        ("acme", 30_000, "succeeded")  # 300 paid credits at 1 EUR; the 50 granted are free
    ]
    t = tables_wallets.wallet_transactions
    with engine.connect() as c:
        inbound = c.execute(
            sa.select(t.c.transaction_status, t.c.status, t.c.credit_amount)
            .where(t.c.organization_id == org, t.c.transaction_type == "inbound")
            .order_by(t.c.created_at)
        ).all()
        consumed = c.scalar(
            sa.select(sa.func.coalesce(sa.func.sum(t.c.amount_cents), 0)).where(
                t.c.organization_id == org, t.c.transaction_type == "outbound"
            )
        )
    assert sorted((r.transaction_status, r.status, r.credit_amount) for r in inbound) == [
        ("granted", "settled", Decimal(50)),
        ("granted", "settled", Decimal(100)),
        ("purchased", "settled", Decimal(300)),
    ]
    prepaid = [r for r in invoices if r.prepaid_credit_amount_cents > 0]
    assert {r.customer for r in prepaid} == {"acme", "globex"}
    assert consumed == sum(r.prepaid_credit_amount_cents for r in prepaid)
    globex_first = next(r for r in invoices if r.customer == "globex")
    assert globex_first.prepaid_credit_amount_cents == min(
        10_000, globex_first.total_amount_cents + globex_first.prepaid_credit_amount_cents
    )


def test_credit_notes_are_issued_and_consumed_by_the_next_invoice(
    seeded: DemoSeed, engine: sa.Engine
) -> None:
    org = seeded.organization_id
    n = tables_credit_notes.credit_notes
    with engine.connect() as c:
        notes = c.execute(
            sa.select(
                n.c.reason,
                n.c.credit_amount_cents,
                n.c.balance_amount_cents,
                n.c.credit_status,
                tables.customers.c.external_id,
            )
            .join(tables.customers, tables.customers.c.id == n.c.customer_id)
            .where(n.c.organization_id == org)
            .order_by(n.c.reason)
        ).all()
        subscription = c.execute(
            sa.select(tables.subscriptions.c.status).where(
                tables.subscriptions.c.external_id == SIDE_LINE
            )
        ).scalar_one()
    assert subscription == "terminated"
    assert [(r.reason, r.external_id) for r in notes] == [
        ("order_change", "kiwi_outfitters"),  # unused prepaid days of the terminated line
        ("product_unsatisfactory", "maison_dupont"),
    ]
    assert all(r.credit_amount_cents > 0 for r in notes)
    assert all((r.balance_amount_cents, r.credit_status) == (0, "consumed") for r in notes)
    assert notes[1].credit_amount_cents == 2500
    credited = [r for r in _invoices(engine, org) if r.credit_notes_amount_cents > 0]
    assert sorted(r.customer for r in credited) == ["kiwi_outfitters", "maison_dupont"]
    assert sum(r.credit_notes_amount_cents for r in credited) == sum(
        r.credit_amount_cents for r in notes
    )


def test_public_plans_footprints_alerts_webhooks_and_a_user(
    seeded: DemoSeed, engine: sa.Engine
) -> None:
    org = seeded.organization_id
    with engine.connect() as c:
        public = set(
            c.scalars(
                sa.select(tables.plans.c.code).where(
                    tables.plans.c.organization_id == org, tables.plans.c.public
                )
            )
        )
        metrics = c.execute(
            sa.select(
                tables.billable_metrics.c.code, tables.billable_metrics.c.footprint_per_unit
            ).where(
                tables.billable_metrics.c.organization_id == org,
                tables.billable_metrics.c.footprint_per_unit.is_not(None),
            )
        ).all()
        user = c.scalar(
            sa.select(tables_accounts.dashboard_users.c.organization_id).where(
                tables_accounts.dashboard_users.c.email == DEMO_USER
            )
        )
    assert {"cloud_pro", "cloud_starter"} <= public
    assert {r.code: r.footprint_per_unit for r in metrics} == {
        "energy_kwh": Decimal(230),
        "api_calls": Decimal("0.002"),
        "storage_gb": Decimal("2.1"),
    }
    assert _count(engine, tables_alerts.subscription_alerts, org) == 1
    assert _count(engine, tables_alerts.triggered_alerts, org) >= 2  # Brooklyn's usage, monthly
    assert _count(engine, tables_webhooks.webhook_endpoints, org) == 1
    assert _count(engine, tables_webhooks.webhooks, org) >= 1  # the budget alert, at least
    assert seeded.finale is not None and seeded.finale.user_email == DEMO_USER
    assert user == org


def test_past_due_invoices_are_paid_but_one(
    seeded: DemoSeed, engine: sa.Engine, clock: FakeClock
) -> None:
    today = clock.now().date()
    invoices = _invoices(engine, seeded.organization_id)
    overdue = [
        r for r in invoices if r.payment_status != "succeeded" and r.payment_due_date < today
    ]
    assert [r.customer for r in overdue] == [LATE_PAYER]
    assert any(r.payment_status == "pending" and r.payment_due_date >= today for r in invoices)


def test_the_portal_link_shows_a_budget_past_80_percent(
    seeded: DemoSeed, container: Container, client: TestClient
) -> None:
    org, customer = seeded.organization_id, seeded.customer_external_id
    status = container.budgets.status(org, customer)
    assert status is not None and 80 <= status.percent < 100
    assert seeded.finale is not None and status.budget.amount_cents == seeded.finale.budget_cents
    assert status.reached == 80
    page = client.get("/portal/" + container.portal.issue_token(org, customer))
    assert page.status_code == 200
    assert "You have used 80 % of your budget." in page.text


def test_aggregates_rebuild_reproduces_the_demo_exactly(
    seeded: DemoSeed, engine: sa.Engine, database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    before = snapshot(engine)
    assert len(before[0]) > 500
    with engine.begin() as c:
        c.execute(tables.usage_aggregates.delete())
    monkeypatch.setenv("RELEVE_DATABASE_URL", database_url)
    org = str(seeded.organization_id)
    result = CliRunner().invoke(app, ["aggregates", "rebuild", "--organization", org])
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout.strip().splitlines()[-1])
    assert summary["events"] == seeded.events
    assert snapshot(engine) == before


def test_the_usage_generator_is_deterministic(clock: FakeClock) -> None:
    now = clock.now()

    def usage(seed: int) -> list[object]:
        rng = random.Random(seed)
        return [
            generate_usage(c, subscription_start(c, i, now), now, rng, SCALE)
            for i, c in enumerate(CUSTOMERS)
        ]

    assert usage(7) == usage(7) != usage(8)
