"""Percentage pricing: rate, fixed fee per paid event, free allowances, per-transaction min/max."""

from __future__ import annotations

from decimal import Decimal

import pytest

from releve.domain.charge_models.percentage import MissingEventValues, PercentageBreakdown
from releve.domain.charge_models.properties import PercentageProperties
from releve.domain.errors import DomainError
from releve.domain.money import Currency
from releve.domain.pricing import price
from releve.domain.usage import UsageFacts

USD, EUR, JPY, KWD = (Currency(c, e) for c, e in (("USD", 2), ("EUR", 2), ("JPY", 0), ("KWD", 3)))
D = Decimal


def pp(rate: str, **kw: str | int) -> PercentageProperties:
    args = {
        k: (v if isinstance(v, int) and k == "free_units_per_events" else D(str(v)))
        for k, v in kw.items()
    }
    return PercentageProperties(D(rate), **args)  # type: ignore[arg-type]


def tx(*values: str) -> UsageFacts:
    vals = tuple(D(v) for v in values)
    return UsageFacts(sum(vals, D(0)), len(vals), vals)


DOC = pp(
    "1.2", fixed_amount="0.10", free_units_per_events=3, free_units_per_total_aggregation="500"
)


@pytest.mark.parametrize(
    ("props", "cur", "usage", "expected"),
    [
        # doc: 3 free events (400), 4th paid: 50 × 1.2% + 0.10 = 0.70
        (DOC, USD, tx("200", "100", "100", "50"), 70),
        # unit allowance runs out first: 300 free; 2nd event 200 free + 100 paid; 3rd 100 paid
        # (700 − 500) × 1.2% = 2.40 + 2 paid events × 0.10 = 2.60
        (DOC, USD, tx("300", "300", "100"), 260),
        # edge: an event that exactly fills the allowance is free; 3 events used → nothing paid
        (DOC, USD, tx("500"), 0),
        # edge: 0.01 over the allowance: 0.01 × 1.2% = 0.00012 + 0.10 → 0.10012 → 10 cents
        (DOC, USD, tx("500.01"), 10),
        (pp("2.5"), EUR, UsageFacts(D(100)), 250),  # 100 × 2.5% = 2.50, no event values needed
        (pp("2.5"), EUR, UsageFacts(D("0.2")), 1),  # 0.005 → 0.5 cent → 1
        (pp("2.5"), EUR, UsageFacts(D(0), 3), 0),  # no units: nothing, fixed fees included
        (pp("1", fixed_amount="0.25"), EUR, UsageFacts(D(1000), 4), 1100),  # 10 + 4 × 0.25
        # 2 free events (30); 70 × 2% = 1.40 + 2 × 0.5 = 2.40
        (
            pp("2", fixed_amount="0.5", free_units_per_events=2),
            EUR,
            tx("10", "20", "30", "40"),
            240,
        ),
        (pp("1.5"), JPY, UsageFacts(D(333)), 5),  # 4.995 → 5
        (pp("1.5"), JPY, UsageFacts(D(1000)), 15),
        # min 50: 100 → 3.6 + 30 = 33.6 → 50; 1000 → 66; 5000 → 210 → 326
        (
            pp("3.6", fixed_amount="30", per_transaction_min_amount="50"),
            JPY,
            tx("100", "1000", "5000"),
            326,
        ),
        # cap 1000: 600 free; 2nd: 400 free + 200 paid → 200 × 10% = 20
        (pp("10", free_units_per_total_aggregation="1000"), JPY, tx("600", "600"), 20),
        # max 0.2: 10 → 0.05 + 0.05 = 0.1; 100 → 0.55 → 0.2 → 0.3
        (
            pp("0.5", fixed_amount="0.05", per_transaction_max_amount="0.2"),
            KWD,
            tx("10", "100"),
            300,
        ),
        (pp("0.25"), KWD, UsageFacts(D(7)), 18),  # 0.0175 → 17.5 fils → 18
        (pp("0.25"), KWD, UsageFacts(D(1000)), 2500),
        # 1 free event (5 ≤ cap 5); 2nd paid: 5 × 10% + 0.01 = 0.51
        (
            pp(
                "10",
                fixed_amount="0.01",
                free_units_per_events=1,
                free_units_per_total_aggregation="5",
            ),
            KWD,
            tx("5", "5"),
            510,
        ),
        # 0 free events means nothing free: 2 × (1 × 10%) + 2 × 0.01 = 0.22
        (pp("10", fixed_amount="0.01", free_units_per_events=0), KWD, tx("1", "1"), 220),
    ],
)
def test_percentage_amounts(
    props: PercentageProperties, cur: Currency, usage: UsageFacts, expected: int
) -> None:
    assert price("percentage", props, usage, cur).amount_cents == expected


def test_allowance_split_is_reported() -> None:
    fee = price("percentage", DOC, tx("300", "300", "100"), USD)
    assert isinstance(fee.breakdown, PercentageBreakdown)
    b = fee.breakdown
    assert (b.free_units, b.free_events, b.paid_units, b.paid_events) == (D(500), 1, D(200), 2)


def test_min_max_explanation() -> None:
    props = pp("0.5", fixed_amount="0.05", per_transaction_max_amount="0.2")
    fee = price("percentage", props, tx("10", "100"), KWD)
    # per-unit 110 × 0.5% = 0.55, fixed 0.1, adjustment 0.3 − 0.65 = −0.35
    assert fee.explanation == (
        "110 units: 0.5% of 110, 2 paid events × 0.05 KWD, "
        "−0.35 KWD per-transaction min/max adjustment = 0.300 KWD"
    )


def test_event_values_are_required_when_the_rule_needs_them() -> None:
    with pytest.raises(MissingEventValues) as err:
        price("percentage", DOC, UsageFacts(D(450), 4), USD)
    assert (err.value.code, err.value.field) == ("event_values_required", "event_values")


def test_event_values_must_match_the_event_count() -> None:
    with pytest.raises(DomainError) as err:
        price("percentage", DOC, UsageFacts(D(450), 3, (D(450), D(0))), USD)
    assert err.value.code == "event_values_mismatch"
