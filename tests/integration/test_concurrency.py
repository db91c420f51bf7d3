"""Racing requests on the same transaction_ids: never an error, never a duplicate."""

from __future__ import annotations

import random
import threading
from uuid import UUID

import pytest

from releve.bootstrap import Container
from releve.services.pagination import PageRequest
from releve.services.ports import EventFilter

pytestmark = pytest.mark.store


def test_eight_threads_same_thousand_events(container: Container, org: tuple[UUID, str]) -> None:
    org_id = org[0]
    events = [
        {
            "transaction_id": f"tx_{i}",
            "external_subscription_id": f"sub_{i % 7}",
            "code": "calls",
            "timestamp": 1_700_000_000 + i,
            "properties": {"n": i},
        }
        for i in range(1000)
    ]
    errors: list[BaseException] = []
    inserted: list[int] = []
    start = threading.Barrier(8)

    def worker(k: int) -> None:
        rng = random.Random(k)
        offset = k * 37  # overlapping, misaligned batches
        order = events[offset:] + events[:offset]
        batches = [order[i : i + 100] for i in range(0, 1000, 100)]
        rng.shuffle(batches)
        start.wait()
        try:
            for batch in batches:
                inserted.append(container.events.ingest_batch(org_id, batch).inserted)
        except BaseException as exc:  # collected and asserted below
            errors.append(exc)

    threads = [threading.Thread(target=worker, args=(k,)) for k in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert sum(inserted) == 1000
    page = container.events.list(org_id, EventFilter(), PageRequest(per_page=1))
    assert page.total_count == 1000
