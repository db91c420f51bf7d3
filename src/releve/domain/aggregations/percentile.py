"""percentile_agg (our extension): the exact nearest-rank percentile of the event values.

Units = the smallest value v such that at least p% of the period's N values are ≤ v, i.e.
the value at rank ⌈p × N / 100⌉ of the sorted values (0 when there is no event). Nearest
rank never interpolates, so the result is always a value that was actually reported, which
is what a customer can check on their own data (p95 of 20 values is the 19th).

Core: a multiset value → count, keys canonical (2.50 and 2.5 are one key). It is exact and
merges by adding counts; its size is the number of DISTINCT values, not of events.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from decimal import ROUND_CEILING, Decimal

from releve.domain.aggregations._family import JSON, Family, load_decimal, load_list
from releve.domain.metering import event_value
from releve.domain.quantities import EXACT, canonical
from releve.domain.usage import Event

PercentileCore = Mapping[Decimal, int]


class PercentileFamily(Family[PercentileCore]):
    def init(self) -> PercentileCore:
        return {}

    def add(self, core: PercentileCore, event: Event) -> PercentileCore:
        return self.merge(core, {canonical(event_value(self.metric, event)): 1})

    def merge(self, a: PercentileCore, b: PercentileCore) -> PercentileCore:
        if len(a) < len(b):
            a, b = b, a
        merged = dict(a)
        for value, count in b.items():
            merged[value] = merged.get(value, 0) + count
        return merged

    def units(
        self, core: PercentileCore, start: datetime, end: datetime, carried: PercentileCore | None
    ) -> Decimal:
        total = sum(core.values())
        if total == 0:
            return Decimal(0)
        assert self.metric.percentile is not None  # checked by BillableMetric
        exact_rank = EXACT.divide(EXACT.multiply(self.metric.percentile, Decimal(total)), 100)
        rank = int(exact_rank.to_integral_value(rounding=ROUND_CEILING))
        seen = 0
        for value in sorted(core):
            seen += core[value]
            if seen >= rank:
                return value
        raise AssertionError("rank beyond the number of values")  # pragma: no cover

    def dump(self, core: PercentileCore) -> JSON:
        return [[str(value), core[value]] for value in sorted(core)]

    def load(self, data: JSON) -> PercentileCore:
        core: dict[Decimal, int] = {}
        for entry in load_list(data):
            value, count = load_list(entry)
            if isinstance(count, bool) or not isinstance(count, int) or count < 1:
                raise ValueError(f"bad percentile entry {entry!r}")
            core[canonical(load_decimal(value))] = count
        return core
