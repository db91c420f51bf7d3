"""The bill run's usage pre-read (`billing_usage_bulk`): for random events of every aggregation
type and random periods starting and ending mid-day in a +05:30 zone, several subscriptions read
together give exactly what each one's own read (`billing_usage.usage_for_period`) gives, without
filling the process-wide caches; a bill run reads usage in a number of statements that does not
grow with its subscriptions; and an event ingested after the pre-read, before the invoice is
written, is not lost: the invoice is as of the pre-read, so the event is late usage of a
finalized period, pending adjustment.
"""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from releve.adapters.sql.tables_billing import fees
from releve.adapters.sql.uow import SqlUnitOfWorkFactory
from releve.bootstrap import Container
from releve.domain.billing.period_invoice import InvoiceKind
from releve.domain.periods import Period
from releve.services import usage_states
from releve.services.billing import BillingRun
from releve.services.billing_due import domain_of
from releve.services.billing_ports import BillingUnitOfWorkFactory
from releve.services.billing_run_cache import RunCache
from releve.services.billing_usage import usage_for_period
from releve.services.billing_usage_bulk import pre_read, read_periods
from tests.integration.support import FakeClock
from tests.integration.test_aggregates import setup_plan, subscribe
from tests.integration.test_aggregates_daily import START, _ingest, _subscribe, raw_events

pytestmark = pytest.mark.store

_ids = itertools.count()
bounds = st.tuples(st.integers(0, 14 * 24), st.integers(1, 14 * 24))


def _factory(engine: sa.Engine) -> BillingUnitOfWorkFactory:
    return SqlUnitOfWorkFactory(engine)


def _cache_sizes() -> tuple[int, int]:
    return len(usage_states._decoded._items), len(usage_states._merged._items)


def _own_read(engine: sa.Engine, subscription: Any, period: Period) -> Any:
    with _factory(engine)(read_only=True) as uow:
        domain = domain_of(uow, subscription)
        return usage_for_period(
            uow,
            subscription.organization_id,
            subscription.id,
            subscription.external_id,
            domain,
            domain.plan,
            period,
        )


@settings(
    max_examples=12,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    batches=st.lists(st.tuples(raw_events, bounds), min_size=1, max_size=3),
)
def test_pre_read_equals_each_subscriptions_own_read(
    container: Container,
    org: tuple[UUID, str],
    engine: sa.Engine,
    clock: FakeClock,
    batches: list[Any],
) -> None:
    org_id = org[0]
    wanted = []
    for events, (lo, length) in batches:
        external_id = f"bulk_{next(_ids)}"
        _subscribe(container, org_id, external_id)
        _ingest(container, org_id, external_id, events)
        with _factory(engine)(read_only=True) as uow:
            subscription = uow.subscriptions.current(org_id, external_id)
        assert subscription is not None
        period = Period(START + timedelta(hours=lo), START + timedelta(hours=lo + length))
        wanted.append((subscription, period))
    before = _cache_sizes()
    found = read_periods(_factory(engine), wanted, clock.now)
    assert _cache_sizes() == before  # a bill run leaves the current-usage caches alone
    assert found.read_at == clock.now()
    for subscription, period in wanted:
        pre = found.take(subscription.id, period)
        assert pre is not None
        own = _own_read(engine, subscription, period)
        assert pre.keys() == own.keys()
        for charge_id, buckets in own.items():
            assert dict(pre[charge_id]) == dict(buckets), charge_id
        # Something was billed at all, for at least one non-empty charge.
    assert sum(1 for _, p in wanted if not p.is_empty) == len(wanted)


