"""Wallets: priority, creation order, applies_to limits, granted before purchased."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from releve.domain.fee_lines import FeeLine, FeeType
from releve.domain.money import Currency
from releve.domain.wallets import InvalidWallet, Wallet, WalletsResult, consume_wallets

USD = Currency("USD", 2)
EUR = Currency("EUR", 2)
T0 = datetime(2025, 1, 1, tzinfo=UTC)

FEES = [
    FeeLine("sub", FeeType.SUBSCRIPTION, 1000, USD, plan_code="pro"),
    FeeLine("api", FeeType.CHARGE, 600, USD, plan_code="pro", billable_metric_code="api"),
    FeeLine("gb", FeeType.CHARGE, 400, USD, plan_code="pro", billable_metric_code="storage"),
    FeeLine("fix", FeeType.ADJUSTMENT, 200, USD, plan_code="pro", billable_metric_code="api"),
    FeeLine("topup", FeeType.CREDIT, 5000, USD),
]


def wallet(
    id: str,
    balance: int,
    priority: int = 50,
    day: int = 0,
    *,
    currency: Currency = USD,
    fee_types: frozenset[FeeType] = frozenset(),
    billable_metric_codes: frozenset[str] = frozenset(),
) -> Wallet:
    return Wallet(
        id,
        currency,
        T0 + timedelta(days=day),
        purchased_balance_cents=balance,
        priority=priority,
        fee_types=fee_types,
        billable_metric_codes=billable_metric_codes,
    )


def run(wallets: list[Wallet]) -> WalletsResult:
    return consume_wallets(FEES, {f.id: f.amount_cents for f in FEES}, wallets, USD)


def test_priority_first_then_oldest() -> None:
    # Due 2200 (credit purchase excluded). p1 pays 1000, then the oldest p2 pays 1000, the
    # newer p2 pays the last 200.
    result = run([wallet("new", 5000, 2, day=5), wallet("old", 1000, 2), wallet("first", 1000, 1)])
    assert [(c.wallet_id, c.amount_cents) for c in result.consumptions] == [
        ("first", 1000),
        ("old", 1000),
        ("new", 200),
    ]
    assert [w.balance_cents for w in result.updated] == [0, 0, 4800]
    assert result.amount_cents == 2200
    assert result.fee_payments["topup"] == 0


def test_fee_type_limit_covers_usage_and_its_adjustments() -> None:
    w = wallet("w", 10_000, fee_types=frozenset({FeeType.CHARGE}))
    result = run([w])
    assert result.amount_cents == 1200  # 600 + 400 + 200 adjustment
    assert result.fee_payments["sub"] == 0


def test_adjustment_only_wallet_pays_only_adjustments() -> None:
    result = run([wallet("w", 10_000, fee_types=frozenset({FeeType.ADJUSTMENT}))])
    assert result.fee_payments == {"sub": 0, "api": 0, "gb": 0, "fix": 200, "topup": 0}


def test_metric_limit_and_fee_type_limit_are_a_union() -> None:
    w = wallet(
        "w",
        10_000,
        fee_types=frozenset({FeeType.SUBSCRIPTION}),
        billable_metric_codes=frozenset({"storage"}),
    )
    result = run([w])
    assert result.fee_payments == {"sub": 1000, "api": 0, "gb": 400, "fix": 0, "topup": 0}


def test_later_wallet_never_pays_what_an_earlier_one_paid() -> None:
    # Metric wallet (priority 1) pays api 600 + fix 200; the unlimited one pays the 1400 left.
    scoped = wallet("scoped", 10_000, 1, billable_metric_codes=frozenset({"api"}))
    result = run([wallet("any", 10_000, 2), scoped])
    assert [(c.wallet_id, c.amount_cents) for c in result.consumptions] == [
        ("scoped", 800),
        ("any", 1400),
    ]


def test_partial_balance_is_spread_pro_rata_over_eligible_fees() -> None:
    # 100 over api 600 : gb 400 : fix 200 → 50, 33.33, 16.67 → 50, 33, 17.
    w = wallet("w", 100, fee_types=frozenset({FeeType.CHARGE}))
    result = run([w])
    assert result.consumptions[0].fee_shares == {"api": 50, "gb": 33, "fix": 17}


def test_granted_credits_are_spent_before_purchased() -> None:
    w = Wallet("w", USD, T0, granted_balance_cents=500, purchased_balance_cents=5000)
    result = run([w])
    [c] = result.consumptions
    assert (c.amount_cents, c.granted_amount_cents, c.purchased_amount_cents) == (2200, 500, 1700)
    assert (result.updated[0].granted_balance_cents, result.updated[0].purchased_balance_cents) == (
        0,
        3300,
    )


def test_wallet_in_another_currency_is_skipped() -> None:
    result = run([wallet("eur", 1000, currency=EUR)])
    assert result.consumptions == ()
    assert result.updated[0].balance_cents == 1000


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"priority": 0}, "priority"),
        ({"priority": 51}, "priority"),
        ({"granted_balance_cents": -1}, "balance_cents"),
        ({"rate_amount": Decimal(0)}, "rate_amount"),
    ],
)
def test_invalid_wallets(kwargs: dict[str, object], field: str) -> None:
    with pytest.raises(InvalidWallet) as err:
        Wallet("w", USD, T0, **kwargs)  # type: ignore[arg-type]
    assert err.value.field == field
