"""Invariants of every aggregation: order-free, mergeable under any split, exactly persistable.

The usage store relies on these: it aggregates per hour, merges hours in whatever order it
reads them, persists states as JSON, and adds late events to old buckets. Timestamps are drawn
from a handful of instants so that ties (broken by transaction_id) are common.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from releve.domain.aggregations import aggregate, aggregator_for, state_of
from releve.domain.metering import AggregationType, BillableMetric, RoundingFunction
from releve.domain.usage import Event

A = AggregationType
START = datetime(2024, 4, 1, tzinfo=UTC)
END = datetime(2024, 5, 1, tzinfo=UTC)

METRICS = [
    BillableMetric("count", "C", A.COUNT),
    BillableMetric("sum", "S", A.SUM, "v"),
    BillableMetric("sum_r", "S", A.SUM, "v", recurring=True),
    BillableMetric("max", "M", A.MAX, "v"),
    BillableMetric("latest", "L", A.LATEST, "v"),
    BillableMetric("unique", "U", A.UNIQUE_COUNT, "v"),
    BillableMetric("seats", "U", A.UNIQUE_COUNT, "v", recurring=True),
    BillableMetric("weighted", "W", A.WEIGHTED_SUM, "v", weighted_interval="seconds"),
    BillableMetric(
        "weighted_r", "W", A.WEIGHTED_SUM, "v", recurring=True, weighted_interval="seconds"
    ),
    BillableMetric("p95", "P", A.PERCENTILE, "v", percentile=Decimal(95)),
    BillableMetric("p50", "P", A.PERCENTILE, "v", percentile=Decimal("50")),
    BillableMetric("meter", "I", A.INCREASE, "v"),
    BillableMetric(
        "rounded", "R", A.SUM, "v", rounding_function=RoundingFunction.CEIL, rounding_precision=-1
    ),
]
IDS = [m.code for m in METRICS]

# A few instants, with microseconds, so that equal timestamps happen often.
_instants = st.sampled_from(
    [START + timedelta(days=d, microseconds=u) for d in (0, 3, 15) for u in (0, 7)]
)
_amounts = st.decimals(min_value=0, max_value=1000, places=2)
# Values in thousandths, often equal, written with 0–2 extra trailing zeros: 2.5 may arrive
# as "2.500" too, and states must not depend on which spelling came first.
_signed = st.builds(
    lambda thousandths, zeros: Decimal(thousandths * 10**zeros).scaleb(-3 - zeros),
    st.one_of(st.integers(-8, 8).map(lambda n: n * 500), st.integers(-(10**6), 10**6)),
    st.integers(0, 2),
)


@st.composite
def _events(draw: st.DrawFn, metric: BillableMetric, at: Any = _instants) -> list[Event]:
    kind = metric.aggregation_type
    count = draw(st.integers(min_value=0, max_value=12))
    events = []
    for i in range(count):
        properties: dict[str, Any] = {}
        if kind is A.UNIQUE_COUNT:
            properties["v"] = draw(st.sampled_from(["a", "b", "c", "d"]))
            properties["operation_type"] = draw(st.sampled_from(["add", "add", "remove"]))
        elif kind is A.INCREASE:
            properties["v"] = draw(_amounts)
        elif kind is not A.COUNT:
            properties["v"] = draw(_signed)
        cents = draw(st.none() | _amounts)
        # unique transaction ids (deduplicated at ingestion), drawn in an order unrelated to time
        tx = f"tx_{draw(st.integers(0, 99)):02d}_{i}"
        events.append(Event(tx, metric.code, "sub_1", draw(at), properties, cents))
    return events


@st.composite
def _case(draw: st.DrawFn) -> tuple[BillableMetric, list[Event], Any]:
    metric = draw(st.sampled_from(METRICS))
    events = draw(_events(metric))
    aggregator = aggregator_for(metric)
    carried = None
    if aggregator.uses_carried and draw(st.booleans()):
        before = st.sampled_from([START - timedelta(days=d) for d in (1, 2)])
        carried = aggregator.carry_over(state_of(metric, draw(_events(metric, before))))
    return metric, events, carried


@settings(max_examples=300, deadline=None)
@given(case=_case(), data=st.data())
def test_result_and_state_do_not_depend_on_event_order(case: Any, data: st.DataObject) -> None:
    metric, events, carried = case
    shuffled = data.draw(st.permutations(events))
    aggregator = aggregator_for(metric)
    assert aggregate(metric, shuffled, START, END, carried=carried) == aggregate(
        metric, events, START, END, carried=carried
    )
    # the persisted form too: equal numbers must not be written differently ("2.5" vs "2.50")
    assert aggregator.dump_state(state_of(metric, shuffled)) == aggregator.dump_state(
        state_of(metric, events)
    )


@settings(max_examples=300, deadline=None)
@given(case=_case(), data=st.data())
def test_merging_any_split_equals_aggregating_everything(case: Any, data: st.DataObject) -> None:
    metric, events, carried = case
    aggregator = aggregator_for(metric)
    # three parts, any of them possibly empty, events interleaved in time across parts
    parts_of = data.draw(st.lists(st.integers(0, 2), min_size=len(events), max_size=len(events)))
    parts = [[e for e, p in zip(events, parts_of, strict=True) if p == k] for k in range(3)]
    a, b, c = (state_of(metric, part) for part in parts)
    whole = state_of(metric, events)

    left = aggregator.merge(aggregator.merge(a, b), c)
    right = aggregator.merge(c, aggregator.merge(b, a))  # other grouping and order
    for merged in (left, right):
        assert merged == whole
        assert aggregator.dump_state(merged) == aggregator.dump_state(whole)
        assert aggregator.result(merged, START, END, carried) == aggregator.result(
            whole, START, END, carried
        )
    assert aggregator.merge(aggregator.init(), whole) == whole  # init() is the identity
    # carrying over a merged state is carrying over everything
    assert aggregator.carry_over(left, carried) == aggregator.carry_over(whole, carried)


@settings(max_examples=300, deadline=None)
@given(case=_case())
def test_dump_and_load_round_trip_exactly(case: Any) -> None:
    metric, events, carried = case
    aggregator = aggregator_for(metric)
    for state in (state_of(metric, events), carried or aggregator.init()):
        dumped = aggregator.dump_state(state)
        # plain JSON: survives a trip through text, and Decimals are strings, never floats
        reloaded = aggregator.load_state(json.loads(json.dumps(dumped)))
        assert reloaded == state
        assert aggregator.dump_state(reloaded) == dumped
        assert aggregator.result(reloaded, START, END, carried) == aggregator.result(
            state, START, END, carried
        )


@pytest.mark.parametrize("metric", METRICS, ids=IDS)
def test_every_metric_is_covered_by_the_properties(metric: BillableMetric) -> None:
    # guards the list above: each aggregation type appears at least once
    assert {m.aggregation_type for m in METRICS} == set(AggregationType)
    assert aggregator_for(metric).init() == aggregator_for(metric).init()
