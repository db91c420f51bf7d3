"""Plan changes: upgrade/downgrade decision, Lago's upgrade example, termination credits, and no
day billed twice across an upgrade."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from fractions import Fraction
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from releve.domain.billing.period_invoice import InvoiceKind, assemble_period_invoice
from releve.domain.billing.plan_change import (
    ChangeKind,
    PrepaidFee,
    change_kind,
    downgrade,
    terminate,
    upgrade,
)
from releve.domain.errors import DomainError
from releve.domain.fee_lines import FeeType, TaxRate
from releve.domain.filters import BucketKey
from releve.domain.periods import BillingTime, Interval, Period
from releve.domain.plans import Plan
from releve.domain.subscriptions import (
    OnTerminationCreditNote,
    OnTerminationInvoice,
    Subscription,
    SubscriptionStatus,
)
from releve.domain.usage import UsageFacts
from tests.unit.test_billing_factories import charge, plan, utc

UTC_ZONE = ZoneInfo("UTC")
VAT = TaxRate("vat", "VAT", Decimal(20))


def sub(
    p: Plan, started_at: datetime, billing_time: BillingTime = BillingTime.CALENDAR
) -> Subscription:
    return Subscription("s_old", "ext", p, billing_time, UTC_ZONE, started_at)


def sub_fees(invoice: object) -> list[int]:
    return [
        f.line.amount_cents
        for f in invoice.fees  # type: ignore[attr-defined]
        if f.line.fee_type is FeeType.SUBSCRIPTION
    ]


@pytest.mark.parametrize(
    ("old", "new", "kind"),
    [
        (plan(10000), plan(10000), ChangeKind.UPGRADE),  # equal is an upgrade (Lago)
        (plan(10000), plan(10001), ChangeKind.UPGRADE),
        (plan(10000), plan(9999), ChangeKind.DOWNGRADE),
        # 100 €/month = 1200 €/year vs 1199 €/year → downgrade; 1200 → upgrade
        (plan(10000), plan(119900, interval=Interval.YEARLY), ChangeKind.DOWNGRADE),
        (plan(10000), plan(120000, interval=Interval.YEARLY), ChangeKind.UPGRADE),
        # weekly × 52: 2308 × 52 = 120016 ≥ 120000
        (plan(10000), plan(2308, interval=Interval.WEEKLY), ChangeKind.UPGRADE),
        (plan(10000), plan(2307, interval=Interval.WEEKLY), ChangeKind.DOWNGRADE),
    ],
)
def test_change_kind(old: Plan, new: Plan, kind: ChangeKind) -> None:
    assert change_kind(old, new) is kind


def test_lago_upgrade_example_arrears_calendar() -> None:
    a = plan(10000, code="a", name="A")
    b = plan(20000, code="b", name="B")
    old = sub(a, utc(2026, 1, 1))
    change = upgrade(old, b, utc(2026, 1, 15, 10), new_subscription_id="s_new")
    assert change.terminated.status is SubscriptionStatus.TERMINATED
    assert change.terminated.terminated_at == utc(2026, 1, 15, 10)
    assert change.credit is None  # arrears: nothing was prepaid
    # Jan 15 invoice: A for Jan 1–14 = 14/31 × 100 = 45.16
    old_invoice = assemble_period_invoice(
        change.terminated, change.old_invoice, utc(2026, 1, 15, 10), usage={}, finalizing=True
    )
    assert sub_fees(old_invoice) == [4516]
    # New subscription: nothing at start (arrears), B 17/31 × 200 = 109.68 at the period end.
    start = assemble_period_invoice(
        change.new, change.new_invoice, change.new.started_at, usage={}, finalizing=True
    )
    assert start.fees == ()
    end = assemble_period_invoice(
        change.new, InvoiceKind.PERIOD_END, utc(2026, 2, 1), usage={}, finalizing=True
    )
    assert sub_fees(end) == [10968]
    assert end.fees[0].explanation == (
        "Plan B, 17/31 days of Jan 2026: 200.00 EUR × 17/31 = 109.68 EUR"
    )


def test_upgrade_of_an_in_advance_plan_credits_unused_days_and_bills_the_new_plan() -> None:
    a = plan(3100, code="a", pay_in_advance=True)
    b = plan(6200, code="b", pay_in_advance=True)
    old = sub(a, utc(2026, 1, 1))
    prepaid = PrepaidFee(Period(utc(2026, 1, 1), utc(2026, 2, 1)), 3100, taxes=(VAT,))
    change = upgrade(old, b, utc(2026, 1, 11, 8), new_subscription_id="s_new", prepaid_fee=prepaid)
    # Unused Jan 11–31 = 21 of 31 billed days: 3100 × 21/31 = 2100, + 20 % VAT = 420.
    assert change.credit is not None
    assert change.credit.fraction == Fraction(21, 31)
    assert (change.credit.credit.amount_cents, change.credit.credit.total_amount_cents) == (
        2100,
        2520,
    )
    old_invoice = assemble_period_invoice(
        change.terminated, InvoiceKind.UPGRADE, utc(2026, 1, 11, 8), usage={}, finalizing=True
    )
    assert sub_fees(old_invoice) == []  # prepaid: no fee
    start = assemble_period_invoice(
        change.new, InvoiceKind.START, change.new.started_at, usage={}, finalizing=True
    )
    assert sub_fees(start) == [4200]  # 6200 × 21/31


def test_termination_mid_period_of_an_in_advance_plan() -> None:
    p = plan(3100, pay_in_advance=True, charges=(charge(),))
    s = sub(p, utc(2026, 1, 1))
    prepaid = PrepaidFee(Period(utc(2026, 1, 1), utc(2026, 2, 1)), 3100, 310, (VAT,))
    outcome = terminate(s, utc(2026, 1, 10, 15), prepaid_fee=prepaid)
    # Used Jan 1–10 (the termination day counts): unused 21/31 of the prepaid fee.
    assert outcome.credit is not None and outcome.credit.unused.start == utc(2026, 1, 11)
    credit = outcome.credit.credit
    # 3100 × 21/31 = 2100; coupon share 310 × 21/31 = 210; base 1890; VAT 378; total 2268.
    assert (
        credit.amount_cents,
        credit.coupons_adjustment_amount_cents,
        credit.sub_total_excluding_taxes_amount_cents,
        credit.taxes_amount_cents,
        credit.total_amount_cents,
    ) == (2100, 210, 1890, 378, 2268)
    assert outcome.invoice is InvoiceKind.TERMINATION
    invoice = assemble_period_invoice(
        outcome.subscription,
        InvoiceKind.TERMINATION,
        utc(2026, 1, 10, 15),
        usage={"ch_api": {BucketKey(): UsageFacts(Decimal(30), 3)}},
        finalizing=True,
    )
    assert [(f.line.fee_type, f.line.amount_cents) for f in invoice.fees] == [(FeeType.CHARGE, 300)]
    assert invoice.charges_period == Period(utc(2026, 1, 1), utc(2026, 1, 11))


def test_termination_of_an_arrears_plan_bills_the_used_days() -> None:
    s = sub(plan(3100), utc(2026, 1, 1))
    outcome = terminate(
        s, utc(2026, 1, 10, 15), on_termination_credit_note=OnTerminationCreditNote.REFUND
    )
    assert outcome.credit is None
    invoice = assemble_period_invoice(
        outcome.subscription,
        InvoiceKind.TERMINATION,
        utc(2026, 1, 10, 15),
        usage={},
        finalizing=True,
    )
    assert sub_fees(invoice) == [1000]  # 10/31 × 3100


@pytest.mark.parametrize(
    ("action", "invoice_choice", "has_credit", "invoice"),
    [
        (
            OnTerminationCreditNote.CREDIT,
            OnTerminationInvoice.GENERATE,
            True,
            InvoiceKind.TERMINATION,
        ),
        (OnTerminationCreditNote.REFUND, OnTerminationInvoice.SKIP, True, None),
        (
            OnTerminationCreditNote.OFFSET,
            OnTerminationInvoice.GENERATE,
            True,
            InvoiceKind.TERMINATION,
        ),
        (
            OnTerminationCreditNote.SKIP,
            OnTerminationInvoice.GENERATE,
            False,
            InvoiceKind.TERMINATION,
        ),
    ],
)
def test_termination_options(
    action: OnTerminationCreditNote,
    invoice_choice: OnTerminationInvoice,
    has_credit: bool,
    invoice: InvoiceKind | None,
) -> None:
    s = sub(plan(3100, pay_in_advance=True), utc(2026, 1, 1))
    prepaid = PrepaidFee(Period(utc(2026, 1, 1), utc(2026, 2, 1)), 3100)
    outcome = terminate(
        s,
        utc(2026, 1, 10),
        on_termination_invoice=invoice_choice,
        on_termination_credit_note=action,
        prepaid_fee=prepaid,
    )
    assert (outcome.credit is not None, outcome.invoice, outcome.credit_action) == (
        has_credit,
        invoice,
        action,
    )


def test_downgrade_waits_for_period_end_and_a_second_one_cancels_the_first() -> None:
    current = sub(plan(10000, code="big"), utc(2026, 1, 1))
    first = downgrade(current, plan(5000, code="mid"), utc(2026, 1, 15), new_subscription_id="p1")
    assert first.pending.status is SubscriptionStatus.PENDING
    assert first.effective_at == utc(2026, 2, 1) and first.pending.started_at == utc(2026, 2, 1)
    assert first.canceled is None and first.current is current
    second = downgrade(
        current,
        plan(1000, code="small"),
        utc(2026, 1, 20),
        new_subscription_id="p2",
        pending=first.pending,
    )
    assert second.canceled is not None and second.canceled.status is SubscriptionStatus.CANCELED
    assert second.pending.id == "p2"


def test_wrong_direction_and_inactive_subscriptions_are_refused() -> None:
    current = sub(plan(10000), utc(2026, 1, 1))
    with pytest.raises(DomainError):
        upgrade(current, plan(1), utc(2026, 1, 2), new_subscription_id="x")
    with pytest.raises(DomainError):
        downgrade(current, plan(20000), utc(2026, 1, 2), new_subscription_id="x")
    done = terminate(current, utc(2026, 1, 2)).subscription
    with pytest.raises(DomainError):
        upgrade(done, plan(20000), utc(2026, 1, 3), new_subscription_id="x")


def test_terminating_a_pending_subscription_cancels_it() -> None:
    pending = Subscription(
        "p", "ext", plan(1), BillingTime.CALENDAR, UTC_ZONE, utc(2026, 2, 1),
        status=SubscriptionStatus.PENDING,
    )  # fmt: skip
    outcome = terminate(pending, utc(2026, 1, 10))
    assert outcome.subscription.status is SubscriptionStatus.CANCELED and outcome.invoice is None


@settings(max_examples=80, deadline=None)
@given(
    start_day=st.integers(1, 28),
    change_offset=st.integers(0, 60),
    change_hour=st.integers(0, 23),
    old_advance=st.booleans(),
    new_advance=st.booleans(),
    anniversary=st.booleans(),
)
def test_an_upgrade_never_bills_a_day_twice(
    start_day: int,
    change_offset: int,
    change_hour: int,
    old_advance: bool,
    new_advance: bool,
    anniversary: bool,
) -> None:
    from datetime import timedelta

    billing_time = BillingTime.ANNIVERSARY if anniversary else BillingTime.CALENDAR
    old = sub(
        plan(3100, code="a", pay_in_advance=old_advance), utc(2026, 1, start_day), billing_time
    )
    at = utc(2026, 1, start_day, change_hour) + timedelta(days=change_offset)
    period = old.fee_period(at)
    full_days = old.full_period(period).days(UTC_ZONE)
    prepaid = PrepaidFee(period, 3100) if old_advance else None
    change = upgrade(
        old, plan(6200, code="b", pay_in_advance=new_advance), at,
        new_subscription_id="n", prepaid_fee=prepaid,
    )  # fmt: skip
    # Days billed for `period` by the old subscription, net of the credited unused days.
    if old_advance:
        old_days = period.days(UTC_ZONE) - (
            change.credit.unused.days(UTC_ZONE) if change.credit else 0
        )
    else:
        old_invoice = assemble_period_invoice(
            change.terminated, InvoiceKind.UPGRADE, at, usage={}, finalizing=False
        )
        old_days = sum(f.subscription_fee.paid_days for f in old_invoice.fees if f.subscription_fee)
    kind, when = (InvoiceKind.START, at) if new_advance else (InvoiceKind.PERIOD_END, period.end)
    new_invoice = assemble_period_invoice(change.new, kind, when, usage={}, finalizing=False)
    new_fees = [f.subscription_fee for f in new_invoice.fees if f.subscription_fee]
    new_days = sum(f.paid_days for f in new_fees if f.period.start < period.end)
    factors = sum((f.factor for f in new_fees if f.period.start < period.end), Fraction(0))
    assert old_days + new_days == period.days(UTC_ZONE)  # every day once, none twice
    assert Fraction(old_days, full_days) + factors <= 1
