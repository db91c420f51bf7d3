"""Billable metrics (lago-api.md §1.3, §2): what is measured, and how one event is read.

A `BillableMetric` is valid by construction: its constructor checks Lago's rules and raises
`DomainError` with Lago's codes (`value_is_mandatory`, `value_is_invalid`,
`invalid_expression`) naming the offending field. `BillableMetric.from_lago` reads the JSON
fields of `POST /billable_metrics`. Aggregating events lives in `releve.domain.aggregations`.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal

from releve.domain.errors import DomainError
from releve.domain.expressions import Expression, compile_expression
from releve.domain.filters import MetricFilter
from releve.domain.quantities import RoundingFunction, property_text, round_to, to_decimal
from releve.domain.usage import Event

__all__ = [
    "AggregationType",
    "BillableMetric",
    "MetricFilter",
    "Operation",
    "RoundingFunction",
    "event_operation",
    "event_text",
    "event_value",
]


class AggregationType(enum.Enum):
    COUNT = "count_agg"
    SUM = "sum_agg"
    MAX = "max_agg"
    UNIQUE_COUNT = "unique_count_agg"
    LATEST = "latest_agg"
    WEIGHTED_SUM = "weighted_sum_agg"
    # Extensions (not in Lago): the p-th percentile of event values, and the consumption of a
    # cumulative meter (readings that only go up, except on a reset).
    PERCENTILE = "percentile_agg"
    INCREASE = "increase_agg"


# Lago's `validate_recurring`, extended: a percentile or a maximum of last period says nothing
# about this one, and an increase meter already carries its last reading (see aggregations).
_NEVER_RECURRING = frozenset(
    {
        AggregationType.COUNT,
        AggregationType.MAX,
        AggregationType.LATEST,
        AggregationType.PERCENTILE,
        AggregationType.INCREASE,
    }
)


class Operation(enum.Enum):
    """`properties.operation_type` of a unique-count event (seats): add (default) or remove."""

    ADD = "add"
    REMOVE = "remove"


def _invalid(message: str, field_name: str) -> DomainError:
    return DomainError(message, field=field_name, code="value_is_invalid")


def _mandatory(field_name: str) -> DomainError:
    return DomainError(f"{field_name} is mandatory", field=field_name, code="value_is_mandatory")


@dataclass(frozen=True, slots=True)
class BillableMetric:
    """A billable metric as Lago defines it, plus `percentile` for our `percentile_agg`.

    - `field_name`: the event property aggregated (None for count_agg).
    - `expression`: when set, computes each event's value instead of reading `field_name`.
    - `rounding_function` / `rounding_precision`: applied once to the aggregated units of a
      bucket, before pricing (precision may be negative: round(1250, -2) = 1300).
    - `weighted_interval`: "seconds" for weighted_sum_agg (Lago's only option), else None.
    - `percentile`: 0 < p ≤ 100, only for percentile_agg.
    """

    code: str
    name: str
    aggregation_type: AggregationType
    field_name: str | None = None
    recurring: bool = False
    expression: str | None = None
    rounding_function: RoundingFunction | None = None
    rounding_precision: int | None = None
    weighted_interval: str | None = None
    filters: tuple[MetricFilter, ...] = ()
    percentile: Decimal | None = None
    compiled_expression: Expression | None = field(
        default=None, init=False, repr=False, compare=False
    )

    def __post_init__(self) -> None:
        if not self.code:
            raise _mandatory("code")
        if not self.name:
            raise _mandatory("name")
        kind = self.aggregation_type
        if kind is AggregationType.COUNT:
            if self.field_name is not None:
                raise _invalid("count_agg counts events and takes no field_name", "field_name")
        elif not self.field_name:
            raise _mandatory("field_name")
        if self.recurring and kind in _NEVER_RECURRING:
            raise _invalid(f"{kind.value} cannot be recurring", "recurring")
        if kind is AggregationType.WEIGHTED_SUM:
            if self.weighted_interval != "seconds":
                raise _invalid('weighted_interval must be "seconds"', "weighted_interval")
        elif self.weighted_interval is not None:
            raise _invalid("weighted_interval is only for weighted_sum_agg", "weighted_interval")
        if kind is AggregationType.PERCENTILE:
            if self.percentile is None:
                raise _mandatory("percentile")
            if not Decimal(0) < self.percentile <= Decimal(100):
                raise _invalid("percentile must be in (0, 100]", "percentile")
        elif self.percentile is not None:
            raise _invalid("percentile is only for percentile_agg", "percentile")
        if self.rounding_precision is not None and (
            self.rounding_function is None
            or isinstance(self.rounding_precision, bool)
            or not isinstance(self.rounding_precision, int)
        ):
            raise _invalid(
                "rounding_precision is a whole number used with rounding_function",
                "rounding_precision",
            )
        keys = [f.key for f in self.filters]
        if len(set(keys)) != len(keys):
            raise _invalid("a filter key is declared twice", "filters")
        if self.expression is not None:
            object.__setattr__(self, "compiled_expression", compile_expression(self.expression))

    @classmethod
    def from_lago(cls, payload: Mapping[str, object]) -> BillableMetric:
        """Build from the fields of Lago's `billable_metric` JSON object (already decoded).

        Like Lago, `field_name` sent with count_agg is dropped, and an empty expression means
        none. Numbers must arrive as JSON integers or numeric strings, never floats.
        """
        code, name = payload.get("code"), payload.get("name")
        if not isinstance(code, str) or not code:
            raise _mandatory("code")
        if not isinstance(name, str) or not name:
            raise _mandatory("name")
        raw_type = payload.get("aggregation_type")
        if raw_type is None:
            raise _mandatory("aggregation_type")
        try:
            kind = AggregationType(raw_type)
        except ValueError:
            raise _invalid(f"unknown aggregation_type {raw_type!r}", "aggregation_type") from None
        field_name = payload.get("field_name")
        if kind is AggregationType.COUNT:
            field_name = None
        elif field_name is not None and not isinstance(field_name, str):
            raise _invalid("field_name must be a text", "field_name")
        recurring = payload.get("recurring", False)
        if recurring is None:
            recurring = False
        if not isinstance(recurring, bool):
            raise _invalid("recurring must be true or false", "recurring")
        expression = payload.get("expression")
        if expression is not None and not isinstance(expression, str):
            raise _invalid("expression must be a text", "expression")
        rounding_function = None
        raw_rounding = payload.get("rounding_function")
        if raw_rounding is not None:
            try:
                rounding_function = RoundingFunction(raw_rounding)
            except ValueError:
                raise _invalid(
                    f"unknown rounding_function {raw_rounding!r}", "rounding_function"
                ) from None
        precision = payload.get("rounding_precision")
        if precision is not None and (
            isinstance(precision, bool) or not isinstance(precision, int)
        ):
            raise _invalid("rounding_precision must be a whole number", "rounding_precision")
        weighted_interval = payload.get("weighted_interval")
        if kind is AggregationType.WEIGHTED_SUM and weighted_interval is None:
            weighted_interval = "seconds"
        percentile = payload.get("percentile")
        return cls(
            code=code,
            name=name,
            aggregation_type=kind,
            field_name=field_name,
            recurring=recurring,
            expression=expression or None,
            rounding_function=rounding_function,
            rounding_precision=precision,
            weighted_interval=weighted_interval if isinstance(weighted_interval, str) else None,
            filters=_parse_filters(payload.get("filters")),
            percentile=None if percentile is None else _percentile(percentile),
        )

    def round_units(self, units: Decimal) -> Decimal:
        """Apply the metric's rounding to aggregated units (unchanged when none is set)."""
        if self.rounding_function is None:
            return units
        return round_to(units, self.rounding_function, self.rounding_precision or 0)


def _percentile(raw: object) -> Decimal:
    try:
        return to_decimal(raw, field="percentile")
    except DomainError:
        raise _invalid(f"percentile must be a number, got {raw!r}", "percentile") from None


def _parse_filters(raw: object) -> tuple[MetricFilter, ...]:
    if raw is None:
        return ()
    if not isinstance(raw, list):
        raise _invalid("filters must be a list of {key, values}", "filters")
    parsed = []
    for item in raw:
        if not isinstance(item, Mapping):
            raise _invalid("filters must be a list of {key, values}", "filters")
        key, values = item.get("key"), item.get("values")
        if not isinstance(key, str) or not isinstance(values, list):
            raise _invalid("each filter needs a key and a list of values", "filters")
        if any(not isinstance(v, str) for v in values):
            raise _invalid(f"filter {key!r} values must be texts", "filters")
        parsed.append(MetricFilter(key, tuple(values)))
    return tuple(parsed)


def event_value(metric: BillableMetric, event: Event) -> Decimal:
    """The numeric value `event` contributes to `metric` (sum, max, latest, weighted…).

    From the metric's expression when set, else from `properties[field_name]`. A missing or
    null property raises `missing_aggregation_property`; a non-number raises `invalid_value`;
    both name the property as `properties.<field_name>`.
    """
    if metric.compiled_expression is not None:
        return metric.compiled_expression.evaluate_number(event)
    name = _field(metric)
    raw = event.properties.get(name)
    if raw is None:
        raise _missing(event, name)
    return to_decimal(raw, field=f"properties.{name}")


def event_text(metric: BillableMetric, event: Event) -> str:
    """The text value `event` contributes to a unique count (e.g. a seat id).

    Texts are compared as written, as Lago compares `properties->>'field'`: 1 and "1" are
    the same value, "1.0" is another.
    """
    if metric.compiled_expression is not None:
        return str(metric.compiled_expression.evaluate(event))
    name = _field(metric)
    text = property_text(event.properties.get(name))
    if text is None:
        raise _missing(event, name)
    return text


def event_operation(event: Event) -> Operation:
    """`properties.operation_type`: "add" when absent; anything but add/remove is invalid."""
    raw = event.properties.get("operation_type")
    if raw is None:
        return Operation.ADD
    if isinstance(raw, str):
        try:
            return Operation(raw)
        except ValueError:
            pass
    raise DomainError(
        f"operation_type must be 'add' or 'remove', got {raw!r}",
        field="properties.operation_type",
    )


def _field(metric: BillableMetric) -> str:
    if metric.field_name is None:
        raise ValueError(f"{metric.aggregation_type.value} metrics have no event value")
    return metric.field_name


def _missing(event: Event, name: str) -> DomainError:
    return DomainError(
        f"event {event.transaction_id} has no property {name!r}",
        field=f"properties.{name}",
        code="missing_aggregation_property",
    )
