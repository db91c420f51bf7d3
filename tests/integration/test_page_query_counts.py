"""The invoice lists cost a constant number of SQL statements, whatever the number of invoices.

An invoice view needs its fees, taxes, billed subscriptions (and their plan codes), credits,
customer and organization. Loading those once per invoice (N+1) made a page of 25 invoices
cost ~180 statements; they are now loaded for the whole page at once. The tests count the
statements one request sends (a SQLAlchemy `before_cursor_execute` listener), never time.

Two organizations are billed for March 2024 at once: one with 3 customers (3 invoices), one
with 12 (12 invoices); each customer has its own subscription, so customers, subscriptions and
invoices all grow together. The lists of both must cost the same number of statements.

The last test reports (prints, never asserts) render times and statements of the main pages on
the demo data, for the record of issue 5 (pages under 300 ms on the demo).
"""

from __future__ import annotations

import re
import statistics
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any
from uuid import UUID

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient

from releve.bootstrap import Container
from releve.entrypoints.api.app import create_app
from releve.services.usage_reading import one_reading
from tests.integration.support import FakeClock
from tests.integration.web_support import sign_in

pytestmark = pytest.mark.store

SMALL, LARGE = 3, 12
BOUND = 25  # a generous ceiling: today the lists cost about 15 statements


class StatementCounter:
    def __init__(self) -> None:
        self.count = 0

    def __call__(self, *_: Any) -> None:
        self.count += 1


@contextmanager
def counting(engine: sa.Engine) -> Iterator[StatementCounter]:
    counter = StatementCounter()
    sa.event.listen(engine, "before_cursor_execute", counter)
    try:
        yield counter
    finally:
        sa.event.remove(engine, "before_cursor_execute", counter)


def _organization(container: Container, name: str, customers: int) -> tuple[UUID, str]:
    """`customers` customers, each with its own subscription and a few calls in March 2024."""
    created = container.organizations.create(name, default_currency="EUR")
    org = created.organization_id
    container.taxes.create(
        org, {"code": "vat", "name": "VAT", "rate": Decimal("20"), "applied_to_organization": True}
    )
    container.billable_metrics.create(
        org, {"name": "Calls", "code": "calls", "aggregation_type": "count_agg"}
    )
    container.plans.create(
        org,
        {
            "name": "Growth",
            "code": "growth",
            "interval": "monthly",
            "amount_cents": 1000,
            "amount_currency": "EUR",
            "charges": [
                {
                    "billable_metric_code": "calls",
                    "charge_model": "standard",
                    "properties": {"amount": "0.50"},
                }
            ],
        },
    )
    for n in range(customers):
        container.customers.upsert(
            org, {"external_id": f"c{n}", "name": f"Customer {n}", "currency": "EUR"}
        )
        container.subscriptions.create(
            org,
            {
                "external_customer_id": f"c{n}",
                "plan_code": "growth",
                "external_id": f"s{n}",
                "subscription_at": "2024-03-01T00:00:00Z",
            },
        )
        container.events.ingest_batch(
            org,
            [
                {
                    "transaction_id": f"t{n}_{k}",
                    "external_subscription_id": f"s{n}",
                    "code": "calls",
                    "timestamp": f"2024-03-{k + 2:02d}T10:00:00Z",
                }
                for k in range(n % 4 + 1)
            ],
        )
    return org, created.api_key


@pytest.fixture
def billed(container: Container, clock: FakeClock) -> dict[int, tuple[UUID, str]]:
    orgs = {size: _organization(container, f"Org {size}", size) for size in (SMALL, LARGE)}
    clock.set(datetime(2024, 4, 1, 0, 5, tzinfo=UTC))
    container.billing.bill_due(clock.now())
    return orgs


def _statements(container: Container, client: TestClient, path: str) -> int:
    client.get(path)  # warm-up: first requests compile statements and templates
    with counting(container.engine) as counter:
        response = client.get(path)
    assert response.status_code == 200, response.text[:300]
    return counter.count


def test_invoices_api_list_costs_the_same_statements_for_3_or_12_invoices(
    container: Container, client: TestClient, billed: dict[int, tuple[UUID, str]]
) -> None:
    counts = {}
    for size, (_, key) in billed.items():
        client.headers["Authorization"] = f"Bearer {key}"
        listed = client.get("/api/v1/invoices").json()
        assert listed["meta"]["total_count"] == size
        assert {i["customer"]["external_id"] for i in listed["invoices"]} == {
            f"c{n}" for n in range(size)
        }
        counts[size] = _statements(container, client, "/api/v1/invoices")
    assert counts[SMALL] == counts[LARGE] <= BOUND, counts


