"""Incremental aggregation of events into usage facts, one family per aggregation type.

The usage store keeps one state per (subscription, charge bucket, hour) and merges states
when it reads a period, so every aggregation is written as

    init() → state;  add(state, event) → state;  merge(a, b) → state;
    result(state, start, end, carried) → UsageFacts

with `merge` associative and commutative (`init()` is its identity): the units never depend
on event order or on how events were split into states. States are immutable values, and
`dump_state` / `load_state` turn them into JSON-compatible plain data exactly (Decimals as
strings, timestamps as ISO 8601 in UTC) for the store to persist.

Recurring metrics (sum, unique_count, weighted_sum) and increase_agg also need the past:
the store keeps `carry_over(state of the previous period, its own carried state)` and passes
it as `carried` to the next period's `result`. For sum it holds the running total, for
unique_count the values still present, for weighted_sum the level reached, for increase_agg
the last meter reading. Other metrics reject a carried state (a caller bug, not user input).

Periods are half-open [start, end) with aware datetimes; a state must only hold events of
its period. Event values that cannot be read raise `DomainError`
(`missing_aggregation_property`, `invalid_value`, `invalid_expression`); the ingestion
service validates events with `releve.domain.metering.event_value` first and flags the ones
it cannot aggregate, so they are reported, never silently dropped.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from decimal import Decimal
from typing import Any, Generic

from releve.domain.aggregations._family import JSON, C, Family
from releve.domain.aggregations.basic import CountFamily, LatestFamily, MaxFamily, SumFamily
from releve.domain.aggregations.increase import IncreaseFamily
from releve.domain.aggregations.percentile import PercentileFamily
from releve.domain.aggregations.unique import UniqueCountFamily
from releve.domain.aggregations.weighted import WeightedSumFamily
from releve.domain.metering import (
    AggregationType,
    BillableMetric,
    Operation,
    event_operation,
    event_value,
)
from releve.domain.quantities import EXACT
from releve.domain.usage import Event, UsageFacts

__all__ = [
    "JSON",
    "AggregateState",
    "Aggregator",
    "aggregate",
    "aggregator_for",
    "event_values",
    "in_period",
    "state_of",
]

STATE_VERSION = 1

_FAMILIES: dict[AggregationType, type[Family[Any]]] = {
    AggregationType.COUNT: CountFamily,
    AggregationType.SUM: SumFamily,
    AggregationType.MAX: MaxFamily,
    AggregationType.LATEST: LatestFamily,
    AggregationType.UNIQUE_COUNT: UniqueCountFamily,
    AggregationType.WEIGHTED_SUM: WeightedSumFamily,
    AggregationType.PERCENTILE: PercentileFamily,
    AggregationType.INCREASE: IncreaseFamily,
}


@dataclass(frozen=True, slots=True)
class AggregateState(Generic[C]):
    """The aggregate of some events of one bucket.

    `events_count` and `total_amount_cents` (Σ precise_total_amount_cents, minor units,
    unrounded) are common to all types; `core` is the type's own state.
    """

    events_count: int
    total_amount_cents: Decimal
    core: C


class Aggregator(Generic[C]):
    """init/add/merge/result for one billable metric. Build it with `aggregator_for`."""

    def __init__(self, metric: BillableMetric, family: Family[C]) -> None:
        self.metric = metric
        self._family = family

    @property
    def uses_carried(self) -> bool:
        """Whether `result` takes a carried state: recurring metrics and increase_agg."""
        return self.metric.recurring or self.metric.aggregation_type is AggregationType.INCREASE

    def init(self) -> AggregateState[C]:
        return AggregateState(0, Decimal(0), self._family.init())

    def add(self, state: AggregateState[C], event: Event) -> AggregateState[C]:
        """Add one event of the bucket (raises `DomainError` when its value is unreadable)."""
        cents = event.precise_total_amount_cents
        return AggregateState(
            state.events_count + 1,
            state.total_amount_cents
            if cents is None
            else EXACT.add(state.total_amount_cents, cents),
            self._family.add(state.core, event),
        )

    def add_all(self, state: AggregateState[C], events: Iterable[Event]) -> AggregateState[C]:
        for event in events:
            state = self.add(state, event)
        return state

    def merge(self, a: AggregateState[C], b: AggregateState[C]) -> AggregateState[C]:
        return AggregateState(
            a.events_count + b.events_count,
            EXACT.add(a.total_amount_cents, b.total_amount_cents),
            self._family.merge(a.core, b.core),
        )

    def result(
        self,
        state: AggregateState[C],
        start: datetime,
        end: datetime,
        carried: AggregateState[C] | None = None,
    ) -> UsageFacts:
        """Usage facts of the period [start, end): units rounded by the metric's rounding.

        `events_count` and `total_amount_cents` count this period's events only.
        """
        _check_period(start, end)
        if carried is not None and not self.uses_carried:
            raise ValueError(f"{self.metric.code} is not recurring: nothing is carried over")
        if self.metric.aggregation_type is AggregationType.COUNT:
            units = Decimal(state.events_count)
        else:
            units = self._family.units(
                state.core, start, end, None if carried is None else carried.core
            )
        return UsageFacts(
            units=self.metric.round_units(units),
            events_count=state.events_count,
            total_amount_cents=state.total_amount_cents,
        )

    def carry_over(
        self, state: AggregateState[C], carried: AggregateState[C] | None = None
    ) -> AggregateState[C]:
        """The state to pass as `carried` to the next period, given this period's `state`
        and the state it was itself carried in with. Counts and amounts start again at 0."""
        return AggregateState(
            0, Decimal(0), self._family.carry(state.core, None if carried is None else carried.core)
        )

    def dump_state(self, state: AggregateState[C]) -> dict[str, JSON]:
        """JSON-compatible plain data; `load_state(dump_state(s)) == s` exactly."""
        return {
            "version": STATE_VERSION,
            "aggregation_type": self.metric.aggregation_type.value,
            "events_count": state.events_count,
            "total_amount_cents": str(state.total_amount_cents),
            "core": self._family.dump(state.core),
        }

    def load_state(self, data: JSON) -> AggregateState[C]:
        """Read a dumped state; raises ValueError if it is not one of this metric's type."""
        if not isinstance(data, dict) or data.get("version") != STATE_VERSION:
            raise ValueError(f"not an aggregate state (version {STATE_VERSION}): {data!r}")
        if data.get("aggregation_type") != self.metric.aggregation_type.value:
            raise ValueError(
                f"state of {data.get('aggregation_type')!r}, "
                f"expected {self.metric.aggregation_type.value!r}"
            )
        count, cents = data.get("events_count"), data.get("total_amount_cents")
        if isinstance(count, bool) or not isinstance(count, int) or not isinstance(cents, str):
            raise ValueError(f"bad aggregate state {data!r}")
        return AggregateState(count, Decimal(cents), self._family.load(data.get("core")))


