"""Coupons: Lago's application order, frequencies, limits, and exact spreading over fees."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from releve.domain.coupons import (
    AppliedCoupon,
    AppliedCouponStatus,
    Coupon,
    CouponFrequency,
    CouponsResult,
    CouponType,
    InvalidCoupon,
    apply_coupons,
)
from releve.domain.fee_lines import FeeLine, FeeType
from releve.domain.money import Currency

USD = Currency("USD", 2)
EUR = Currency("EUR", 2)
T0 = datetime(2025, 1, 1, tzinfo=UTC)


def fee(
    id: str,
    amount: int,
    fee_type: FeeType = FeeType.CHARGE,
    plan: str | None = "pro",
    metric: str | None = None,
) -> FeeLine:
    return FeeLine(id, fee_type, amount, USD, plan_code=plan, billable_metric_code=metric)


def fixed(
    code: str,
    cents: int,
    frequency: CouponFrequency = CouponFrequency.ONCE,
    *,
    duration: int | None = None,
    currency: Currency = USD,
    plans: frozenset[str] = frozenset(),
    metrics: frozenset[str] = frozenset(),
) -> Coupon:
    return Coupon(
        code,
        CouponType.FIXED_AMOUNT,
        frequency,
        amount_cents=cents,
        currency=currency,
        frequency_duration=duration,
        plan_codes=plans,
        billable_metric_codes=metrics,
    )


def pct(
    code: str,
    rate: str,
    frequency: CouponFrequency = CouponFrequency.ONCE,
    *,
    duration: int | None = None,
    plans: frozenset[str] = frozenset(),
    metrics: frozenset[str] = frozenset(),
) -> Coupon:
    return Coupon(
        code,
        CouponType.PERCENTAGE,
        frequency,
        percentage_rate=Decimal(rate),
        frequency_duration=duration,
        plan_codes=plans,
        billable_metric_codes=metrics,
    )


def applied(coupon: Coupon, day: int = 0) -> AppliedCoupon:
    return AppliedCoupon.new(coupon.code, coupon, T0 + timedelta(days=day))


def run(fees: list[FeeLine], coupons: list[AppliedCoupon]) -> CouponsResult:
    return apply_coupons(fees, {f.id: f.amount_cents for f in fees}, coupons, USD)


def test_percentage_then_fixed_when_percentage_is_older() -> None:
    # 10 % of 1000 = 100, then fixed 200 on the 900 left → 300.
    result = run([fee("a", 1000)], [applied(fixed("f", 200), day=1), applied(pct("p", "10"))])
    assert [(a.coupon_code, a.amount_cents) for a in result.applications] == [
        ("p", 100),
        ("f", 200),
    ]
    assert result.amount_cents == 300


def test_fixed_then_percentage_when_fixed_is_older() -> None:
    # Fixed 200 first, then 10 % of 800 = 80 → 280.
    result = run([fee("a", 1000)], [applied(pct("p", "10"), day=1), applied(fixed("f", 200))])
    assert [(a.coupon_code, a.amount_cents) for a in result.applications] == [("f", 200), ("p", 80)]


def test_metric_limited_then_plan_limited_then_unlimited_whatever_their_age() -> None:
    fees = [fee("sub", 1000, FeeType.SUBSCRIPTION), fee("u", 1000, metric="api")]
    coupons = [
        applied(pct("all", "50"), day=0),
        applied(pct("plan", "50", plans=frozenset({"pro"})), day=1),
        applied(pct("metric", "50", metrics=frozenset({"api"})), day=2),
    ]
    result = run(fees, coupons)
    # metric: 50 % of u 1000 = 500 → u 500. plan: 50 % of 1000 + 500 = 750 → sub 500, u 250.
    # all: 50 % of 750 = 375 → sub 250, u 125.
    assert [a.coupon_code for a in result.applications] == ["metric", "plan", "all"]
    assert [a.amount_cents for a in result.applications] == [500, 750, 375]
    assert result.applications[1].fee_shares == {"sub": 500, "u": 250}
    assert result.fee_discounts == {"sub": 750, "u": 875}


def test_limited_coupon_only_touches_its_fees() -> None:
    fees = [fee("a", 1000, plan="pro"), fee("b", 1000, plan="basic"), fee("c", 500, metric="m")]
    result = run(fees, [applied(fixed("f", 5000, plans=frozenset({"basic"})))])
    # Bigger than its base: capped at fee b's 1000; a once coupon keeps the 4000 left.
    assert result.fee_discounts == {"a": 0, "b": 1000, "c": 0}
    assert result.updated[0].amount_cents_remaining == 4000
    assert result.updated[0].status is AppliedCouponStatus.ACTIVE


def test_coupon_bigger_than_invoice_discounts_everything_and_keeps_rest() -> None:
    result = run([fee("a", 300), fee("b", 700)], [applied(fixed("f", 2500))])
    assert result.amount_cents == 1000
    assert result.updated[0].amount_cents_remaining == 1500


def test_once_fixed_used_up_terminates() -> None:
    result = run([fee("a", 300)], [applied(fixed("f", 300))])
    assert result.updated[0].amount_cents_remaining == 0
    assert result.updated[0].status is AppliedCouponStatus.TERMINATED


def test_once_percentage_terminates_after_one_invoice() -> None:
    result = run([fee("a", 300)], [applied(pct("p", "10"))])
    assert result.updated[0].status is AppliedCouponStatus.TERMINATED
    again = run([fee("a", 300)], list(result.updated))
    assert again.amount_cents == 0


def test_recurring_counts_down_then_terminates() -> None:
    state = [applied(fixed("r", 100, CouponFrequency.RECURRING, duration=2))]
    first = run([fee("a", 1000)], state)
    assert first.amount_cents == 100
    assert first.updated[0].frequency_duration_remaining == 1
    assert first.updated[0].status is AppliedCouponStatus.ACTIVE
    second = run([fee("a", 1000)], list(first.updated))
    assert second.amount_cents == 100
    assert second.updated[0].frequency_duration_remaining == 0
    assert second.updated[0].status is AppliedCouponStatus.TERMINATED
    third = run([fee("a", 1000)], list(second.updated))
    assert third.amount_cents == 0


def test_recurring_fixed_does_not_carry_unused_amount() -> None:
    # 500 per invoice on a 200 base: 200 used, the 300 rest is lost (not a once coupon).
    state = [applied(fixed("r", 500, CouponFrequency.RECURRING, duration=3))]
    result = run([fee("a", 200)], state)
    assert result.amount_cents == 200
    assert result.updated[0].frequency_duration_remaining == 2


def test_forever_never_terminates() -> None:
    state = [applied(pct("f", "25", CouponFrequency.FOREVER))]
    for _ in range(3):
        result = run([fee("a", 1000)], state)
        assert result.amount_cents == 250
        state = list(result.updated)
    assert state[0].status is AppliedCouponStatus.ACTIVE


def test_zero_fees_do_not_consume_a_coupon() -> None:
    state = [applied(fixed("r", 100, CouponFrequency.RECURRING, duration=1))]
    result = run([fee("a", 0)], state)
    assert result.applications == ()
    assert result.updated == tuple(state)


def test_percentage_rounding_to_zero_does_not_burn_a_once_coupon() -> None:
    # 1 % of 40 cents = 0.4 → 0: the coupon stays for a later invoice.
    state = [applied(pct("p", "1"))]
    result = run([fee("a", 40)], state)
    assert result.applications == ()
    assert result.updated[0].status is AppliedCouponStatus.ACTIVE


@pytest.mark.parametrize(
    ("base", "rate", "expected"),
    [
        (1000, "12.5", 125),
        (1, "50", 1),  # 0.5 → 1 half-up
        (3, "50", 2),  # 1.5 → 2
        (999, "33.333", 333),  # 332.996… → 333
        (1000, "100", 1000),
        (1000, "0", 0),
    ],
)
def test_percentage_amount_rounding(base: int, rate: str, expected: int) -> None:
    assert run([fee("a", base)], [applied(pct("p", rate))]).amount_cents == expected


def test_fixed_coupon_in_another_currency_is_not_applied() -> None:
    state = [applied(fixed("eur", 100, currency=EUR))]
    result = run([fee("a", 1000)], state)
    assert result.amount_cents == 0
    assert result.updated == tuple(state)


def test_credit_purchases_are_never_discounted() -> None:
    result = run([fee("topup", 1000, FeeType.CREDIT, plan=None)], [applied(pct("p", "50"))])
    assert result.amount_cents == 0


def test_shares_follow_largest_remainder() -> None:
    # 100 over three fees of 1 → 33.33 each → 34, 33, 33 (ties go to the earlier fee).
    fees = [fee(x, 1000) for x in "abc"]
    result = run(fees, [applied(fixed("f", 100))])
    assert result.applications[0].fee_shares == {"a": 34, "b": 33, "c": 33}


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"coupon_type": CouponType.FIXED_AMOUNT}, "amount_cents"),
        (
            {"coupon_type": CouponType.FIXED_AMOUNT, "amount_cents": -1, "currency": USD},
            "amount_cents",
        ),
        ({"coupon_type": CouponType.PERCENTAGE}, "percentage_rate"),
        (
            {"coupon_type": CouponType.PERCENTAGE, "percentage_rate": Decimal("100.01")},
            "percentage_rate",
        ),
        (
            {
                "coupon_type": CouponType.PERCENTAGE,
                "percentage_rate": Decimal("10"),
                "frequency": CouponFrequency.RECURRING,
            },
            "frequency_duration",
        ),
        (
            {
                "coupon_type": CouponType.PERCENTAGE,
                "percentage_rate": Decimal("10"),
                "plan_codes": frozenset({"p"}),
                "billable_metric_codes": frozenset({"m"}),
            },
            "applies_to",
        ),
    ],
)
def test_invalid_coupons(kwargs: dict[str, object], field: str) -> None:
    with pytest.raises(InvalidCoupon) as err:
        Coupon("c", **kwargs)  # type: ignore[arg-type]
    assert err.value.field == field
    assert err.value.code == "invalid_coupon"


def test_applied_coupon_needs_aware_time() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        AppliedCoupon.new("c", pct("p", "1"), datetime(2025, 1, 1))
