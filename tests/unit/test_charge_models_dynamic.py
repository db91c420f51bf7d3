"""Dynamic pricing: Σ of the events' own prices (minor units) → major units, rounded once."""

from __future__ import annotations

from decimal import Decimal

import pytest

from releve.domain.charge_models.properties import DynamicProperties
from releve.domain.money import Currency
from releve.domain.pricing import price
from releve.domain.usage import UsageFacts

EUR, JPY, KWD = Currency("EUR", 2), Currency("JPY", 0), Currency("KWD", 3)
D = Decimal


@pytest.mark.parametrize(
    ("cur", "units", "cents", "expected"),
    [
        (EUR, "3", "1234.56", 1235),  # 12.3456 → 1234.56 cents → 1235
        (EUR, "1", "0.4", 0),  # 0.004 → 0
        (EUR, "1", "0.5", 1),  # 0.005 → 1 (half-up)
        (EUR, "0", "100", 0),  # no units, no fee, whatever the events said
        (EUR, "2", "-50", 0),  # a negative sum of prices is not a credit
        (JPY, "1", "1234.5", 1235),  # yen are the minor unit: 1234.5 → 1235
        (JPY, "5", "100", 100),
        (JPY, "5", "0.49", 0),
        (KWD, "1", "1234.5", 1235),  # 1.2345 → 1234.5 fils → 1235
        (KWD, "4", "1000", 1000),  # 1.000
        (KWD, "4", "999.5", 1000),
    ],
)
def test_dynamic_amounts(cur: Currency, units: str, cents: str, expected: int) -> None:
    usage = UsageFacts(D(units), events_count=2, total_amount_cents=D(cents))
    assert price("dynamic", DynamicProperties(), usage, cur).amount_cents == expected


def test_dynamic_explanation_and_details() -> None:
    usage = UsageFacts(D(3), events_count=3, total_amount_cents=D(1000))
    fee = price("dynamic", DynamicProperties(), usage, KWD)
    # 1000 fils = 1.000 KWD over 3 units = 0.333333… per unit
    assert fee.explanation == "3 units: priced per event (about 0.333333 KWD per unit) = 1.000 KWD"
    assert fee.amount_details() == {}
    assert price("dynamic", DynamicProperties(), UsageFacts(D(0)), KWD).explanation == (
        "No usage (0 units): 0.000 KWD"
    )
