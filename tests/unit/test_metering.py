"""Billable metrics: Lago's validation rules and how one event's value is read."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from releve.domain.errors import DomainError
from releve.domain.filters import MetricFilter
from releve.domain.metering import (
    AggregationType,
    BillableMetric,
    Operation,
    RoundingFunction,
    event_operation,
    event_text,
    event_value,
)
from releve.domain.quantities import canonical, unix_seconds
from releve.domain.usage import Event, PropertyValue

A = AggregationType


def _event(**properties: PropertyValue) -> Event:
    return Event("tx_1", "m", "sub_1", datetime(2024, 5, 1, tzinfo=UTC), properties)


def _lago(**fields: Any) -> dict[str, Any]:
    return {"name": "Storage", "code": "storage", **fields}


def test_from_lago_reads_every_field() -> None:
    metric = BillableMetric.from_lago(
        _lago(
            aggregation_type="sum_agg",
            field_name="gb",
            recurring=True,
            expression="gb * 2",
            rounding_function="ceil",
            rounding_precision=-1,
            filters=[{"key": "region", "values": ["eu", "us"]}],
        )
    )
    assert metric == BillableMetric(
        code="storage",
        name="Storage",
        aggregation_type=A.SUM,
        field_name="gb",
        recurring=True,
        expression="gb * 2",
        rounding_function=RoundingFunction.CEIL,
        rounding_precision=-1,
        filters=(MetricFilter("region", ("eu", "us")),),
    )
    assert metric.compiled_expression is not None


def test_from_lago_defaults_and_lago_leniencies() -> None:
    count = BillableMetric.from_lago(_lago(aggregation_type="count_agg", field_name="ignored"))
    assert count.field_name is None  # Lago drops field_name for count_agg
    assert count.recurring is False
    weighted = BillableMetric.from_lago(_lago(aggregation_type="weighted_sum_agg", field_name="gb"))
    assert weighted.weighted_interval == "seconds"
    assert (
        BillableMetric.from_lago(
            _lago(aggregation_type="sum_agg", field_name="gb", expression="")
        ).expression
        is None
    )
    p95 = BillableMetric.from_lago(
        _lago(aggregation_type="percentile_agg", field_name="ms", percentile="95")
    )
    assert p95.percentile == Decimal(95)


@pytest.mark.parametrize(
    ("fields", "code", "field"),
    [
        ({"name": "S", "aggregation_type": "count_agg"}, "value_is_mandatory", "code"),
        ({"code": "s", "aggregation_type": "count_agg"}, "value_is_mandatory", "name"),
        (_lago(), "value_is_mandatory", "aggregation_type"),
        (_lago(aggregation_type="median_agg"), "value_is_invalid", "aggregation_type"),
        (_lago(aggregation_type="custom_agg"), "value_is_invalid", "aggregation_type"),
        (_lago(aggregation_type="sum_agg"), "value_is_mandatory", "field_name"),
        (_lago(aggregation_type="sum_agg", field_name=""), "value_is_mandatory", "field_name"),
        (_lago(aggregation_type="sum_agg", field_name=3), "value_is_invalid", "field_name"),
        (_lago(aggregation_type="count_agg", recurring=True), "value_is_invalid", "recurring"),
        (
            _lago(aggregation_type="max_agg", field_name="x", recurring=True),
            "value_is_invalid",
            "recurring",
        ),
        (
            _lago(aggregation_type="latest_agg", field_name="x", recurring=True),
            "value_is_invalid",
            "recurring",
        ),
        (
            _lago(aggregation_type="percentile_agg", field_name="x", percentile=95, recurring=True),
            "value_is_invalid",
            "recurring",
        ),
        (
            _lago(aggregation_type="increase_agg", field_name="x", recurring=True),
            "value_is_invalid",
            "recurring",
        ),
        (
            _lago(aggregation_type="sum_agg", field_name="x", recurring="yes"),
            "value_is_invalid",
            "recurring",
        ),
        (
            _lago(aggregation_type="percentile_agg", field_name="x"),
            "value_is_mandatory",
            "percentile",
        ),
        (
            _lago(aggregation_type="percentile_agg", field_name="x", percentile=0),
            "value_is_invalid",
            "percentile",
        ),
        (
            _lago(aggregation_type="percentile_agg", field_name="x", percentile="100.01"),
            "value_is_invalid",
            "percentile",
        ),
        (
            _lago(aggregation_type="percentile_agg", field_name="x", percentile=0.5),
            "value_is_invalid",  # a float never becomes a Decimal
            "percentile",
        ),
        (
            _lago(aggregation_type="sum_agg", field_name="x", percentile=50),
            "value_is_invalid",
            "percentile",
        ),
        (
            _lago(aggregation_type="weighted_sum_agg", field_name="x", weighted_interval="hours"),
            "value_is_invalid",
            "weighted_interval",
        ),
        (
            _lago(aggregation_type="sum_agg", field_name="x", weighted_interval="seconds"),
            "value_is_invalid",
            "weighted_interval",
        ),
        (
            _lago(aggregation_type="sum_agg", field_name="x", rounding_function="truncate"),
            "value_is_invalid",
            "rounding_function",
        ),
        (
            _lago(
                aggregation_type="sum_agg",
                field_name="x",
                rounding_function="round",
                rounding_precision="2",
            ),
            "value_is_invalid",
            "rounding_precision",
        ),
        (
            _lago(aggregation_type="sum_agg", field_name="x", rounding_precision=2),
            "value_is_invalid",
            "rounding_precision",
        ),
        (
            _lago(aggregation_type="sum_agg", field_name="x", expression="1 +"),
            "invalid_expression",
            "expression",
        ),
        (
            _lago(aggregation_type="sum_agg", field_name="x", expression="__import__('os')"),
            "invalid_expression",
            "expression",
        ),
        (
            _lago(aggregation_type="sum_agg", field_name="x", filters={"a": 1}),
            "value_is_invalid",
            "filters",
        ),
        (
            _lago(
                aggregation_type="sum_agg", field_name="x", filters=[{"key": "a", "values": [1]}]
            ),
            "value_is_invalid",
            "filters",
        ),
        (
            _lago(
                aggregation_type="sum_agg",
                field_name="x",
                filters=[{"key": "a", "values": ["1"]}, {"key": "a", "values": ["2"]}],
            ),
            "value_is_invalid",
            "filters",
        ),
    ],
)
def test_from_lago_rejects_with_lago_codes(fields: dict[str, Any], code: str, field: str) -> None:
    with pytest.raises(DomainError) as err:
        BillableMetric.from_lago(fields)
    assert (err.value.code, err.value.field) == (code, field)


@pytest.mark.parametrize(
    ("kind", "recurring_allowed"),
    [
        (A.COUNT, False),
        (A.SUM, True),
        (A.MAX, False),
        (A.UNIQUE_COUNT, True),
        (A.LATEST, False),
        (A.WEIGHTED_SUM, True),
        (A.PERCENTILE, False),
        (A.INCREASE, False),
    ],
)
def test_recurring_table(kind: AggregationType, recurring_allowed: bool) -> None:
    fields: dict[str, Any] = {"aggregation_type": kind.value, "recurring": True}
    if kind is not A.COUNT:
        fields["field_name"] = "x"
    if kind is A.PERCENTILE:
        fields["percentile"] = 50
    if recurring_allowed:
        assert BillableMetric.from_lago(_lago(**fields)).recurring is True
    else:
        with pytest.raises(DomainError):
            BillableMetric.from_lago(_lago(**fields))


def test_constructor_validates_too() -> None:
    with pytest.raises(DomainError) as err:
        BillableMetric("c", "n", A.COUNT, field_name="x")
    assert err.value.field == "field_name"
    with pytest.raises(DomainError) as err:
        BillableMetric("", "n", A.COUNT)
    assert err.value.code == "value_is_mandatory"


@pytest.mark.parametrize(
    ("function", "precision", "units", "expected"),
    [
        (None, None, "1.2345", "1.2345"),  # no rounding set: unchanged
        (RoundingFunction.ROUND, None, "2.5", "3"),  # precision defaults to 0
        (RoundingFunction.ROUND, 2, "1.005", "1.01"),  # half-up
        (RoundingFunction.ROUND, 2, "1.0049", "1.00"),
        (RoundingFunction.ROUND, -2, "1250", "1300"),  # 12.5 hundreds → 13 hundreds
        (RoundingFunction.ROUND, -2, "1249.99", "1200"),
        (RoundingFunction.CEIL, 0, "0.0001", "1"),
        (RoundingFunction.CEIL, -3, "1", "1000"),
        (RoundingFunction.FLOOR, 1, "9.99", "9.9"),
        (RoundingFunction.FLOOR, 0, "-0.5", "-1"),
    ],
)
def test_round_units(
    function: RoundingFunction | None, precision: int | None, units: str, expected: str
) -> None:
    metric = BillableMetric(
        "m", "M", A.SUM, "x", rounding_function=function, rounding_precision=precision
    )
    rounded = metric.round_units(Decimal(units))
    assert rounded == Decimal(expected)
    assert str(rounded) == expected  # no "1.3E+3" leaking to invoices


SUM = BillableMetric("m", "M", A.SUM, "gb")


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (Decimal("1.5"), Decimal("1.5")),
        (3, Decimal(3)),
        ("2.25", Decimal("2.25")),
        (" 7 ", Decimal(7)),
        ("-4", Decimal(-4)),
        ("1e3", Decimal(1000)),
    ],
)
def test_event_value_reads_numbers_and_numeric_texts(raw: PropertyValue, expected: Decimal) -> None:
    assert event_value(SUM, _event(gb=raw)) == expected


@pytest.mark.parametrize(
    ("properties", "code"),
    [
        ({}, "missing_aggregation_property"),
        ({"gb": None}, "missing_aggregation_property"),
        ({"gb": "ten"}, "invalid_value"),
        ({"gb": "NaN"}, "invalid_value"),
        ({"gb": "Infinity"}, "invalid_value"),
        ({"gb": "1_000"}, "invalid_value"),
        ({"gb": True}, "invalid_value"),
        ({"gb": ""}, "invalid_value"),
    ],
)
def test_event_value_errors_name_the_property(
    properties: dict[str, PropertyValue], code: str
) -> None:
    with pytest.raises(DomainError) as err:
        event_value(SUM, _event(**properties))
    assert (err.value.code, err.value.field) == (code, "properties.gb")


def test_event_value_refuses_a_float() -> None:
    with pytest.raises(DomainError):
        event_value(SUM, _event(gb=0.1))  # type: ignore[arg-type]


def test_expression_replaces_the_field() -> None:
    metric = BillableMetric(
        "m", "M", A.SUM, "minutes", expression="ceil(event.properties.seconds / 60)"
    )
    assert event_value(metric, _event(seconds=Decimal(61))) == Decimal(2)  # 61 s → 2 minutes


def test_event_text_for_unique_counts() -> None:
    metric = BillableMetric("m", "M", A.UNIQUE_COUNT, "user")
    assert event_text(metric, _event(user="id_1")) == "id_1"
    assert event_text(metric, _event(user=Decimal(1))) == "1"
    assert event_text(metric, _event(user=False)) == "false"
    with pytest.raises(DomainError) as err:
        event_text(metric, _event())
    assert err.value.code == "missing_aggregation_property"


@pytest.mark.parametrize(
    ("raw", "expected"),
    [(None, Operation.ADD), ("add", Operation.ADD), ("remove", Operation.REMOVE)],
)
def test_operation_type(raw: PropertyValue, expected: Operation) -> None:
    properties = {} if raw is None else {"operation_type": raw}
    assert event_operation(_event(**properties)) is expected


@pytest.mark.parametrize("raw", ["delete", "ADD", Decimal(1), True])
def test_operation_type_rejects_other_values(raw: PropertyValue) -> None:
    with pytest.raises(DomainError) as err:
        event_operation(_event(operation_type=raw))
    assert err.value.field == "properties.operation_type"


@pytest.mark.parametrize(
    ("value", "expected"),
    [("2.50", "2.5"), ("1E+2", "100"), ("100.000", "100"), ("-0.0100", "-0.01"), ("0.00", "0")],
)
def test_canonical_drops_trailing_zeros_exactly(value: str, expected: str) -> None:
    assert str(canonical(Decimal(value))) == expected


@pytest.mark.parametrize(
    ("moment", "expected"),
    [
        (datetime(1970, 1, 1, tzinfo=UTC), "0"),
        (datetime(2022, 4, 29, 14, 39, 51, 123000, tzinfo=UTC), "1651243191.123"),
        # same instant written in UTC+02:00
        (
            datetime(2022, 4, 29, 16, 39, 51, 123000, tzinfo=ZoneInfo("Europe/Paris")),
            "1651243191.123",
        ),
        (datetime(1969, 12, 31, 23, 59, 59, 500000, tzinfo=UTC), "-0.5"),
    ],
)
def test_unix_seconds_is_exact(moment: datetime, expected: str) -> None:
    assert unix_seconds(moment) == Decimal(expected)


def test_unix_seconds_refuses_naive_datetimes() -> None:
    with pytest.raises(ValueError):
        unix_seconds(datetime(2024, 1, 1))