def _usage_statements(engine: sa.Engine, container: Container, at: datetime) -> tuple[int, Any]:
    seen: list[str] = []

    def count(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        if "usage_aggregates" in statement or "usage_daily_aggregates" in statement:
            seen.append(statement)

    sa.event.listen(engine, "before_cursor_execute", count)
    try:
        run = container.billing.bill_due(at)
    finally:
        sa.event.remove(engine, "before_cursor_execute", count)
    return len([s for s in seen if "SELECT" in s and "state" in s]), run


def test_bill_run_reads_usage_per_chunk_not_per_subscription(
    container: Container, org: tuple[UUID, str], engine: sa.Engine, clock: FakeClock
) -> None:
    org_id = org[0]
    setup_plan(container, org_id)
    container.customers.upsert(org_id, {"external_id": "cus_1"})
    start = datetime(2024, 3, 1, tzinfo=UTC)
    for n in range(12):
        subscribe(container, org_id, f"many_{n}", start)
    payloads = [
        {
            "transaction_id": f"t{n}_{code}",
            "external_subscription_id": f"many_{n}",
            "code": code,
            "timestamp": (start + timedelta(days=n, hours=3)).isoformat(),
            "properties": {"value": "2", "user": "u1", "operation_type": "add"},
        }
        for n in range(12)
        for code in ("count", "sum", "seats")
    ]
    container.events.ingest_batch(org_id, payloads)
    at = datetime(2024, 4, 1, 1, tzinfo=UTC)
    clock.set(at)
    reads, run = _usage_statements(engine, container, at)
    assert not run.errors
    assert len(run.issued) + run.closed == 12
    # One chunk: the current period's daily + hourly rows, and the earlier ones of the carrying
    # charges — at most 4 statements, where a read per subscription made 2 × 12.
    assert reads <= 4
    events = sum(f.events_count for i in run.issued for f in _charge_fees(engine, i.id))
    assert events == 36


def _charge_fees(engine: sa.Engine, invoice_id: UUID) -> list[Any]:
    with engine.connect() as c:
        return list(
            c.execute(
                fees.select().where(fees.c.invoice_id == invoice_id, fees.c.fee_type == "charge")
            )
        )


def test_event_after_the_pre_read_is_late_usage_of_the_invoice(
    container: Container, org: tuple[UUID, str], engine: sa.Engine, clock: FakeClock
) -> None:
    org_id = org[0]
    setup_plan(container, org_id)
    container.customers.upsert(org_id, {"external_id": "cus_1"})
    start = datetime(2024, 3, 1, tzinfo=UTC)
    subscribe(container, org_id, "late_1", start)

    def send(n: int, when: datetime) -> None:
        payload = {
            "transaction_id": f"late_{n}",
            "external_subscription_id": "late_1",
            "code": "sum",
            "timestamp": when.isoformat(),
            "properties": {"value": "5"},
        }
        container.events.ingest_batch(org_id, [payload])

    send(0, start + timedelta(days=3))
    at = datetime(2024, 4, 1, 1, tzinfo=UTC)
    clock.set(at)
    service = container.billing
    cache = RunCache()
    factory = cache.factory(service._uow)
    with factory(read_only=True) as uow:
        subscription = uow.subscriptions.current(org_id, "late_1")
    assert subscription is not None
    jobs = [(InvoiceKind.PERIOD_END, datetime(2024, 4, 1, tzinfo=UTC))]
    cache.pre_read = pre_read(factory, [(subscription, jobs)], clock.now)
    read_at = cache.pre_read.read_at
    assert read_at == at
    clock.advance(timedelta(minutes=5))
    send(1, start + timedelta(days=10))  # between the pre-read and the invoice's transaction
    clock.advance(timedelta(minutes=5))
    run = BillingRun(clock.now())
    service._issue_one(factory, cache, subscription, *jobs[0], run)
    assert not run.errors
    (invoice,) = run.issued
    assert invoice.finalized_at == read_at  # as of its usage
    fees = [f for f in _charge_fees(engine, invoice.id) if f.events_count]
    assert [f.events_count for f in fees] == [1]  # the pre-read's event only
    with factory(read_only=True) as uow:
        late = uow.adjustments.late_subscription_ids()  # type: ignore[attr-defined]
    assert subscription.id in late
    pending = service.pending_adjustments(org_id, "late_1")
    adjusted = [p for p in pending if p.adjustment is not None]
    assert len(adjusted) == 1
    assert adjusted[0].late_events_count == 1
