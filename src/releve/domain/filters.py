"""Which bucket an event belongs to: charge filters and pricing groups (lago-api.md §2).

A bucket is one (charge filter or the default, pricing group) pair of one charge; the usage
store aggregates per bucket and pricing prices per bucket, so both call `bucket_of` and can
never disagree about where an event went.

Property values are compared as text, the way Lago compares `properties->>'key'`: the number
``1`` matches the filter value ``"1"``; a JSON null or a missing key matches nothing.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from releve.domain.errors import DomainError
from releve.domain.quantities import property_text
from releve.domain.usage import Event

ALL_FILTER_VALUES = "__ALL_FILTER_VALUES__"
"""Lago's sentinel: the key must be present, with any value."""


@dataclass(frozen=True, slots=True)
class MetricFilter:
    """A filter dimension declared on a billable metric: a property key and its allowed values."""

    key: str
    values: tuple[str, ...]

    def __post_init__(self) -> None:
        if not self.key:
            raise DomainError("a metric filter needs a key", field="filters.key")
        if not self.values or any(not isinstance(v, str) or not v for v in self.values):
            raise DomainError(
                f"filter {self.key!r} needs a list of non-empty text values",
                field="filters.values",
            )
        if len(set(self.values)) != len(self.values):
            raise DomainError(f"filter {self.key!r} repeats a value", field="filters.values")


@dataclass(frozen=True, slots=True)
class ChargeFilter:
    """A charge's filter: for each key, the values that select it (or `ALL_FILTER_VALUES`)."""

    values: Mapping[str, tuple[str, ...]]

    def __post_init__(self) -> None:
        if not self.values or any(not vs for vs in self.values.values()):
            raise DomainError(
                "a charge filter needs at least one key with values", field="filters.values"
            )

    def match_rank(self, event: Event) -> tuple[int, int] | None:
        """(keys matched, keys matched by an exact value) when every key matches, else None."""
        exact = 0
        for key, accepted in self.values.items():
            text = property_text(event.properties.get(key))
            if text is None:
                return None
            if text in accepted:
                exact += 1
            elif ALL_FILTER_VALUES not in accepted:
                return None
        return len(self.values), exact


@dataclass(frozen=True, slots=True)
class BucketKey:
    """Where an event's usage is aggregated and priced within one charge.

    `filter_index` is the position of the matched charge filter in the charge's list, or None
    for the default bucket (priced with the charge's own properties). `group` holds the event's
    values of the charge's `pricing_group_keys`, in that order; a missing key gives None, so
    events without the key form their own group rather than being dropped.
    """

    filter_index: int | None = None
    group: tuple[str | None, ...] = ()


def matching_filter(event: Event, filters: Sequence[ChargeFilter]) -> int | None:
    """Index of the charge filter `event` goes to, or None for the default bucket.

    Rule (Lago's `event_matching_service`, made total): every key of a filter must match;
    among matching filters the one matching the MOST keys wins. Ties: the filter matching
    more keys by an exact value beats one relying on `__ALL_FILTER_VALUES__` (the specific
    price was written for that value), then the first declared filter wins.
    """
    best: tuple[int, int] | None = None
    best_index: int | None = None
    for index, charge_filter in enumerate(filters):
        rank = charge_filter.match_rank(event)
        if rank is not None and (best is None or rank > best):
            best, best_index = rank, index
    return best_index


def group_of(event: Event, group_keys: Sequence[str]) -> tuple[str | None, ...]:
    """The event's pricing group: its text value for each key, None when absent."""
    return tuple(property_text(event.properties.get(key)) for key in group_keys)


def bucket_of(
    event: Event, filters: Sequence[ChargeFilter], group_keys: Sequence[str] = ()
) -> BucketKey:
    """The bucket of `event` within a charge with these filters and `pricing_group_keys`."""
    return BucketKey(matching_filter(event, filters), group_of(event, group_keys))


def validate_charge_filters(
    metric_filters: Sequence[MetricFilter], charge_filters: Sequence[ChargeFilter]
) -> None:
    """Check a charge only filters on keys and values its metric declares.

    Raises `DomainError(code="value_is_invalid", field="filters")`. Two charge filters with
    the same values are also rejected: the second could never receive an event.
    """
    declared = {f.key: set(f.values) for f in metric_filters}
    seen: list[Mapping[str, frozenset[str]]] = []
    for charge_filter in charge_filters:
        for key, values in charge_filter.values.items():
            if key not in declared:
                raise DomainError(
                    f"filter key {key!r} is not declared on the billable metric",
                    field="filters",
                    code="value_is_invalid",
                )
            unknown = [v for v in values if v != ALL_FILTER_VALUES and v not in declared[key]]
            if unknown:
                raise DomainError(
                    f"filter values {unknown!r} are not declared for key {key!r}",
                    field="filters",
                    code="value_is_invalid",
                )
        normalized = {k: frozenset(v) for k, v in charge_filter.values.items()}
        if normalized in seen:
            raise DomainError(
                "two charge filters have the same values", field="filters", code="value_is_invalid"
            )
        seen.append(normalized)


def invalid_filter_values(event: Event, metric_filters: Sequence[MetricFilter]) -> tuple[str, ...]:
    """Keys whose value on `event` is not declared on the metric (Lago's `invalid_filter_values`).

    Such an event is still stored and aggregated (in the default bucket); the keys are reported
    so the operator sees why it matched no filter.
    """
    bad = []
    for metric_filter in metric_filters:
        text = property_text(event.properties.get(metric_filter.key))
        if text is not None and text not in metric_filter.values:
            bad.append(metric_filter.key)
    return tuple(bad)
