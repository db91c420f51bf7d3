"""Row ↔ record mapping shared by the SQL repositories (records use the column names)."""

from __future__ import annotations

from dataclasses import fields
from functools import cache
from typing import Any, TypeVar

import sqlalchemy as sa

R = TypeVar("R")


def to_record(record_type: type[R], row: sa.Row[Any]) -> R:
    return record_type(**row._mapping)


@cache
def _field_names(record_type: type) -> tuple[str, ...]:
    return tuple(f.name for f in fields(record_type))


def to_row(record: Any) -> dict[str, Any]:
    """The record's column values, a shallow copy: inserts and updates only read them, so the
    deep copy `dataclasses.asdict` makes of every JSON field (lists, dicts) is not needed."""
    return {name: getattr(record, name) for name in _field_names(type(record))}


def count_and_page(
    connection: sa.Connection, query: sa.Select[Any], offset: int, limit: int
) -> tuple[list[sa.Row[Any]], int]:
    """One page of `query` and the total count of its rows."""
    total = connection.execute(
        sa.select(sa.func.count()).select_from(query.order_by(None).subquery())
    ).scalar_one()
    rows = list(connection.execute(query.offset(offset).limit(limit)))
    return rows, int(total)
