"""Aggregations: hand-computed units per type, recurring carry-over, state persistence."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest

from releve.domain.aggregations import aggregate, aggregator_for, event_values, state_of
from releve.domain.errors import DomainError
from releve.domain.metering import AggregationType, BillableMetric, RoundingFunction
from releve.domain.usage import Event, PropertyValue, UsageFacts

A = AggregationType
D = Decimal
START = datetime(2024, 4, 1, tzinfo=UTC)  # April: a 30-day month
END = datetime(2024, 5, 1, tzinfo=UTC)
DAY = timedelta(days=1)


def _metric(kind: AggregationType, **fields: Any) -> BillableMetric:
    if kind is not A.COUNT:
        fields.setdefault("field_name", "v")
    if kind is A.WEIGHTED_SUM:
        fields.setdefault("weighted_interval", "seconds")
    if kind is A.PERCENTILE:
        fields.setdefault("percentile", D(95))
    return BillableMetric("m", "M", kind, **fields)


def _ev(tx: str, at: datetime, value: PropertyValue = None, **props: PropertyValue) -> Event:
    properties = dict(props)
    if value is not None:
        properties["v"] = value
    return Event(tx, "m", "sub_1", at, properties)


def _series(*values: PropertyValue) -> list[Event]:
    """One event per hour from the period start, in the given order."""
    return [_ev(f"tx_{i}", START + timedelta(hours=i), v) for i, v in enumerate(values)]


def _units(metric: BillableMetric, events: list[Event], **kwargs: Any) -> Decimal:
    return aggregate(metric, events, START, END, **kwargs).units


# --- Lago's documentation examples -----------------------------------------------------------


@pytest.mark.parametrize(
    ("kind", "values", "expected"),
    [
        (A.COUNT, ["a", "b"], D(2)),  # 2 events → 2
        (A.SUM, [D(20), D(10)], D(30)),  # 20 + 10
        (A.MAX, [D(10), D(20)], D(20)),  # max(10, 20)
        (A.UNIQUE_COUNT, ["id_1", "id_1"], D(1)),  # id_1, id_1 → 1
        (A.LATEST, [D(5), D(7), D(6)], D(6)),  # 5, 7, 6 GB → the last one, 6
    ],
)
def test_lago_doc_examples(kind: AggregationType, values: list[PropertyValue], expected: D) -> None:
    assert _units(_metric(kind), _series(*values)) == expected


def test_lago_weighted_sum_example() -> None:
    # 30-day month, +10 GB on day 0, +10 GB on day 15: 10 × 15/30 + 20 × 15/30 = 15
    events = [_ev("a", START, D(10)), _ev("b", START + 15 * DAY, D(10))]
    assert _units(_metric(A.WEIGHTED_SUM), events) == D(15)


# --- per type, at the edges -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kind", "values", "expected"),
    [
        (A.COUNT, [], D(0)),
        (A.SUM, [], D(0)),
        (A.SUM, [D("0.1"), D("0.2")], D("0.3")),  # exact, no float drift
        (A.SUM, [D(5), D(-2)], D(3)),  # negative values are corrections
        (A.SUM, ["1.5", 2], D("3.5")),  # numeric texts and ints
        (A.MAX, [], D(0)),
        (A.MAX, [D(-3), D(-1)], D(-1)),
        (A.MAX, [D("2.50"), D("2.5")], D("2.5")),
        (A.UNIQUE_COUNT, [], D(0)),
        (A.UNIQUE_COUNT, ["a", "b", "a", "c"], D(3)),
        (A.UNIQUE_COUNT, [D(1), "1"], D(1)),  # 1 and "1" are the same text
        (A.UNIQUE_COUNT, [D(1), D("1.0")], D(2)),  # as Lago: "1" and "1.0" differ
        (A.LATEST, [], D(0)),
        (A.LATEST, [D(9)], D(9)),
    ],
)
def test_units_table(kind: AggregationType, values: list[PropertyValue], expected: D) -> None:
    assert _units(_metric(kind), _series(*values)) == expected


def test_latest_orders_by_timestamp_then_transaction_id() -> None:
    noon = START + DAY / 2
    events = [_ev("b", noon, D(2)), _ev("c", START, D(3)), _ev("a", noon, D(1))]
    # latest timestamp is noon, shared by "a" and "b": the greater transaction_id wins → 2
    assert _units(_metric(A.LATEST), events) == D(2)


def test_events_outside_the_half_open_period_are_ignored() -> None:
    events = [
        _ev("before", START - timedelta(microseconds=1), D(100)),
        _ev("first", START, D(1)),
        _ev("last", END - timedelta(microseconds=1), D(2)),
        _ev("at_end", END, D(1000)),
    ]
    facts = aggregate(_metric(A.SUM), events, START, END)
    assert facts.units == D(3)  # 1 + 2
    assert facts.events_count == 2


def test_facts_carry_count_amounts_and_event_values() -> None:
    events = [
        Event("b", "m", "s", START + 2 * DAY, {"v": D(5)}, D("70.5")),
        Event("a", "m", "s", START + DAY, {"v": D(7)}, D("55")),
        Event("c", "m", "s", START + 2 * DAY, {"v": D(10)}, None),
    ]
    facts = aggregate(_metric(A.SUM), events, START, END, with_event_values=True)
    # time order, ties by transaction_id: a (7), b (5), c (10); cents 70.5 + 55 = 125.5
    assert facts == UsageFacts(D(22), 3, (D(7), D(5), D(10)), D("125.5"))
    assert aggregate(_metric(A.SUM), events, START, END).event_values is None


def test_event_values_of_count_and_unique_count_weigh_one_per_event() -> None:
    events = _series("x", "y")
    events.append(_ev("z", START + DAY, "x", operation_type="remove"))
    assert event_values(_metric(A.COUNT), events) == (D(1), D(1), D(1))
    assert event_values(_metric(A.UNIQUE_COUNT), events) == (D(1), D(1), D(0))


@pytest.mark.parametrize(
    ("function", "precision", "expected"),
    [
        (RoundingFunction.ROUND, -2, D(1300)),  # 1250 → 1300 (half-up on hundreds)
        (RoundingFunction.FLOOR, -2, D(1200)),
        (RoundingFunction.CEIL, -3, D(2000)),
        (RoundingFunction.ROUND, 0, D(1250)),
    ],
)
def test_metric_rounding_applies_to_the_aggregated_units(
    function: RoundingFunction, precision: int, expected: D
) -> None:
    metric = _metric(A.SUM, rounding_function=function, rounding_precision=precision)
    # each event alone would round to 0 or 1000; the rule rounds the total 625 + 625 = 1250
    assert _units(metric, _series(D(625), D(625))) == expected


def test_expression_values_are_aggregated() -> None:
    metric = _metric(A.SUM, field_name="minutes", expression="ceil(seconds / 60)")
    events = [_ev(f"t{i}", START, seconds=D(s)) for i, s in enumerate([59, 60, 61])]
    assert _units(metric, events) == D(4)  # 1 + 1 + 2 started minutes


def test_unreadable_event_values_raise() -> None:
    with pytest.raises(DomainError) as err:
        aggregate(_metric(A.SUM), [_ev("t", START, other=D(1))], START, END)
    assert (err.value.code, err.value.field) == ("missing_aggregation_property", "properties.v")


# --- weighted sum -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("deltas", "expected"),
    [
        ([], D(0)),
        ([(0, D(30))], D(30)),  # held all month
        ([(10, D(30))], D(20)),  # 30 held 20 of 30 days
        ([(0, D(10)), (20, D(-10))], D("6.666666666666666666666666667")),  # 10 × 20/30
        ([(0, D(6)), (10, D(6)), (20, D(-12))], D(6)),  # 6×10 + 12×10 + 0×10 = 180; /30
    ],
)
def test_weighted_sum_table(deltas: list[tuple[int, D]], expected: D) -> None:
    events = [_ev(f"t{i}", START + day * DAY, d) for i, (day, d) in enumerate(deltas)]
    assert _units(_metric(A.WEIGHTED_SUM), events) == expected


def test_weighted_sum_recurring_starts_at_the_carried_level() -> None:
    metric = _metric(A.WEIGHTED_SUM, recurring=True)
    aggregator = aggregator_for(metric)
    march = [_ev("m1", START - 20 * DAY, D(4)), _ev("m2", START - DAY, D(6))]
    carried = aggregator.carry_over(state_of(metric, march))
    # level 10 from March; +20 on April 16 held 15 of 30 days: 10 + 20 × 15/30 = 20
    april = [_ev("a1", START + 15 * DAY, D(20))]
    assert _units(metric, april, carried=carried) == D(20)
    # May starts at level 30, whatever the timing in April
    may_carry = aggregator.carry_over(state_of(metric, april), carried)
    may = aggregator.result(aggregator.init(), END, END + 31 * DAY, may_carry)
    assert may.units == D(30)
    assert may.events_count == 0


# --- unique count with seats ------------------------------------------------------------------


def _seat(tx: str, day: int, seat: str, op: str = "add", hour: int = 0) -> Event:
    at = START + day * DAY + timedelta(hours=hour)
    return _ev(tx, at, seat, operation_type=op)


@pytest.mark.parametrize(
    ("events", "expected"),
    [
        ([_seat("1", 0, "ann"), _seat("2", 3, "bob")], D(2)),
        ([_seat("1", 0, "ann"), _seat("2", 20, "ann", "remove")], D(1)),  # used until the 21st
        ([_seat("1", 5, "ann", "remove")], D(0)),  # removing an unknown seat adds nothing
        ([_seat("1", 0, "ann"), _seat("2", 1, "ann", "remove"), _seat("3", 2, "ann")], D(1)),
    ],
)
def test_seats_in_one_period(events: list[Event], expected: D) -> None:
    assert _units(_metric(A.UNIQUE_COUNT, recurring=True), events) == expected


def test_seats_carried_from_earlier_periods() -> None:
    metric = _metric(A.UNIQUE_COUNT, recurring=True)
    aggregator = aggregator_for(metric)
    before = START - 10 * DAY
    march = [
        _ev("m1", before, "ann"),
        _ev("m2", before, "bob"),
        _ev("m3", before, "cid"),
        _ev("m4", before + DAY, "cid", operation_type="remove"),
    ]
    carried = aggregator.carry_over(state_of(metric, march))  # ann and bob are still seated
    april = [_seat("a1", 3, "bob", "remove"), _seat("a2", 4, "dan"), _seat("a3", 5, "ann")]
    # ann (carried) + bob (carried, removed on the 4th but used) + dan (added) = 3; cid is gone
    assert _units(metric, april, carried=carried) == D(3)
    may_carry = aggregator.carry_over(state_of(metric, april), carried)
    assert aggregator.result(aggregator.init(), END, END + DAY, may_carry).units == D(2)  # ann, dan


def test_seat_operations_order_by_timestamp_then_transaction_id() -> None:
    metric = _metric(A.UNIQUE_COUNT, recurring=True)
    aggregator = aggregator_for(metric)
    same_time = [_seat("b", 1, "ann", "remove"), _seat("a", 1, "ann", "add")]
    # at the same instant "b" > "a": the remove is the latest operation, so ann is not carried
    carry = aggregator.carry_over(state_of(metric, same_time))
    assert aggregator.result(aggregator.init(), END, END + DAY, carry).units == D(0)
    late_add_then_remove = [_seat("x", 2, "ann", "remove"), _seat("y", 1, "ann", "add")]
    # the add arrives second but happened first: the remove still wins
    carry = aggregator.carry_over(state_of(metric, late_add_then_remove))
    assert aggregator.result(aggregator.init(), END, END + DAY, carry).units == D(0)


def test_carried_state_is_refused_for_metered_metrics() -> None:
    metric = _metric(A.SUM)
    aggregator = aggregator_for(metric)
    with pytest.raises(ValueError):
        aggregator.result(aggregator.init(), START, END, aggregator.init())


# --- percentile -------------------------------------------------------------------------------

TWENTY = [D(v) for v in range(1, 21)]  # 1..20


@pytest.mark.parametrize(
    ("p", "values", "expected"),
    [
        ("95", TWENTY, D(19)),  # rank ⌈0.95 × 20⌉ = 19, exactly at rank → 19th value
        ("96", TWENTY, D(20)),  # ⌈19.2⌉ = 20
        ("94.9", TWENTY, D(19)),  # ⌈18.98⌉ = 19
        ("90", TWENTY, D(18)),  # ⌈18⌉ = 18
        ("50", TWENTY, D(10)),  # ⌈10⌉ = 10: the lower median, never interpolated
        ("50", [D(1), D(2), D(3)], D(2)),  # ⌈1.5⌉ = 2
        ("100", TWENTY, D(20)),  # the maximum
        ("0.001", TWENTY, D(1)),  # ⌈0.0002⌉ = 1: the minimum
        ("95", [D(7)], D(7)),
        ("95", [], D(0)),
        ("50", [D(5), D(1), D(5), D(5)], D(5)),  # sorted 1,5,5,5; rank 2 → 5
        ("25", [D(5), D(1), D(5), D(5)], D(1)),  # rank 1 → 1
        ("95", TWENTY[::-1], D(19)),  # input order is irrelevant
    ],
)
def test_percentile_nearest_rank(p: str, values: list[D], expected: D) -> None:
    metric = _metric(A.PERCENTILE, percentile=D(p))
    assert _units(metric, _series(*values)) == expected


# --- increase (cumulative meter readings) -----------------------------------------------------


@pytest.mark.parametrize(
    ("readings", "prior", "expected"),
    [
        ([], None, D(0)),
        ([D(100)], None, D(0)),  # first reading is the baseline
        ([D(100), D(130), D(180)], None, D(80)),  # 30 + 50
        ([D(100), D(130), D(180)], D(90), D(90)),  # 10 + 30 + 50
        ([D(100), D(100)], D(100), D(0)),  # no movement
        ([D(100), D(20), D(50)], None, D(50)),  # reset: 20 counts in full, then +30
        ([D(5)], D(999), D(5)),  # reset right at the period start
        ([D("10.5"), D("12.25")], D("10"), D("2.25")),  # 0.5 + 1.75
    ],
)
def test_increase_table(readings: list[D], prior: D | None, expected: D) -> None:
    metric = _metric(A.INCREASE)
    aggregator = aggregator_for(metric)
    carried = None
    if prior is not None:
        carried = aggregator.carry_over(state_of(metric, [_ev("p", START - DAY, prior)]))
    assert _units(metric, _series(*readings), carried=carried) == expected


def test_increase_orders_readings_by_time_not_arrival() -> None:
    events = _series(D(10), D(20), D(35))[::-1]  # arrive newest first
    assert _units(_metric(A.INCREASE), events) == D(25)  # 10 → 20 → 35


def test_increase_carries_only_the_last_reading() -> None:
    metric = _metric(A.INCREASE)
    aggregator = aggregator_for(metric)
    state = state_of(metric, _series(D(10), D(20), D(35)))
    assert aggregator.dump_state(aggregator.carry_over(state))["core"] == [
        [(START + timedelta(hours=2)).isoformat(), "tx_2", "35"]
    ]


def test_negative_meter_readings_are_refused() -> None:
    with pytest.raises(DomainError) as err:
        aggregate(_metric(A.INCREASE), _series(D(-1)), START, END)
    assert err.value.field == "properties.v"


# --- state persistence ------------------------------------------------------------------------


def test_dumped_states_are_plain_json_with_decimal_strings() -> None:
    metric = _metric(A.SUM)
    aggregator = aggregator_for(metric)
    events = [Event("t", "m", "s", START, {"v": D("0.1")}, D("12.5"))]
    assert aggregator.dump_state(state_of(metric, events)) == {
        "version": 1,
        "aggregation_type": "sum_agg",
        "events_count": 1,
        "total_amount_cents": "12.5",
        "core": "0.1",
    }


@pytest.mark.parametrize(
    "data",
    [
        None,
        {},
        {"version": 2, "aggregation_type": "sum_agg", "events_count": 0},
        {"version": 1, "aggregation_type": "max_agg", "events_count": 0, "core": None},
        {
            "version": 1,
            "aggregation_type": "sum_agg",
            "events_count": True,
            "total_amount_cents": "0",
            "core": "0",
        },
    ],
)
def test_load_state_refuses_foreign_data(data: Any) -> None:
    with pytest.raises(ValueError):
        aggregator_for(_metric(A.SUM)).load_state(data)


def test_period_must_be_aware_and_non_empty() -> None:
    with pytest.raises(ValueError):
        aggregate(_metric(A.SUM), [], START, START)
    with pytest.raises(ValueError):
        aggregate(_metric(A.SUM), [], START.replace(tzinfo=None), END)


def test_unique_count_states_load_exactly_and_refuse_malformed_entries() -> None:
    aggregator = aggregator_for(_metric(A.UNIQUE_COUNT))
    stored = {
        "version": 1,
        "aggregation_type": "unique_count_agg",
        "events_count": 3,
        "total_amount_cents": "0",
        "core": {
            "u1": ["2026-01-05T10:00:00+00:00", "t1", True, True],
            "u2": ["2026-01-05T12:30:00.250000+02:00", "t2", False, True],
            "u3": ["2026-01-06T00:00:00+00:00", "t3", False, False],
        },
    }
    state = aggregator.load_state(stored)
    assert state.core["u2"].timestamp == datetime(2026, 1, 5, 10, 30, 0, 250000, tzinfo=UTC)
    assert state.core["u2"].timestamp.tzinfo is UTC
    assert aggregator.result(state, START, END).units == D(2)
    again = aggregator.dump_state(state)
    assert aggregator.load_state(again) == state
    assert again["core"]["u2"] == ["2026-01-05T10:30:00.250000+00:00", "t2", False, True]
    for bad in (
        ["2026-01-05T10:00:00+00:00", "t1", True],
        ["2026-01-05T10:00:00", "t1", True, True],
        ["2026-01-05T10:00:00+00:00", 7, True, True],
        ["2026-01-05T10:00:00+00:00", "t1", 1, True],
        "2026-01-05T10:00:00+00:00",
        ["not a time", "t1", True, True],
    ):
        with pytest.raises(ValueError):
            aggregator.load_state({**stored, "core": {"u1": bad}})
