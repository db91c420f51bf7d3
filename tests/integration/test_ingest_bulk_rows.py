"""The bulk event insert (driver executemany / COPY) stores exactly what SQLAlchemy would."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal
from uuid import UUID

import pytest
import sqlalchemy as sa

from releve.adapters.sql.repositories.base import to_row
from releve.adapters.sql.repositories.events import SqlEventRepository
from releve.adapters.sql.tables import events
from releve.services.errors import StoreConflict
from releve.services.records import StoredEvent

pytestmark = pytest.mark.store


def _event(org: UUID, tx: str, **over: object) -> StoredEvent:
    values: dict[str, object] = {
        "id": uuid.uuid4(),
        "organization_id": org,
        "transaction_id": tx,
        "external_subscription_id": "sub_é",
        "code": "gb",
        "timestamp": datetime(2024, 3, 1, 12, 30, 0, 123456, tzinfo=timezone(timedelta(hours=5))),
        "properties": {"gb": Decimal("0.10"), "n": 2**70, "s": 'a"\\\n\t\u2028', "l": [None]},
        "precise_total_amount_cents": Decimal("12.3400"),
        "payload_hash": "h" * 64,
        "created_at": datetime(2024, 3, 2, tzinfo=UTC),
        "status": "matched",
        "unmatched_reason": None,
        "subscription_id": uuid.uuid4(),
        **over,
    }
    return StoredEvent(**values)  # type: ignore[arg-type]


def test_bulk_rows_equal_sqlalchemy_rows_column_by_column(
    engine: sa.Engine, org: tuple[UUID, str]
) -> None:
    org_id = org[0]
    plain = [
        _event(org_id, "sa_1"),
        _event(org_id, "sa_2", precise_total_amount_cents=None, subscription_id=None),
    ]
    bulk = [
        _event(org_id, "bk_1"),
        _event(org_id, "bk_2", precise_total_amount_cents=None, subscription_id=None),
    ]
    with engine.begin() as c:
        c.execute(events.insert(), [to_row(e) for e in plain])
        SqlEventRepository(c).add_many(bulk)
    # Everything but the id, transaction_id and subscription_id must be stored identically,
    # as the database's own text of each column (not through our type decorators).
    columns = [
        col for col in events.c if col.name not in {"id", "transaction_id", "subscription_id"}
    ]
    with engine.connect() as c:
        raw = {
            row[0]: row[1:]
            for row in c.execute(
                sa.select(events.c.transaction_id, *[sa.cast(col, sa.Text) for col in columns])
            )
        }
        repository = SqlEventRepository(c)
        read = {e.transaction_id: e for e in [repository.get(org_id, t) for t in raw] if e}
    assert raw["sa_1"] == raw["bk_1"]
    assert raw["sa_2"] == raw["bk_2"]
    for original in [*plain, *bulk]:
        assert read[original.transaction_id] == StoredEvent(
            **{**to_row(original), "timestamp": original.timestamp.astimezone(UTC)}  # type: ignore[arg-type]
        )


def test_a_duplicate_key_is_a_store_conflict(engine: sa.Engine, org: tuple[UUID, str]) -> None:
    with engine.begin() as c:
        SqlEventRepository(c).add_many([_event(org[0], "dup")])
    with pytest.raises(StoreConflict), engine.begin() as c:
        SqlEventRepository(c).add_many([_event(org[0], "dup")])


def test_naive_times_and_non_finite_amounts_are_refused(
    engine: sa.Engine, org: tuple[UUID, str]
) -> None:
    with pytest.raises(ValueError), engine.begin() as c:
        SqlEventRepository(c).add_many([_event(org[0], "t", timestamp=datetime(2024, 1, 1))])
    with pytest.raises(ValueError), engine.begin() as c:
        SqlEventRepository(c).add_many(
            [_event(org[0], "t", precise_total_amount_cents=Decimal("NaN"))]
        )