def test_fees_api_list_costs_the_same_statements_for_3_or_12_invoices(
    container: Container, client: TestClient, billed: dict[int, tuple[UUID, str]]
) -> None:
    counts = {}
    for size, (_, key) in billed.items():
        client.headers["Authorization"] = f"Bearer {key}"
        fees = client.get("/api/v1/fees?per_page=100").json()["fees"]
        assert len({f["lago_invoice_id"] for f in fees}) == size
        counts[size] = _statements(container, client, "/api/v1/fees?per_page=100")
    assert counts[SMALL] == counts[LARGE] <= BOUND, counts


def test_subscriptions_api_list_costs_the_same_statements_for_3_or_12_subscriptions(
    container: Container, client: TestClient, billed: dict[int, tuple[UUID, str]]
) -> None:
    counts = {}
    for size, (_, key) in billed.items():
        client.headers["Authorization"] = f"Bearer {key}"
        listed = client.get("/api/v1/subscriptions").json()["subscriptions"]
        assert sorted(s["external_id"] for s in listed) == sorted(f"s{n}" for n in range(size))
        counts[size] = _statements(container, client, "/api/v1/subscriptions")
    assert counts[SMALL] == counts[LARGE] <= BOUND, counts


def test_dashboard_invoices_list_costs_the_same_statements_for_3_or_12_invoices(
    container: Container, billed: dict[int, tuple[UUID, str]]
) -> None:
    counts = {}
    for size, (_, key) in billed.items():
        with TestClient(create_app(container)) as client:  # one session per organization
            sign_in(client, key)
            page = client.get("/invoices").text
            assert all(f"Customer {n}" in page for n in range(size))
            counts[size] = _statements(container, client, "/invoices")
    assert counts[SMALL] == counts[LARGE] <= BOUND, counts


def test_one_reading_reads_a_subscriptions_current_usage_once_per_page(
    container: Container, billed: dict[int, tuple[UUID, str]]
) -> None:
    """The portal's sections (summary, budget, wallets) each ask for current usage; inside
    `one_reading()` the aggregates are read once and every section gets the same figures."""
    org, _ = billed[SMALL]
    usage = container.usage

    def read() -> tuple[int, int]:
        with counting(container.engine) as counter:
            total = usage.current_usage(org, "c1", "s1").total_amount_cents
        return total, counter.count

    outside = [read(), read()]
    assert outside[0] == outside[1] and outside[0][1] > 0  # no reading kept outside a block
    with one_reading():
        first, again = read(), read()
    assert first == outside[0]
    assert again == (first[0], 0)  # the same figures, no statement
    assert read() == outside[0]  # nothing outlives the block


DEMO_SCALE = 0.15  # as tests/integration/test_demo.py: the real catalog, fewer chatty events
INVOICE_LINK = re.compile(r'href="(/(?:portal/[^"/]+/)?invoices/[0-9a-f-]{36})"')


def test_report_page_render_times_and_statements_on_the_demo(
    container: Container,
    client: TestClient,
    capsys: pytest.CaptureFixture[str],
    record_property: Callable[[str, object], None],
) -> None:
    """A report, not a check: median render time (5 requests, wall clock of this machine, so
    it varies with load) and statements per page on the demo; only the status is asserted."""
    seed = container.demo.seed(scale=DEMO_SCALE)
    sign_in(client, seed.api_key)
    portal = "/portal/" + container.portal.issue_token(
        seed.organization_id, seed.customer_external_id
    )
    paths = {
        "dashboard overview": "/",
        "customer page": f"/customers/{seed.customer_external_id}",
        "invoices list": "/invoices",
        "plans": "/plans",
        "portal home": portal,
    }
    invoice = INVOICE_LINK.search(client.get("/invoices").text)
    portal_invoice = INVOICE_LINK.search(client.get(portal).text)
    assert invoice and portal_invoice, "the demo has invoices on both sides"
    paths["invoice detail"] = invoice.group(1)
    paths["portal invoice"] = portal_invoice.group(1)
    lines = [f"page render times on the demo (scale {DEMO_SCALE}, {seed.invoices} invoices):"]
    for name, path in paths.items():
        client.get(path)  # warm-up
        times = []
        for _ in range(5):
            with counting(container.engine) as counter:
                started = time.perf_counter()
                response = client.get(path)
                times.append((time.perf_counter() - started) * 1000)
            assert response.status_code == 200, (name, response.text[:300])
        median = statistics.median(times)
        record_property(name, f"{median:.0f} ms, {counter.count} statements")
        lines.append(f"  {name:<20} {median:6.1f} ms  {counter.count:3d} statements")
    with capsys.disabled():
        print("\n" + "\n".join(lines))
