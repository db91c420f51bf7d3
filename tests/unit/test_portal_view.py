"""The portal's small computations: linear projection, days left, amount_details as tables."""

from __future__ import annotations

from datetime import UTC, datetime
from types import SimpleNamespace
from typing import cast
from zoneinfo import ZoneInfo

import pytest

from releve.domain.metering import AggregationType, BillableMetric
from releve.domain.periods import Period
from releve.services.portal_view import (
    days_left,
    detail_tables,
    grows_with_time,
    projected_cents,
    projected_total_cents,
)
from releve.services.usage import CustomerUsage

MARCH = Period(datetime(2024, 3, 1, tzinfo=UTC), datetime(2024, 4, 1, tzinfo=UTC))


@pytest.mark.parametrize(
    ("so_far", "now", "expected"),
    [
        (1000, datetime(2024, 3, 1, tzinfo=UTC), None),  # nothing elapsed: no pace yet
        (1000, datetime(2024, 2, 20, tzinfo=UTC), None),  # before the period
        (1000, datetime(2024, 3, 16, 12, tzinfo=UTC), 2000),  # half-way
        (180, datetime(2024, 3, 15, 12, tzinfo=UTC), 385),  # 180 × 31 / 14.5 = 384.83 → 385
        (1, datetime(2024, 3, 1, 0, 0, 1, tzinfo=UTC), 2678400),  # one second in: × 2 678 400
        (0, datetime(2024, 3, 10, tzinfo=UTC), 0),
        (1000, datetime(2024, 4, 1, tzinfo=UTC), 1000),  # period over: the amount itself
        (1000, datetime(2024, 5, 1, tzinfo=UTC), 1000),
    ],
)
def test_projection_is_linear_in_elapsed_time(
    so_far: int, now: datetime, expected: int | None
) -> None:
    assert projected_cents(so_far, MARCH, now) == expected


def test_projection_rounds_half_up_once() -> None:
    # 1 cent after 2/3 of a 3-hour period → 1.5 cents → 2.
    period = Period(datetime(2024, 1, 1, tzinfo=UTC), datetime(2024, 1, 1, 3, tzinfo=UTC))
    assert projected_cents(1, period, datetime(2024, 1, 1, 2, tzinfo=UTC)) == 2


def test_days_left_counts_calendar_days_in_the_customers_zone() -> None:
    assert days_left(MARCH, datetime(2024, 3, 15, 12, tzinfo=UTC), UTC) == 17
    assert days_left(MARCH, datetime(2024, 3, 31, 23, tzinfo=UTC), UTC) == 1
    # 23:30 UTC on 31 March is already 1 April in Paris; period ends 02:00 local there.
    assert (
        days_left(MARCH, datetime(2024, 3, 31, 23, 30, tzinfo=UTC), ZoneInfo("Europe/Paris")) == 0
    )
    assert days_left(MARCH, datetime(2024, 4, 5, tzinfo=UTC), UTC) == 0


def test_graduated_ranges_become_a_table_and_scalars_a_two_column_one() -> None:
    tiers = detail_tables(
        {
            "graduated_ranges": [
                {"from_value": "0", "to_value": "2", "units": "2"},
                {"from_value": "3", "to_value": None, "units": "3"},
            ]
        }
    )
    assert [t.columns for t in tiers] == [("Tier", "Units", "Unit price", "Flat fee", "Amount")]
    assert [str(r[0]) for r in tiers[0].rows] == ["First 2 units", "Over 2 units"]
    assert [r[1] for r in tiers[0].rows] == ["2", "3"]
    middle = detail_tables(
        {"graduated_ranges": [{"to_value": "100"}, {"to_value": "500"}, {"to_value": None}]}
    )
    assert [str(r[0]) for r in middle[0].rows] == [
        "First 100 units",
        "Next 400 units",
        "Over 500 units",
    ]
    package = detail_tables({"free_units": "0", "per_package_size": 5})
    assert package[0].columns == ("What", "Value")
    assert package[0].rows == (("Free units", "0"), ("Package size", 5))
    assert package[0].kinds == ("text", "units", "units")
    assert detail_tables({}) == []


def _usage(charges: list[tuple[BillableMetric, int]], taxes: int) -> CustomerUsage:
    """Only what the projection reads: each charge's metric and amount, period and taxes."""
    lines = [SimpleNamespace(charge=SimpleNamespace(metric=m), amount_cents=a) for m, a in charges]
    amount = sum(a for _, a in charges)
    fake = SimpleNamespace(
        charges=lines, period=MARCH, amount_cents=amount, taxes_amount_cents=taxes
    )
    return cast(CustomerUsage, fake)


CALLS = BillableMetric("calls", "Calls", AggregationType.COUNT)
SEATS = BillableMetric("seats", "Seats", AggregationType.UNIQUE_COUNT, "user_id", recurring=True)
PEAK = BillableMetric("peak", "Peak", AggregationType.MAX, "kw")
HALF_WAY = datetime(2024, 3, 16, 12, tzinfo=UTC)


def test_only_usage_that_piles_up_is_extrapolated() -> None:
    assert grows_with_time(CALLS) and not grows_with_time(SEATS) and not grows_with_time(PEAK)
    # calls 10.00 → 20.00; seats 30.00 and peak 5.00 stay; VAT 20 % of 45.00 → of 55.00.
    usage = _usage([(CALLS, 1000), (SEATS, 3000), (PEAK, 500)], taxes=900)
    assert projected_total_cents(usage, HALF_WAY) == 5500 + 1100
    assert projected_total_cents(_usage([(SEATS, 3000)], 600), HALF_WAY) == 3600
    assert projected_total_cents(_usage([], 0), HALF_WAY) == 0
    assert projected_total_cents(_usage([(CALLS, 1000)], 0), MARCH.start) is None
