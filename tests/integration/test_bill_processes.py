"""A bill run split over two spawned processes (`entrypoints.bill_processes`, `releve bill
--processes 2`): every subscription billed once, by one process, with the amounts of a
single-process run; numbers gapless; a second run bills nothing. Both stores (on SQLite the
processes queue on the write lock, which is still correct).

Catalog (billing_support.catalog, no VAT): plan `pro`, monthly, 10.00 EUR; api_calls standard
0.05 EUR/call.
"""

from __future__ import annotations

import uuid
from collections import Counter
from datetime import UTC, datetime
from functools import partial

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient

from releve.adapters.sql.tables_billing import invoice_subscriptions, invoices
from releve.bootstrap import Container, bootstrap
from releve.entrypoints.bill_processes import bill_in_processes
from releve.services.billing import Shard
from releve.settings import Settings
from tests.integration.billing_support import catalog, subscribe, usage
from tests.integration.support import FakeClock

pytestmark = pytest.mark.store

BILL_AT = datetime(2024, 2, 1, 1, tzinfo=UTC)


def _container(url: str, at: datetime) -> Container:
    """Each spawned process's container (module level: pickled by reference)."""
    return bootstrap(Settings(database_url=url), clock=FakeClock(at))


def test_each_subscription_is_in_exactly_one_shard() -> None:
    ids = [uuid.uuid4() for _ in range(200)]
    shards = [Shard(i, 3) for i in range(3)]
    assert all(sum(s in shard for shard in shards) == 1 for s in ids)
    assert all(any(s in shard for s in ids) for shard in shards)  # 200 ids reach all three


def test_two_processes_bill_every_subscription_once(
    api: TestClient,
    clock: FakeClock,
    container: Container,
    engine: sa.Engine,
    database_url: str,
) -> None:
    catalog(api, vat=None)
    count = 6
    for n in range(count):
        subscribe(api, clock, datetime(2024, 1, 1, tzinfo=UTC), customer=f"cus_{n}",
                  external_id=f"sub_{n}")  # fmt: skip
        usage(api, clock, datetime(2024, 1, 10, 9, n, tzinfo=UTC), "api_calls",
              {"value": 100 * n}, external_id=f"sub_{n}")  # fmt: skip
    clock.set(BILL_AT)
    build = partial(_container, database_url, BILL_AT)

    run = bill_in_processes(container, build, None, 2)

    assert run.errors == []
    # 10.00 + 100·n × 0.05 = 1,000 + 500·n cents: 1000, 1500, …, 3500
    assert sorted(i.total_amount_cents for i in run.issued) == [1000 + 500 * n for n in range(6)]
    with engine.connect() as c:
        per_subscription = Counter(
            c.execute(sa.select(invoice_subscriptions.c.subscription_id)).scalars()
        )
        numbers = sorted(c.execute(sa.select(invoices.c.sequential_id)).scalars())
    assert len(per_subscription) == count and set(per_subscription.values()) == {1}
    assert numbers == list(range(1, count + 1))

    again = bill_in_processes(container, build, None, 2)
    assert again.issued == [] and again.errors == []
