"""Period invoices: subscription fees, proration, trials, in-advance timing, monthly charges of
yearly plans, minimum commitment, and totals with taxes and coupons — all computed by hand."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from releve.domain.billing.period_invoice import InvoiceKind, assemble_period_invoice
from releve.domain.billing.subscription_fee import subscription_fee
from releve.domain.coupons import AppliedCoupon, Coupon, CouponType
from releve.domain.credit_notes import CreditNoteBalance
from releve.domain.fee_lines import FeeType, TaxRate
from releve.domain.filters import BucketKey
from releve.domain.periods import BillingTime, Interval, Period
from releve.domain.plans import Plan
from releve.domain.subscriptions import Subscription
from releve.domain.usage import UsageFacts
from releve.domain.wallets import Wallet
from tests.unit.test_billing_factories import EUR, USD, charge, plan, standard, utc

UTC_ZONE = ZoneInfo("UTC")
VAT = TaxRate("vat", "VAT", Decimal(20))


def sub(
    p: Plan,
    started_at: datetime,
    *,
    billing_time: BillingTime = BillingTime.CALENDAR,
    tz: ZoneInfo = UTC_ZONE,
) -> Subscription:
    return Subscription("sub1", "ext1", p, billing_time, tz, started_at)


def api_usage(units: int, charge_id: str = "ch_api") -> dict[str, dict[BucketKey, UsageFacts]]:
    return {charge_id: {BucketKey(): UsageFacts(Decimal(units), units)}}


def summary(invoice: object) -> list[tuple[str, int]]:
    return [(f.line.fee_type.value, f.line.amount_cents) for f in invoice.fees]  # type: ignore[attr-defined]


# --- subscription fee ---------------------------------------------------------------------


def test_lago_calendar_proration_example() -> None:
    # $50/month from Aug 10 → 22 days × $50 / 31 = $35.48 (Lago docs)
    p = plan(5000, currency=USD)
    fee = subscription_fee(
        p,
        Period(utc(2026, 8, 10), utc(2026, 9, 1)),
        Period(utc(2026, 8, 1), utc(2026, 9, 1)),
        UTC_ZONE,
    )
    assert (fee.paid_days, fee.full_days, fee.amount_cents) == (22, 31, 3548)
    assert fee.explanation == "Plan Pro, 22/31 days of Aug 2026: 50.00 USD × 22/31 = 35.48 USD"
    invoice = assemble_period_invoice(
        sub(p, utc(2026, 8, 10, 15)), InvoiceKind.PERIOD_END, utc(2026, 9, 1), usage={},
        finalizing=True,
    )  # fmt: skip
    assert summary(invoice) == [("subscription", 3548)]
    assert invoice.totals.total_amount_cents == 3548


def test_customer_time_zone_decides_the_days() -> None:
    # Started Aug 9 23:30 UTC = Aug 10 01:30 in Paris: billed from Aug 10 in Paris.
    paris = ZoneInfo("Europe/Paris")
    s = sub(plan(5000), utc(2026, 8, 9, 23, 30), tz=paris)
    boundary = datetime(2026, 9, 1, tzinfo=paris)
    invoice = assemble_period_invoice(
        s, InvoiceKind.PERIOD_END, boundary, usage={}, finalizing=True
    )
    assert summary(invoice) == [("subscription", 3548)]


@pytest.mark.parametrize(
    ("advance", "kind", "at", "expected"),
    [
        # €31/month, 10-day trial from Aug 1 → trial ends Aug 11; 21/31 × 3100 = 2100.
        (True, InvoiceKind.START, utc(2026, 8, 1), []),
        (True, InvoiceKind.TRIAL_END, utc(2026, 8, 11), [("subscription", 2100)]),
        (True, InvoiceKind.PERIOD_END, utc(2026, 9, 1), [("subscription", 3100)]),
        (False, InvoiceKind.START, utc(2026, 8, 1), []),
        (False, InvoiceKind.TRIAL_END, utc(2026, 8, 11), []),
        (False, InvoiceKind.PERIOD_END, utc(2026, 9, 1), [("subscription", 2100)]),
    ],
)
def test_trial_ending_mid_period(
    advance: bool, kind: InvoiceKind, at: datetime, expected: list[tuple[str, int]]
) -> None:
    s = sub(plan(3100, pay_in_advance=advance, trial_period_days=10), utc(2026, 8, 1, 9))
    invoice = assemble_period_invoice(s, kind, at, usage={}, finalizing=True)
    assert summary(invoice) == expected


def test_trial_explanation() -> None:
    s = sub(plan(3100, trial_period_days=10), utc(2026, 8, 1))
    (fee,) = assemble_period_invoice(
        s, InvoiceKind.PERIOD_END, utc(2026, 9, 1), usage={}, finalizing=True
    ).fees
    assert fee.explanation == (
        "Plan Pro, 21/31 days of Aug 2026: 31.00 EUR × 21/31 = 21.00 EUR"
        " (free trial until 2026-08-11)"
    )


def test_pay_in_advance_anniversary_from_jan_31_over_three_months() -> None:
    # Anniversary Jan 31: periods Jan 31–Feb 28, Feb 28–Mar 31, Mar 31–Apr 30 (2026).
    p = plan(3000, pay_in_advance=True, charges=(charge(),))
    s = sub(p, utc(2026, 1, 31, 8), billing_time=BillingTime.ANNIVERSARY)
    start = assemble_period_invoice(s, InvoiceKind.START, s.started_at, usage={}, finalizing=True)
    # Invoice 1: full fee of Jan 31–Feb 28 in advance (an anniversary period is never prorated).
    assert summary(start) == [("subscription", 3000)]
    assert start.fees[0].period == Period(utc(2026, 1, 31), utc(2026, 2, 28))
    # Invoice 2 (Feb 28): fee of Feb 28–Mar 31 + usage of Jan 31–Feb 28: 100 × 0.10 = 10.00.
    feb = assemble_period_invoice(
        s, InvoiceKind.PERIOD_END, utc(2026, 2, 28), usage=api_usage(100), finalizing=True
    )
    assert summary(feb) == [("subscription", 3000), ("charge", 1000)]
    assert feb.fees[0].period == Period(utc(2026, 2, 28), utc(2026, 3, 31))
    assert feb.fees[1].period == Period(utc(2026, 1, 31), utc(2026, 2, 28))
    assert feb.totals.total_amount_cents == 4000
    # Invoice 3 (Mar 31): fee of Mar 31–Apr 30 + usage of Feb 28–Mar 31: 50 × 0.10 = 5.00.
    mar = assemble_period_invoice(
        s, InvoiceKind.PERIOD_END, utc(2026, 3, 31), usage=api_usage(50), finalizing=True
    )
    assert summary(mar) == [("subscription", 3000), ("charge", 500)]
    assert mar.fees[0].period == Period(utc(2026, 3, 31), utc(2026, 4, 30))


@pytest.mark.parametrize(
    ("advance", "at", "expected"),
    [
        (False, utc(2026, 2, 1), [("charge", 700)]),  # January usage only: 70 × 0.10
        (False, utc(2027, 1, 1), [("subscription", 120000), ("charge", 700)]),  # + year fee
        (True, utc(2026, 2, 1), [("charge", 700)]),
        (True, utc(2027, 1, 1), [("subscription", 120000), ("charge", 700)]),  # next year's fee
    ],
)
def test_yearly_plan_with_monthly_charges(
    advance: bool, at: datetime, expected: list[tuple[str, int]]
) -> None:
    p = plan(
        120000,
        interval=Interval.YEARLY,
        bill_charges_monthly=True,
        pay_in_advance=advance,
        charges=(charge(),),
    )
    s = sub(p, utc(2026, 1, 1))
    invoice = assemble_period_invoice(
        s, InvoiceKind.PERIOD_END, at, usage=api_usage(70), finalizing=True
    )
    assert summary(invoice) == expected
    assert invoice.charges_period is not None
    assert invoice.charges_period.end == at
    assert invoice.charges_period.start in (utc(2026, 1, 1), utc(2026, 12, 1))
    if advance:
        start = assemble_period_invoice(
            s, InvoiceKind.START, s.started_at, usage={}, finalizing=True
        )
        assert summary(start) == [("subscription", 120000)]


def test_minimum_commitment_true_up() -> None:
    # Lago PR #1787: $50 base + 3 × $10 charges = $80; commitment $100 → true-up $20.
    charges = tuple(charge(f"ch{i}", properties=standard("10")) for i in range(3))
    p = plan(5000, currency=USD, charges=charges, commitment=10000)
    s = sub(p, utc(2026, 1, 1))
    usage = {c.id: {BucketKey(): UsageFacts(Decimal(1), 1)} for c in charges}
    invoice = assemble_period_invoice(
        s, InvoiceKind.PERIOD_END, utc(2026, 2, 1), usage=usage, finalizing=True
    )
    assert summary(invoice) == [
        ("subscription", 5000),
        ("charge", 1000),
        ("charge", 1000),
        ("charge", 1000),
        ("commitment", 2000),
    ]
    assert invoice.totals.fees_amount_cents == 10000
    assert invoice.fees[-1].explanation.endswith("→ true-up 20.00 USD")


def test_minimum_commitment_prorated_on_a_partial_first_month() -> None:
    # From Aug 10: commitment 10000 × 22/31 = 7096.77 → 7097; fee 3548; no usage → 3549.
    p = plan(5000, currency=USD, commitment=10000)
    s = sub(p, utc(2026, 8, 10))
    invoice = assemble_period_invoice(
        s, InvoiceKind.PERIOD_END, utc(2026, 9, 1), usage={}, finalizing=True
    )
    assert summary(invoice) == [("subscription", 3548), ("commitment", 3549)]


def test_full_invoice_with_taxes_and_a_coupon_field_by_field() -> None:
    # €50 plan in arrears + 200 calls × 0.10 = €20; VAT 20 %; a €10 coupon; a €5 credit note;
    # a wallet with €30 of granted credits.
    p = plan(5000, charges=(charge(),), tax_codes=("vat",))
    s = sub(p, utc(2026, 1, 1))
    coupon = AppliedCoupon.new(
        "ac1",
        Coupon("ten", CouponType.FIXED_AMOUNT, amount_cents=1000, currency=EUR),
        utc(2025, 12, 1),
    )
    note = CreditNoteBalance("cn1", 500, EUR, utc(2025, 12, 2))
    wallet = Wallet("w1", EUR, utc(2025, 12, 3), granted_balance_cents=3000)
    invoice = assemble_period_invoice(
        s,
        InvoiceKind.PERIOD_END,
        utc(2026, 2, 1),
        usage=api_usage(200),
        finalizing=True,
        taxes={"vat": VAT},
        applied_coupons=[coupon],
        credit_notes=[note],
        wallets=[wallet],
    )
    t = invoice.totals
    assert t.fees_amount_cents == 7000  # 5000 + 2000
    assert t.coupons_amount_cents == 1000
    assert t.sub_total_excluding_taxes_amount_cents == 6000  # 7000 − 1000
    assert t.taxes_amount_cents == 1200  # 20 % × 6000
    assert t.sub_total_including_taxes_amount_cents == 7200
    assert t.credit_notes_amount_cents == 500
    assert t.prepaid_credit_amount_cents == 3000
    assert t.total_amount_cents == 3700  # 7200 − 500 − 3000
    sub_fee, charge_fee = (t.fee(f.line.id) for f in invoice.fees)
    # coupon 1000 over 5000:2000 → 714.29 / 285.71 → 714 / 286 (largest remainder)
    assert (sub_fee.coupons_amount_cents, charge_fee.coupons_amount_cents) == (714, 286)
    # taxes on bases 4286 / 1714 → 857.2 / 342.8 → 857 / 343
    assert (sub_fee.taxes_amount_cents, charge_fee.taxes_amount_cents) == (857, 343)
    assert invoice.fees[1].line.taxes == (VAT,)  # the charge inherits the plan's taxes
    assert invoice.fees[1].explanation == "API calls: 200 units: 200 × 0.1 EUR = 20.00 EUR"


def test_zero_unit_charges_create_no_invoice_fee() -> None:
    s = sub(plan(0, charges=(charge(),)), utc(2026, 1, 1))
    invoice = assemble_period_invoice(
        s, InvoiceKind.PERIOD_END, utc(2026, 2, 1), usage={}, finalizing=True
    )
    assert summary(invoice) == [("subscription", 0)]


@settings(max_examples=60, deadline=None)
@given(
    amount=st.integers(0, 10**6),
    units=st.integers(0, 10**5),
    day=st.integers(1, 28),
    advance=st.booleans(),
    coupon=st.integers(0, 10**5),
    rate=st.integers(0, 30),
    note=st.integers(0, 10**5),
    wallet=st.integers(0, 10**5),
    commitment=st.none() | st.integers(0, 10**6),
)
def test_total_is_lines_minus_coupons_plus_taxes_minus_credits(
    amount: int,
    units: int,
    day: int,
    advance: bool,
    coupon: int,
    rate: int,
    note: int,
    wallet: int,
    commitment: int | None,
) -> None:
    p = plan(amount, pay_in_advance=advance, charges=(charge(),), commitment=commitment)
    s = sub(p, utc(2026, 3, day))
    invoice = assemble_period_invoice(
        s,
        InvoiceKind.PERIOD_END,
        utc(2026, 4, 1),
        usage=api_usage(units),
        finalizing=True,
        taxes={"t": TaxRate("t", "T", Decimal(rate))},
        default_tax_codes=("t",),
        applied_coupons=[
            AppliedCoupon.new(
                "c", Coupon("c", CouponType.FIXED_AMOUNT, amount_cents=coupon, currency=EUR),
                utc(2026, 1, 1),
            )
        ] if coupon else [],
        credit_notes=[CreditNoteBalance("n", note, EUR, utc(2026, 1, 1))],
        wallets=[Wallet("w", EUR, utc(2026, 1, 1), purchased_balance_cents=wallet)],
    )  # fmt: skip
    t = invoice.totals
    lines = sum(f.line.amount_cents for f in invoice.fees)
    assert t.fees_amount_cents == lines
    assert t.total_amount_cents == (
        lines
        - t.coupons_amount_cents
        + t.taxes_amount_cents
        - t.credit_notes_amount_cents
        - t.prepaid_credit_amount_cents
    )
    assert t.total_amount_cents >= 0
    assert all(f.line.fee_type is not FeeType.COMMITMENT or commitment for f in invoice.fees)
