"""Charge filters and pricing groups: which bucket an event's usage goes to."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from releve.domain.errors import DomainError
from releve.domain.filters import (
    ALL_FILTER_VALUES,
    BucketKey,
    ChargeFilter,
    MetricFilter,
    bucket_of,
    group_of,
    invalid_filter_values,
    matching_filter,
    validate_charge_filters,
)
from releve.domain.usage import Event, PropertyValue

ANY = ALL_FILTER_VALUES


def _event(**properties: PropertyValue) -> Event:
    return Event("tx", "compute", "sub_1", datetime(2024, 5, 1, tzinfo=UTC), properties)


FILTERS = (
    ChargeFilter({"cloud": ("aws",)}),  # 0
    ChargeFilter({"cloud": ("aws",), "region": ("us", "eu")}),  # 1
    ChargeFilter({"cloud": ("gcp", "azure")}),  # 2
    ChargeFilter({"cloud": (ANY,), "region": ("ap",)}),  # 3
    ChargeFilter({"cloud": (ANY,)}),  # 4
)


@pytest.mark.parametrize(
    ("properties", "expected"),
    [
        ({"cloud": "aws"}, 0),  # only 0 and 4 match (1 key each); exact beats the sentinel
        ({"cloud": "aws", "region": "eu"}, 1),  # 0, 1, 4 match; 1 matches 2 keys
        ({"cloud": "aws", "region": "ap"}, 3),  # 1 fails on region; 3 matches 2 keys
        ({"cloud": "aws", "region": "fr"}, 0),  # 1 and 3 fail on region; 0 and 4 tie on 1 key
        ({"cloud": "azure"}, 2),
        ({"cloud": "ibm"}, 4),  # only the sentinel filter accepts an unknown value
        ({"cloud": "ibm", "region": "ap"}, 3),  # sentinel + exact region: 2 keys
        ({"region": "eu"}, None),  # every filter needs "cloud": default bucket
        ({}, None),
        ({"cloud": None}, None),  # JSON null is no value, even for the sentinel
    ],
)
def test_most_keys_win_then_exact_values_then_first_declared(
    properties: dict[str, PropertyValue], expected: int | None
) -> None:
    assert matching_filter(_event(**properties), FILTERS) == expected


def test_ties_go_to_the_first_declared_filter() -> None:
    filters = (ChargeFilter({"cloud": ("aws",)}), ChargeFilter({"region": ("eu",)}))
    # both match one key exactly: the first declared wins, whatever the property order
    assert matching_filter(_event(region="eu", cloud="aws"), filters) == 0
    assert matching_filter(_event(region="eu", cloud="aws"), filters[::-1]) == 0


def test_numbers_and_booleans_match_as_text() -> None:
    filters = (ChargeFilter({"tier": ("1",)}), ChargeFilter({"gpu": ("true",)}))
    assert matching_filter(_event(tier=Decimal(1)), filters) == 0
    assert matching_filter(_event(tier=Decimal("1.0")), filters) is None  # "1.0" ≠ "1"
    assert matching_filter(_event(gpu=True), filters) == 1


def test_no_filters_means_the_default_bucket() -> None:
    assert matching_filter(_event(cloud="aws"), ()) is None


@pytest.mark.parametrize(
    ("properties", "keys", "expected"),
    [
        ({"region": "eu", "plan": "pro"}, ("region",), ("eu",)),
        ({"region": "eu", "plan": "pro"}, ("plan", "region"), ("pro", "eu")),  # key order kept
        ({"plan": "pro"}, ("region", "plan"), (None, "pro")),  # missing key → None group value
        ({"region": Decimal(3)}, ("region",), ("3",)),
        ({"region": "eu"}, (), ()),
    ],
)
def test_group_of(
    properties: dict[str, PropertyValue],
    keys: tuple[str, ...],
    expected: tuple[str | None, ...],
) -> None:
    assert group_of(_event(**properties), keys) == expected


def test_bucket_of_combines_filter_and_group() -> None:
    event = _event(cloud="aws", region="eu", team="a")
    assert bucket_of(event, FILTERS, ("team",)) == BucketKey(1, ("a",))
    assert bucket_of(_event(team="b"), FILTERS, ("team",)) == BucketKey(None, ("b",))
    assert bucket_of(_event(), ()) == BucketKey()


METRIC_FILTERS = (
    MetricFilter("cloud", ("aws", "gcp")),
    MetricFilter("region", ("us", "eu")),
)


def test_valid_charge_filters_pass() -> None:
    validate_charge_filters(
        METRIC_FILTERS,
        (
            ChargeFilter({"cloud": ("aws",)}),
            ChargeFilter({"cloud": ("aws",), "region": ("eu", "us")}),
            ChargeFilter({"cloud": (ANY,)}),
        ),
    )


@pytest.mark.parametrize(
    "charge_filters",
    [
        (ChargeFilter({"os": ("linux",)}),),  # undeclared key
        (ChargeFilter({"cloud": ("azure",)}),),  # undeclared value
        (ChargeFilter({"cloud": ("aws", "ibm")}),),  # one undeclared value among good ones
        (ChargeFilter({"cloud": ("aws",)}), ChargeFilter({"cloud": ("aws",)})),  # duplicate
    ],
)
def test_charge_filters_must_use_the_metric_s_keys_and_values(
    charge_filters: tuple[ChargeFilter, ...],
) -> None:
    with pytest.raises(DomainError) as err:
        validate_charge_filters(METRIC_FILTERS, charge_filters)
    assert (err.value.code, err.value.field) == ("value_is_invalid", "filters")


@pytest.mark.parametrize(
    "build",
    [
        lambda: ChargeFilter({}),
        lambda: ChargeFilter({"cloud": ()}),
        lambda: MetricFilter("", ("a",)),
        lambda: MetricFilter("cloud", ()),
        lambda: MetricFilter("cloud", ("aws", "aws")),
        lambda: MetricFilter("cloud", ("",)),
    ],
)
def test_malformed_filters_are_rejected(build: object) -> None:
    with pytest.raises(DomainError):
        build()  # type: ignore[operator]


def test_invalid_filter_values_are_reported_per_key() -> None:
    event = _event(cloud="azure", region="eu")
    assert invalid_filter_values(event, METRIC_FILTERS) == ("cloud",)
    assert invalid_filter_values(_event(cloud="aws"), METRIC_FILTERS) == ()  # missing is fine


_values = st.sampled_from(["aws", "gcp", "eu", "us", "x"])


@given(
    props=st.dictionaries(st.sampled_from(["cloud", "region", "os"]), _values, max_size=3),
    specs=st.lists(
        st.dictionaries(
            st.sampled_from(["cloud", "region", "os"]),
            st.lists(st.sampled_from(["aws", "gcp", "eu", "us", ANY]), min_size=1, max_size=2),
            min_size=1,
            max_size=3,
        ),
        max_size=5,
    ),
)
def test_the_chosen_filter_matches_and_no_matching_filter_has_more_keys(
    props: dict[str, str], specs: list[dict[str, list[str]]]
) -> None:
    filters = [ChargeFilter({k: tuple(v) for k, v in spec.items()}) for spec in specs]
    event = _event(**props)

    def matches(f: ChargeFilter) -> bool:
        return all(k in props and (props[k] in v or ANY in v) for k, v in f.values.items())

    chosen = matching_filter(event, filters)
    matching = [f for f in filters if matches(f)]
    if chosen is None:
        assert matching == []
    else:
        assert matches(filters[chosen])
        assert all(len(f.values) <= len(filters[chosen].values) for f in matching)
