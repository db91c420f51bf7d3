"""unique_count_agg: distinct values, with seat-style add/remove operations.

Core: for each value, its latest operation (timestamp, transaction_id, add?) and whether it
was added at all in the bucket. Keeping the latest operation per value — ordered by timestamp,
then transaction_id — instead of replaying events in arrival order is what makes `merge`
order-independent: a late "add" older than a "remove" cannot resurrect a removed seat.

Rule (the spec is silent; this is the arrears, non-prorated billing reading): a value counts
in a period when it was present at any moment of it — added during the period, or carried in
(recurring metrics) as present at the start. A seat removed on the 20th was still used this
period and is billed; it is not carried into the next one. Without operations every event is
an "add" and this is a plain distinct count.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from decimal import Decimal
from operator import attrgetter
from typing import NamedTuple

from releve.domain.aggregations._family import JSON, Family, dump_time, load_list, load_time, utc
from releve.domain.metering import Operation, event_operation, event_text
from releve.domain.usage import Event


class ValueOps(NamedTuple):
    timestamp: datetime  # UTC, of the latest operation on the value
    transaction_id: str  # of the latest operation (tie-break on equal timestamps)
    present: bool  # the latest operation is an add
    added: bool  # at least one add in the bucket

    def merged(self, other: ValueOps) -> ValueOps:
        mine = (self.timestamp, self.transaction_id, self.present)
        latest = other if (other.timestamp, other.transaction_id, other.present) > mine else self
        added = self.added or other.added
        return latest if latest.added is added else latest._replace(added=added)


UniqueCore = Mapping[str, ValueOps]
_ADDED = attrgetter("added")


class UniqueCountFamily(Family[UniqueCore]):
    def init(self) -> UniqueCore:
        return {}

    def add(self, core: UniqueCore, event: Event) -> UniqueCore:
        is_add = event_operation(event) is Operation.ADD
        op = ValueOps(utc(event.timestamp), event.transaction_id, is_add, is_add)
        return self.merge(core, {event_text(self.metric, event): op})

    def merge(self, a: UniqueCore, b: UniqueCore) -> UniqueCore:
        if len(a) < len(b):
            a, b = b, a
        merged = dict(a)
        for value, op in b.items():
            known = merged.get(value)
            if known is None:
                merged[value] = op
            elif known != op:
                merged[value] = known.merged(op)
        return merged

    def units(
        self, core: UniqueCore, start: datetime, end: datetime, carried: UniqueCore | None
    ) -> Decimal:
        if carried is None:  # the core's keys are distinct: no set to build
            return Decimal(sum(map(_ADDED, core.values())))
        used = {value for value, op in core.items() if op.added}
        used.update(value for value, op in carried.items() if op.present)
        return Decimal(len(used))

    def carry(self, core: UniqueCore, carried: UniqueCore | None) -> UniqueCore:
        """Values still present at the end: the next period starts with them."""
        everything = core if carried is None else self.merge(carried, core)
        return {value: op for value, op in everything.items() if op.present}

    def dump(self, core: UniqueCore) -> JSON:
        return {
            value: [dump_time(op.timestamp), op.transaction_id, op.present, op.added]
            for value, op in sorted(core.items())
        }

    def load(self, data: JSON) -> UniqueCore:
        if not isinstance(data, dict):
            raise ValueError(f"bad unique-count state {data!r}")
        core = {}
        for value, raw in data.items():
            moment, transaction_id, present, added = load_list(raw)
            if not (
                isinstance(transaction_id, str)
                and isinstance(present, bool)
                and isinstance(added, bool)
            ):
                raise ValueError(f"bad unique-count entry {raw!r}")
            core[value] = ValueOps(load_time(moment), transaction_id, present, added)
        return core
