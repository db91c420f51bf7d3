"""The contract each aggregation family implements, and the JSON shape of persisted states.

A family works on its own *core* state (a sum, a multiset, readings…). `Aggregator` wraps the
core with what every bucket needs (event count, Σ precise_total_amount_cents), so families
stay small. Every core is an immutable value: `add` and `merge` return new cores and never
change their inputs, because the store shares states between buckets and retries.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from datetime import UTC, datetime
from decimal import Decimal
from typing import Generic, TypeAlias, TypeVar

from releve.domain.metering import BillableMetric
from releve.domain.usage import Event

JSON: TypeAlias = bool | int | str | list["JSON"] | dict[str, "JSON"] | None

C = TypeVar("C")


class Family(ABC, Generic[C]):
    """One aggregation type. `merge` must be associative and commutative, with `init()` as
    identity, so that any split of the events into buckets gives the same units."""

    def __init__(self, metric: BillableMetric) -> None:
        self.metric = metric

    @abstractmethod
    def init(self) -> C: ...

    @abstractmethod
    def add(self, core: C, event: Event) -> C: ...

    @abstractmethod
    def merge(self, a: C, b: C) -> C: ...

    @abstractmethod
    def units(self, core: C, start: datetime, end: datetime, carried: C | None) -> Decimal:
        """Unrounded units of the events of [start, end), given the carried-over core."""

    def carry(self, core: C, carried: C | None) -> C:
        """What the next period needs of this one (only families that carry override this)."""
        return self.init()

    @abstractmethod
    def dump(self, core: C) -> JSON: ...

    @abstractmethod
    def load(self, data: JSON) -> C: ...


def utc(moment: datetime) -> datetime:
    """One representation per instant, so persisted states do not depend on input offsets."""
    return moment.astimezone(UTC)


def dump_time(moment: datetime) -> str:
    return moment.isoformat()


def load_time(text: JSON) -> datetime:
    if not isinstance(text, str):
        raise ValueError(f"expected an ISO timestamp, got {text!r}")
    moment = datetime.fromisoformat(text)
    if moment.tzinfo is None:
        raise ValueError(f"timestamp {text!r} has no offset")
    return utc(moment)


def load_decimal(text: JSON) -> Decimal:
    if not isinstance(text, str):
        raise ValueError(f"expected a decimal string, got {text!r}")
    return Decimal(text)


def load_list(data: JSON) -> list[JSON]:
    if not isinstance(data, list):
        raise ValueError(f"expected a list, got {data!r}")
    return data
