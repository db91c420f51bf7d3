"""Package pricing: started packages after free units, in USD, EUR, JPY and KWD."""

from __future__ import annotations

from decimal import Decimal

import pytest

from releve.domain.charge_models.properties import PackageProperties
from releve.domain.money import Currency
from releve.domain.pricing import price
from releve.domain.usage import UsageFacts

USD, EUR, JPY, KWD = (Currency(c, e) for c, e in (("USD", 2), ("EUR", 2), ("JPY", 0), ("KWD", 3)))
D = Decimal
DOC = PackageProperties(D(5), 100, 100)  # $5 per 100 units, first 100 free
EUR_P = PackageProperties(D("1.25"), 10, 0)
JPY_P = PackageProperties(D(300), 1000, 500)
KWD_P = PackageProperties(D("0.125"), 3, 2)


@pytest.mark.parametrize(
    ("props", "cur", "units", "expected"),
    [
        (DOC, USD, "0", 0),
        (DOC, USD, "100", 0),  # all free
        (DOC, USD, "100.5", 500),  # 0.5 paid → 1 started package
        (DOC, USD, "101", 500),  # 1 paid → 1 package
        (DOC, USD, "200", 500),  # 100 paid → 1 package
        (DOC, USD, "201", 1000),  # 101 paid → 2 packages
        (DOC, USD, "300", 1000),
        (DOC, USD, "301", 1500),  # 201 paid → 3 packages
        (EUR_P, EUR, "0.5", 125),  # 1 package × 1.25
        (EUR_P, EUR, "1", 125),
        (EUR_P, EUR, "10", 125),
        (EUR_P, EUR, "11", 250),  # 2 packages
        (EUR_P, EUR, "95", 1250),  # 10 packages × 1.25
        (JPY_P, JPY, "500", 0),  # all free
        (JPY_P, JPY, "501", 300),
        (JPY_P, JPY, "1500", 300),  # 1000 paid → 1 package
        (JPY_P, JPY, "1501", 600),
        (JPY_P, JPY, "10000", 3000),  # 9500 paid → 10 packages
        (KWD_P, KWD, "2", 0),
        (KWD_P, KWD, "3", 125),  # 1 paid → 1 package
        (KWD_P, KWD, "5", 125),  # 3 paid → 1 package
        (KWD_P, KWD, "6", 250),  # 4 paid → 2 packages
        (KWD_P, KWD, "30", 1250),  # 28 paid → 10 packages × 0.125
    ],
)
def test_package_amounts(
    props: PackageProperties, cur: Currency, units: str, expected: int
) -> None:
    assert price("package", props, UsageFacts(D(units)), cur).amount_cents == expected


def test_tiny_remainder_still_starts_a_package() -> None:
    # 100.0001 paid units in packages of 100: the 0.0001 starts a second package
    units = D("100.0001")
    assert price("package", PackageProperties(D(1), 100), UsageFacts(units), EUR).amount == 2


def test_explanations() -> None:
    assert price("package", KWD_P, UsageFacts(D(2)), KWD).explanation == (
        "2 units: 2 free = 0.000 KWD"
    )
    assert price("package", EUR_P, UsageFacts(D(11)), EUR).explanation == (
        "11 units: 11 paid → 2 packages of 10 × 1.25 EUR = 2.50 EUR"
    )
    assert price("package", EUR_P, UsageFacts(D(0)), EUR).explanation == (
        "No usage (0 units): 0.00 EUR"
    )
