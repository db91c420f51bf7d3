"""Ingestion: dedup forever, all-or-nothing batches, unmatched events and their re-flagging."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from uuid import UUID

import pytest

from releve.bootstrap import Container
from releve.services.errors import ValidationFailed
from releve.services.pagination import PageRequest
from releve.services.ports import EventFilter
from tests.integration.support import FakeClock

pytestmark = pytest.mark.store


def ev(tx: str, code: str = "calls", **over: object) -> dict[str, object]:
    return {
        "transaction_id": tx,
        "external_subscription_id": "sub_1",
        "code": code,
        "timestamp": 1_700_000_000,
        "properties": {"gb": Decimal("1.5")},
        **over,
    }


def count(container: Container, org: UUID, **filters: object) -> int:
    return container.events.list(org, EventFilter(**filters), PageRequest()).total_count  # type: ignore[arg-type]


@pytest.fixture
def org_id(org: tuple[UUID, str]) -> UUID:
    return org[0]


def test_replay_stores_nothing_and_conflict_is_422(container: Container, org_id: UUID) -> None:
    first = container.events.ingest_one(org_id, ev("t1"))
    again = container.events.ingest_one(org_id, ev("t1", properties={"gb": Decimal("1.50")}))
    assert again.id == first.id
    with pytest.raises(ValidationFailed) as err:
        container.events.ingest_one(org_id, ev("t1", properties={"gb": 2}))
    assert err.value.error_details == {"transaction_id": ["value_already_exist"]}
    assert count(container, org_id) == 1


def test_batch_is_all_or_nothing(container: Container, org_id: UUID) -> None:
    container.events.ingest_one(org_id, ev("old"))
    with pytest.raises(ValidationFailed) as err:
        container.events.ingest_batch(
            org_id, [ev("n1"), ev("n2", timestamp="2024-01-01T00:00:00"), ev("old", code="x")]
        )
    assert err.value.error_details == {
        "1": {"timestamp": ["invalid_format"]},
    }
    with pytest.raises(ValidationFailed) as err:
        container.events.ingest_batch(org_id, [ev("n1"), ev("old", code="x")])
    assert err.value.error_details == {"1": {"transaction_id": ["value_already_exist"]}}
    with pytest.raises(ValidationFailed) as err:
        container.events.ingest_batch(org_id, [ev("d"), ev("d", code="other")])
    assert err.value.error_details == {"1": {"transaction_id": ["value_already_exist"]}}
    assert count(container, org_id) == 1
    result = container.events.ingest_batch(org_id, [ev("n1"), ev("old"), ev("n1")])
    assert result.inserted == 1
    assert [e.transaction_id for e in result.events] == ["n1", "old", "n1"]
    assert count(container, org_id) == 2


@pytest.mark.parametrize(("size", "code"), [(0, "no_events"), (101, "too_many_events")])
def test_batch_size_limits(container: Container, org_id: UUID, size: int, code: str) -> None:
    with pytest.raises(ValidationFailed) as err:
        container.events.ingest_batch(org_id, [ev(f"t{i}") for i in range(size)])
    assert err.value.error_details == {"events": [code]}
    assert count(container, org_id) == 0


def test_exactly_100_is_accepted(container: Container, org_id: UUID) -> None:
    assert container.events.ingest_batch(org_id, [ev(f"t{i}") for i in range(100)]).inserted == 100


def test_absent_timestamp_uses_the_clock(
    container: Container, org_id: UUID, clock: FakeClock
) -> None:
    stored = container.events.ingest_one(org_id, ev("t", timestamp=None))
    assert stored.timestamp == clock.now()


def test_unknown_code_is_stored_unmatched_then_matched_by_the_new_metric(
    container: Container, org_id: UUID
) -> None:
    container.events.ingest_batch(org_id, [ev("a", "storage"), ev("b", "storage"), ev("c")])
    assert count(container, org_id, status="unmatched") == 3
    stored = container.events.get(org_id, "a")
    assert (stored.status, stored.unmatched_reason) == ("unmatched", "unknown_metric_code")
    container.billable_metrics.create(
        org_id, {"code": "storage", "name": "S", "aggregation_type": "sum_agg", "field_name": "gb"}
    )
    # The metric exists now, but no subscription "sub_1" does: still unmatched, and why.
    assert count(container, org_id, status="unmatched") == 3
    stored = container.events.get(org_id, "a")
    assert (stored.status, stored.unmatched_reason) == ("unmatched", "unknown_subscription")
    d = container.events.ingest_one(org_id, ev("d", "storage"))
    assert (d.status, d.unmatched_reason) == ("unmatched", "unknown_subscription")
    container.billable_metrics.delete(org_id, "storage")
    assert count(container, org_id, status="unmatched") == 4


def test_tenants_never_see_each_other(
    container: Container, org_id: UUID, other_org: tuple[UUID, str]
) -> None:
    container.events.ingest_one(org_id, ev("shared"))
    other = container.events.ingest_one(other_org[0], ev("shared", code="different"))
    assert other.code == "different"
    assert container.events.get(org_id, "shared").code == "calls"


def test_list_filters_and_pagination(container: Container, org_id: UUID) -> None:
    container.events.ingest_batch(
        org_id,
        [
            ev(f"t{i}", timestamp=1_700_000_000 + i, external_subscription_id=f"s{i % 2}")
            for i in range(5)
        ],
    )
    page = container.events.list(
        org_id,
        EventFilter(
            external_subscription_id="s0",
            timestamp_from=datetime.fromtimestamp(1_700_000_001, UTC),
        ),
        PageRequest(page=1, per_page=1),
    )
    assert page.total_count == 2  # t2 and t4
    assert [e.transaction_id for e in page.items] == ["t4"]
    assert page.meta() == {
        "current_page": 1,
        "next_page": 2,
        "prev_page": None,
        "total_pages": 2,
        "total_count": 2,
    }
