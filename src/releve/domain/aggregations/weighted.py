"""weighted_sum_agg: the time-average of a level that events move by deltas (lago-api.md §2).

Each event's value is a DELTA applied at its timestamp to a running level, which starts at
the carried-over level (recurring metrics) or 0. Units = Σ level × seconds held / seconds in
the period. With L0 the starting level and events (dᵢ, tᵢ) in [S, E):

    units = L0 + Σ dᵢ × (E − tᵢ) / (E − S) = L0 + (E × Σdᵢ − Σ dᵢ×tᵢ) / (E − S)

so the core is the pair (Σdᵢ, Σ dᵢ×tᵢ) with tᵢ in exact Unix seconds: merging is adding
pairs, exact and order-free, and a late event is one more addition. Lago's example, 30-day
month, +10 on day 0 and +10 on day 15: 10 + 10 × 15/30 = 15. Sums are exact; only the final
division rounds, in the current decimal context (28 significant digits), before the metric's
own rounding.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import NamedTuple

from releve.domain.aggregations._family import JSON, Family, load_decimal, load_list
from releve.domain.metering import event_value
from releve.domain.quantities import EXACT, unix_seconds
from releve.domain.usage import Event


class WeightedCore(NamedTuple):
    delta: Decimal  # Σ deltas: the level change over the bucket
    delta_seconds: Decimal  # Σ delta × Unix seconds of the event


class WeightedSumFamily(Family[WeightedCore]):
    def init(self) -> WeightedCore:
        return WeightedCore(Decimal(0), Decimal(0))

    def add(self, core: WeightedCore, event: Event) -> WeightedCore:
        delta = event_value(self.metric, event)
        moment = EXACT.multiply(delta, unix_seconds(event.timestamp))
        return self.merge(core, WeightedCore(delta, moment))

    def merge(self, a: WeightedCore, b: WeightedCore) -> WeightedCore:
        return WeightedCore(
            EXACT.add(a.delta, b.delta), EXACT.add(a.delta_seconds, b.delta_seconds)
        )

    def units(
        self, core: WeightedCore, start: datetime, end: datetime, carried: WeightedCore | None
    ) -> Decimal:
        begin, finish = unix_seconds(start), unix_seconds(end)
        held = EXACT.subtract(EXACT.multiply(finish, core.delta), core.delta_seconds)
        average = held / (finish - begin)
        return average if carried is None else carried.delta + average

    def carry(self, core: WeightedCore, carried: WeightedCore | None) -> WeightedCore:
        """The level at the end of the period; when it was reached no longer matters."""
        level = core.delta if carried is None else EXACT.add(carried.delta, core.delta)
        return WeightedCore(level, Decimal(0))

    def dump(self, core: WeightedCore) -> JSON:
        return [str(core.delta), str(core.delta_seconds)]

    def load(self, data: JSON) -> WeightedCore:
        delta, delta_seconds = load_list(data)
        return WeightedCore(load_decimal(delta), load_decimal(delta_seconds))
