"""`releve demo`: a newcomer's organization with three verticals, three months of usage and
invoices for the past periods; its usage aggregates are exactly what a rebuild from the raw
event log gives.

The seed is deterministic (a seeded generator on the FakeClock's now); the tests run it at a
small `scale` (fewer calls, SMS and API calls) to stay fast on both stores.
"""

from __future__ import annotations

import json
import random
from collections import Counter
from datetime import timedelta

import pytest
import sqlalchemy as sa
from typer.testing import CliRunner

from releve.adapters.sql import tables, tables_billing
from releve.bootstrap import Container
from releve.entrypoints.cli import app
from releve.services.demo import CUSTOMERS, DemoSeed, subscription_start
from releve.services.demo.catalog import VERTICAL_OF_METRIC
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
    assert {row.status for row in invoices} == {"finalized"}
    assert {"EUR", "USD", "JPY"} <= {row.currency for row in invoices}
    assert min(row.issuing_date for row in invoices) < (now - timedelta(days=50)).date()
    assert container.billing.bill_due(now).issued == []  # nothing left due


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
