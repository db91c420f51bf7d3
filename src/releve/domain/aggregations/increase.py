"""increase_agg (our extension): consumption measured by a cumulative meter.

Each event carries a meter READING (an index that only goes up). Consumption over a period =
Σ increases between consecutive readings in time order (ties by transaction_id), starting
from the last reading before the period when there is one (the carried state). A reading
lower than the previous one is a meter reset (replaced or rolled-over meter): it counts in
full, as an increase from 0. Without an earlier reading, the first reading is the baseline
and counts 0: a meter installed showing 12 345 kWh has not consumed them for this customer.

Core: every reading of the bucket, keyed by (timestamp, transaction_id). Summaries of
(first, last, internal increase) merge exactly only for buckets that do not overlap in time,
and a late reading lands inside an already summarised span; keeping the readings is exact
for any split. Readings are sparse (one per meter per hour or day), so the cost is small;
`carry` keeps only the last reading.
"""

from __future__ import annotations

from collections.abc import Mapping
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
from releve.domain.errors import DomainError
from releve.domain.metering import event_value
from releve.domain.quantities import EXACT
from releve.domain.usage import Event

IncreaseCore = Mapping[tuple[datetime, str], Decimal]


class IncreaseFamily(Family[IncreaseCore]):
    def init(self) -> IncreaseCore:
        return {}

    def add(self, core: IncreaseCore, event: Event) -> IncreaseCore:
        reading = event_value(self.metric, event)
        if reading < 0:
            raise DomainError(
                f"a meter reading cannot be negative, got {reading}",
                field=f"properties.{self.metric.field_name}",
            )
        return self.merge(core, {(utc(event.timestamp), event.transaction_id): reading})

    def merge(self, a: IncreaseCore, b: IncreaseCore) -> IncreaseCore:
        if len(a) < len(b):
            a, b = b, a
        merged = dict(a)
        for key, reading in b.items():
            # The same key twice is the same event; keep one reading, chosen independently
            # of the order of the arguments.
            merged[key] = max(merged[key], reading) if key in merged else reading
        return merged

    def units(
        self, core: IncreaseCore, start: datetime, end: datetime, carried: IncreaseCore | None
    ) -> Decimal:
        previous = _last(carried) if carried else None
        consumed = Decimal(0)
        for key in sorted(core):
            reading = core[key]
            if previous is not None:
                step = reading - previous if reading >= previous else reading
                consumed = EXACT.add(consumed, step)
            previous = reading
        return consumed

    def carry(self, core: IncreaseCore, carried: IncreaseCore | None) -> IncreaseCore:
        everything = core if carried is None else self.merge(carried, core)
        if not everything:
            return {}
        last = max(everything)
        return {last: everything[last]}

    def dump(self, core: IncreaseCore) -> JSON:
        return [[dump_time(moment), tx, str(core[(moment, tx)])] for moment, tx in sorted(core)]

    def load(self, data: JSON) -> IncreaseCore:
        core = {}
        for entry in load_list(data):
            moment, transaction_id, reading = load_list(entry)
            if not isinstance(transaction_id, str):
                raise ValueError(f"bad reading {entry!r}")
            core[(load_time(moment), transaction_id)] = load_decimal(reading)
        return core


def _last(core: IncreaseCore) -> Decimal:
    return core[max(core)]
