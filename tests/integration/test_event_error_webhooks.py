"""`event.error` webhooks: one per new unmatched event, written in the ingest transaction.

- an unknown metric code → 404 `billable_metric_not_found`; a `sum_agg` event without its
  field → 422 `missing_aggregation_property`; a matched event → nothing;
- a batch whose transaction rolls back after matching → no webhook (and no event);
- a later rematch that counts the event sends nothing more;
- delivered as Lago's envelope `{"webhook_type": "event.error", "object_type": "event_error",
  "event_error": {...}}`.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any
from uuid import UUID

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient

from releve.adapters.sql.tables_webhooks import webhooks
from releve.bootstrap import Container
from releve.entrypoints.webhook_loop import deliver_once
from releve.services.pagination import PageRequest
from releve.services.ports import EventFilter, UnitOfWork
from releve.services.records import StoredEvent
from releve.services.usage_recording import UsageRecorder
from tests.integration.test_aggregates import MARCH, setup_plan, subscribe
from tests.integration.test_webhooks_delivery import Receiver, endpoint

pytestmark = pytest.mark.store

T = int(MARCH.timestamp()) + 3600  # 2024-03-01T01:00:00Z


def ev(tx: str, code: str = "sum", **properties: Any) -> dict[str, Any]:
    return {
        "transaction_id": tx,
        "external_subscription_id": "sub_e",
        "code": code,
        "timestamp": T,
        "properties": properties,
    }


def outbox(container: Container, org: UUID) -> list[tuple[str, str, dict[str, Any]]]:
    query = (
        sa.select(webhooks.c.webhook_type, webhooks.c.object_type, webhooks.c.payload)
        .where(webhooks.c.organization_id == org, webhooks.c.webhook_type == "event.error")
        .order_by(webhooks.c.created_at, webhooks.c.id)
    )
    with container.engine.connect() as c:
        return [(r[0], r[1], r[2]) for r in c.execute(query)]


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    r = Receiver()
    yield r
    r.close()


@pytest.fixture
def ready(api: TestClient, container: Container, org: tuple[UUID, str], receiver: Receiver) -> UUID:
    setup_plan(container, org[0])
    subscribe(container, org[0], "sub_e")
    endpoint(api, receiver.url)
    return org[0]


def test_unmatched_events_send_one_event_error_each_and_matched_ones_none(
    container: Container, ready: UUID
) -> None:
    matched_only = container.events.ingest_batch(ready, [ev("tx_ok", value=3)])
    assert matched_only.events[0].status == "matched"
    assert outbox(container, ready) == []

    result = container.events.ingest_batch(
        ready, [ev("tx_ok2", value=4), ev("tx_unknown", code="nope", value=3), ev("tx_noprop")]
    )
    _, unknown, noprop = result.events
    assert outbox(container, ready) == [
        (
            "event.error",
            "event_error",
            {
                "status": 404,
                "error": "Not found",
                "message": "billable_metric_not_found",
                "input_params": {
                    "transaction_id": "tx_unknown",
                    "external_subscription_id": "sub_e",
                    "code": "nope",
                    "timestamp": "2024-03-01T01:00:00Z",
                    "properties": {"value": 3},
                    "precise_total_amount_cents": None,
                },
                "lago_event_id": str(unknown.id),
                "unmatched_reason": "unknown_metric_code",
            },
        ),
        (
            "event.error",
            "event_error",
            {
                "status": 422,
                "error": "Unprocessable entity",
                "message": "missing_aggregation_property",
                "input_params": {
                    "transaction_id": "tx_noprop",
                    "external_subscription_id": "sub_e",
                    "code": "sum",
                    "timestamp": "2024-03-01T01:00:00Z",
                    "properties": {},
                    "precise_total_amount_cents": None,
                },
                "lago_event_id": str(noprop.id),
                "unmatched_reason": "missing_aggregation_property",
            },
        ),
    ]
    # A replay stores nothing new and reports nothing new.
    container.events.ingest_batch(ready, [ev("tx_unknown", code="nope", value=3)])
    assert len(outbox(container, ready)) == 2


class _FailsAfterMatching(UsageRecorder):
    """Matches (and so emits) as usual, then fails: the group transaction rolls back."""

    def record(self, uow: UnitOfWork, organization_id: UUID, events: Sequence[StoredEvent]) -> None:
        super().record(uow, organization_id, events)
        if any(e.code == "explodes" for e in events):
            raise RuntimeError("refused by the store")


def test_a_rolled_back_batch_sends_no_event_error(container: Container, ready: UUID) -> None:
    container.events._committer._recorder = _FailsAfterMatching(container.clock.now)
    with pytest.raises(RuntimeError):
        container.events.ingest_batch(ready, [ev("tx_bad", code="explodes", value=1)])
    assert outbox(container, ready) == []
    assert container.events.list(ready, EventFilter(), PageRequest(per_page=1)).total_count == 0


def test_a_rematch_that_counts_the_event_sends_nothing_more(
    container: Container, ready: UUID
) -> None:
    container.events.ingest_one(ready, ev("tx_late_metric", code="later", value=2))
    assert len(outbox(container, ready)) == 1
    container.billable_metrics.create(
        ready, {"code": "later", "name": "later", "aggregation_type": "count_agg"}
    )
    assert container.events.get(ready, "tx_late_metric").status == "matched"
    assert len(outbox(container, ready)) == 1


def test_the_delivered_body_is_lagos_event_error_envelope(
    container: Container, ready: UUID, receiver: Receiver
) -> None:
    container.events.ingest_one(ready, ev("tx_x", code="nope"))
    assert deliver_once(container).attempted == 1
    (body,) = receiver.bodies("event.error")
    assert body["object_type"] == "event_error"
    assert body["organization_id"] == str(ready)
    assert body["event_error"]["message"] == "billable_metric_not_found"
    assert body["event_error"]["input_params"]["transaction_id"] == "tx_x"


def test_an_endpoint_not_listening_to_event_error_gets_nothing(
    api: TestClient, container: Container, org: tuple[UUID, str], receiver: Receiver
) -> None:
    endpoint(api, receiver.url, event_types=["invoice.created"])
    container.events.ingest_one(org[0], ev("tx_y", code="nope"))
    assert outbox(container, org[0]) == []
