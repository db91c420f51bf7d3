"""Group commit: concurrent batches share a transaction, yet each keeps its own semantics.

- Racing threads with overlapping transaction_ids: every event stored once, every batch that
  returned is fully stored, and the aggregates count each event once.
- Batches forced into one group: a conflicting batch gets its per-index 422 and stores nothing,
  its group mates are stored; a batch that breaks the group transaction fails only itself.
"""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Callable, Sequence
from decimal import Decimal
from typing import Any
from uuid import UUID

import pytest

from releve.bootstrap import Container
from releve.services.errors import ValidationFailed
from releve.services.ingest_batcher import GroupCommitter
from releve.services.pagination import PageRequest
from releve.services.ports import EventFilter, UnitOfWork
from releve.services.records import StoredEvent
from releve.services.usage_recording import UsageRecorder
from tests.integration.test_aggregates import MARCH, setup_plan, subscribe

pytestmark = pytest.mark.store


def ev(tx: str, value: int = 1, external_id: str = "sub_g", code: str = "sum") -> dict[str, Any]:
    return {
        "transaction_id": tx,
        "external_subscription_id": external_id,
        "code": code,
        "timestamp": int(MARCH.timestamp()) + 3600 + (hash(tx) % 86_400),
        "properties": {"value": value, "user": "u1"},
    }


def stored_count(container: Container, org: UUID) -> int:
    return container.events.list(org, EventFilter(), PageRequest(per_page=1)).total_count


def committer(container: Container) -> GroupCommitter:
    return container.events._committer


def in_one_group(container: Container, calls: Sequence[Callable[[], Any]]) -> list[Any]:
    """Run `calls` in threads while the committer is held busy, so they all queue, then release
    it: the next leader takes them all into one group. Returns each call's result or error."""
    group = committer(container)
    with group._cond:
        group._busy = True
    results: list[Any] = [None] * len(calls)

    def run(i: int) -> None:
        try:
            results[i] = calls[i]()
        except Exception as exc:  # collected for the assertions
            results[i] = exc

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(calls))]
    for t in threads:
        t.start()
    for _ in range(1000):  # every call queued (bounded wait: no wall-clock assertion)
        with group._cond:
            if len(group._pending) == len(calls):
                break
        time.sleep(0.005)
    with group._cond:
        assert len(group._pending) == len(calls)
        group._busy = False
        group._cond.notify_all()
    for t in threads:
        t.join()
    return results


def test_racing_overlapping_batches_store_each_event_once_and_count_it_once(
    container: Container, org: tuple[UUID, str]
) -> None:
    org_id = org[0]
    setup_plan(container, org_id)
    subscribe(container, org_id, "sub_g")
    events = [ev(f"tx_{i}", value=i) for i in range(600)]
    acknowledged: list[list[str]] = []
    errors: list[BaseException] = []
    start = threading.Barrier(6)

    def worker(k: int) -> None:
        rng = random.Random(k)
        order = events[k * 53 :] + events[: k * 53]  # overlapping, misaligned batches
        batches = [order[i : i + 50] for i in range(0, len(order), 50)]
        rng.shuffle(batches)
        start.wait()
        for batch in batches:
            try:
                container.events.ingest_batch(org_id, batch)
                acknowledged.append([e["transaction_id"] for e in batch])
            except BaseException as exc:  # collected and asserted below
                errors.append(exc)

    threads = [threading.Thread(target=worker, args=(k,)) for k in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert stored_count(container, org_id) == 600
    for batch in acknowledged:
        for tx in batch:
            container.events.get(org_id, tx)  # raises NotFound if an acknowledged event is missing
    usage = container.usage.current_usage(org_id, "cus_1", "sub_g")
    by_code = {c.charge.metric.code: c for c in usage.charges}
    assert by_code["sum"].units == Decimal(sum(range(600)))
    assert by_code["count"].units == 0  # another metric: no event of that code


def test_a_conflicting_batch_is_rejected_alone_in_its_group(
    container: Container, org: tuple[UUID, str]
) -> None:
    org_id = org[0]
    container.events.ingest_one(org_id, ev("old", value=1))
    results = in_one_group(
        container,
        [
            lambda: container.events.ingest_batch(org_id, [ev("a1"), ev("a2")]),
            # "old" with another payload: a 422 for index 1, nothing of this batch stored
            lambda: container.events.ingest_batch(org_id, [ev("b1"), ev("old", value=2)]),
            # "a1" again, same payload, in the same group: a replay of its group mate
            lambda: container.events.ingest_batch(org_id, [ev("a1"), ev("c1")]),
            # "a2" again with another payload, in the same group: a conflict with its group mate
            lambda: container.events.ingest_batch(org_id, [ev("d1"), ev("a2", value=9)]),
        ],
    )
    first, second, third, fourth = results
    assert first.inserted == 2
    assert isinstance(second, ValidationFailed)
    assert second.error_details == {"1": {"transaction_id": ["value_already_exist"]}}
    assert third.inserted == 1
    assert third.events[0].id == first.events[0].id
    assert isinstance(fourth, ValidationFailed)
    assert fourth.error_details == {"1": {"transaction_id": ["value_already_exist"]}}
    stored = {
        e.transaction_id
        for e in container.events.list(org_id, EventFilter(), PageRequest(per_page=100)).items
    }
    assert stored == {"old", "a1", "a2", "c1"}


class _FailsOnCode(UsageRecorder):
    """A recorder that fails for one event code, standing for a batch its store refuses."""

    def record(self, uow: UnitOfWork, organization_id: UUID, events: Sequence[StoredEvent]) -> None:
        if any(e.code == "explodes" for e in events):
            raise RuntimeError("refused by the store")
        super().record(uow, organization_id, events)


def test_a_batch_that_breaks_the_group_transaction_fails_only_itself(
    container: Container, org: tuple[UUID, str]
) -> None:
    org_id = org[0]
    group = committer(container)
    group._recorder = _FailsOnCode(container.clock.now)
    results = in_one_group(
        container,
        [
            lambda: container.events.ingest_batch(org_id, [ev("ok1")]),
            lambda: container.events.ingest_batch(org_id, [ev("bad", code="explodes"), ev("x")]),
            lambda: container.events.ingest_batch(org_id, [ev("ok2")]),
        ],
    )
    assert results[0].inserted == 1
    assert isinstance(results[1], RuntimeError)
    assert results[2].inserted == 1
    assert stored_count(container, org_id) == 2
    with pytest.raises(ValidationFailed):  # still all-or-nothing per batch afterwards
        container.events.ingest_batch(org_id, [ev("ok3"), ev("ok1", value=5)])
    assert stored_count(container, org_id) == 2