def aggregator_for(metric: BillableMetric) -> Aggregator[Any]:
    """The aggregator of `metric`'s aggregation type, bound to its field/expression."""
    family: Family[Any] = _FAMILIES[metric.aggregation_type](metric)
    return Aggregator(metric, family)


def in_period(events: Iterable[Event], start: datetime, end: datetime) -> list[Event]:
    """The events with start ≤ timestamp < end."""
    _check_period(start, end)
    return [event for event in events if start <= event.timestamp < end]


def state_of(metric: BillableMetric, events: Iterable[Event]) -> AggregateState[Any]:
    """The state of `events` (all of them, whatever their time): init then add each."""
    aggregator = aggregator_for(metric)
    return aggregator.add_all(aggregator.init(), events)


def event_values(metric: BillableMetric, events: Iterable[Event]) -> tuple[Decimal, ...]:
    """Each event's value in time order (ties by transaction_id), for per-event pricing.

    count_agg and unique_count_agg events have no number: each weighs 1 (a unique-count
    "remove" weighs 0, it adds no usage). States do not carry these values, which would
    grow without bound; the store reads them from the raw events when a charge needs them.
    """
    ordered = sorted(events, key=lambda e: (e.timestamp, e.transaction_id))
    kind = metric.aggregation_type
    if kind is AggregationType.COUNT:
        return tuple(Decimal(1) for _ in ordered)
    if kind is AggregationType.UNIQUE_COUNT:
        return tuple(Decimal(1 if event_operation(e) is Operation.ADD else 0) for e in ordered)
    return tuple(event_value(metric, e) for e in ordered)


def aggregate(
    metric: BillableMetric,
    events: Iterable[Event],
    start: datetime,
    end: datetime,
    *,
    carried: AggregateState[Any] | None = None,
    with_event_values: bool = False,
) -> UsageFacts:
    """Usage facts of `events` falling in [start, end) — events outside are ignored.

    The one-shot form of init/add/result, for tests and simulations. `carried` is the
    `carry_over` state of the previous periods (recurring metrics and increase_agg).
    With `with_event_values`, `UsageFacts.event_values` lists each event's value in time order.

    Example, Lago's sum: values 20 and 10 in the period → units 30.
    """
    aggregator = aggregator_for(metric)
    selected: Sequence[Event] = in_period(events, start, end)
    facts = aggregator.result(aggregator.add_all(aggregator.init(), selected), start, end, carried)
    if with_event_values:
        facts = replace(facts, event_values=event_values(metric, selected))
    return facts


def _check_period(start: datetime, end: datetime) -> None:
    for moment in (start, end):
        if moment.tzinfo is None or moment.utcoffset() is None:
            raise ValueError("period bounds must be timezone-aware")
    if not start < end:
        raise ValueError(f"empty period: start {start} is not before end {end}")
