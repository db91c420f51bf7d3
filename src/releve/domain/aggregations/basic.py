"""count_agg, sum_agg, max_agg and latest_agg: the one-number aggregations."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from releve.domain.aggregations._family import (
    JSON,
    Family,
    dump_time,
    load_decimal,
    load_list,
    load_time,
    utc,
)
from releve.domain.metering import event_value
from releve.domain.quantities import EXACT, canonical
from releve.domain.usage import Event


class CountFamily(Family[None]):
    """Number of events. The count itself is the bucket's `events_count`; no core is needed."""

    def init(self) -> None:
        return None

    def add(self, core: None, event: Event) -> None:
        return None

    def merge(self, a: None, b: None) -> None:
        return None

    def units(self, core: None, start: datetime, end: datetime, carried: None) -> Decimal:
        raise AssertionError("Aggregator counts events itself")  # pragma: no cover

    def dump(self, core: None) -> JSON:
        return None

    def load(self, data: JSON) -> None:
        if data is not None:
            raise ValueError(f"count state has no core, got {data!r}")


class SumFamily(Family[Decimal]):
    """Σ value, exactly. Recurring: the carried total of all earlier periods is added."""

    def init(self) -> Decimal:
        return Decimal(0)

    def add(self, core: Decimal, event: Event) -> Decimal:
        return EXACT.add(core, event_value(self.metric, event))

    def merge(self, a: Decimal, b: Decimal) -> Decimal:
        return EXACT.add(a, b)

    def units(
        self, core: Decimal, start: datetime, end: datetime, carried: Decimal | None
    ) -> Decimal:
        return core if carried is None else EXACT.add(carried, core)

    def carry(self, core: Decimal, carried: Decimal | None) -> Decimal:
        return core if carried is None else EXACT.add(carried, core)

    def dump(self, core: Decimal) -> JSON:
        return str(core)

    def load(self, data: JSON) -> Decimal:
        return load_decimal(data)


class MaxFamily(Family[Decimal | None]):
    """Largest value of the period (0 when there is no event). Kept canonical (2.50 → 2.5)
    so the persisted state does not depend on which of two equal values came first."""

    def init(self) -> Decimal | None:
        return None

    def add(self, core: Decimal | None, event: Event) -> Decimal | None:
        return self.merge(core, canonical(event_value(self.metric, event)))

    def merge(self, a: Decimal | None, b: Decimal | None) -> Decimal | None:
        if a is None:
            return b
        if b is None:
            return a
        return max(a, b)

    def units(
        self, core: Decimal | None, start: datetime, end: datetime, carried: Decimal | None
    ) -> Decimal:
        return Decimal(0) if core is None else core

    def dump(self, core: Decimal | None) -> JSON:
        return None if core is None else str(core)

    def load(self, data: JSON) -> Decimal | None:
        return None if data is None else load_decimal(data)


# (timestamp in UTC, transaction_id, value)
LatestCore = tuple[datetime, str, Decimal] | None


class LatestFamily(Family[LatestCore]):
    """Value of the latest event by timestamp; equal timestamps are ordered by transaction_id
    (the greater wins) so that the result never depends on arrival order."""

    def init(self) -> LatestCore:
        return None

    def add(self, core: LatestCore, event: Event) -> LatestCore:
        value = event_value(self.metric, event)
        return self.merge(core, (utc(event.timestamp), event.transaction_id, value))

    def merge(self, a: LatestCore, b: LatestCore) -> LatestCore:
        if a is None:
            return b
        if b is None:
            return a
        return a if (a[0], a[1]) >= (b[0], b[1]) else b

    def units(
        self, core: LatestCore, start: datetime, end: datetime, carried: LatestCore
    ) -> Decimal:
        return Decimal(0) if core is None else core[2]

    def dump(self, core: LatestCore) -> JSON:
        return None if core is None else [dump_time(core[0]), core[1], str(core[2])]

    def load(self, data: JSON) -> LatestCore:
        if data is None:
            return None
        moment, transaction_id, value = load_list(data)
        if not isinstance(transaction_id, str):
            raise ValueError(f"bad latest state {data!r}")
        return load_time(moment), transaction_id, load_decimal(value)
