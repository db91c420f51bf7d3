"""Invoice totals, end to end in Lago's order (acceptance cases with hand-computed values)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from releve.domain.coupons import AppliedCoupon, Coupon, CouponType
from releve.domain.credit_notes import CreditNoteBalance
from releve.domain.fee_lines import FeeLine, FeeType, InvalidFeeLine, TaxRate
from releve.domain.invoicing import (
    PaymentStatus,
    ZeroAmountInvoicePolicy,
    compute_invoice_totals,
    finalize_zero_amount_invoice,
)
from releve.domain.money import Currency, CurrencyMismatch
from releve.domain.wallets import Wallet

USD = Currency("USD", 2)
EUR = Currency("EUR", 2)
JPY = Currency("JPY", 0)
KWD = Currency("KWD", 3)
T0 = datetime(2025, 1, 1, tzinfo=UTC)
VAT10 = TaxRate("vat_10", "VAT 10%", Decimal("10"))
VAT20 = TaxRate("vat_20", "VAT 20%", Decimal("20"))
VAT55 = TaxRate("vat_5_5", "VAT 5.5%", Decimal("5.5"))


def fee(
    id: str,
    amount: int,
    fee_type: FeeType = FeeType.CHARGE,
    *,
    currency: Currency = USD,
    taxes: tuple[TaxRate, ...] = (),
    plan: str | None = "pro",
    metric: str | None = None,
) -> FeeLine:
    return FeeLine(
        id=id,
        fee_type=fee_type,
        amount_cents=amount,
        currency=currency,
        plan_code=plan,
        billable_metric_code=metric,
        taxes=taxes,
    )


def fixed_once(code: str, cents: int, currency: Currency = USD, days: int = 0) -> AppliedCoupon:
    coupon = Coupon(code, CouponType.FIXED_AMOUNT, amount_cents=cents, currency=currency)
    return AppliedCoupon.new(code, coupon, T0 + timedelta(days=days))


def test_lago_changelog_example_under_current_rules() -> None:
    # subscription $50 + usage $20, coupon $10, tax 10 %, prepaid $30 → $36 (lago-api.md §4.3).
    fees = [
        fee("sub", 5000, FeeType.SUBSCRIPTION, taxes=(VAT10,)),
        fee("usage", 2000, taxes=(VAT10,), metric="api_calls"),
    ]
    wallet = Wallet("w", USD, T0, purchased_balance_cents=3000)
    totals = compute_invoice_totals(
        fees, USD, finalizing=True, applied_coupons=[fixed_once("ten", 1000)], wallets=[wallet]
    )
    assert totals.fees_amount_cents == 7000
    assert totals.progressive_billing_credit_amount_cents == 0
    assert totals.coupons_amount_cents == 1000
    assert totals.sub_total_excluding_taxes_amount_cents == 6000  # 7000 − 1000
    assert totals.taxes_amount_cents == 600  # 6000 × 10 %
    assert totals.taxes_rate == Decimal("10.00000")
    assert totals.sub_total_including_taxes_amount_cents == 6600
    assert totals.credit_notes_amount_cents == 0
    assert totals.prepaid_credit_amount_cents == 3000
    assert totals.prepaid_purchased_credit_amount_cents == 3000
    assert totals.prepaid_granted_credit_amount_cents == 0
    assert totals.total_amount_cents == 3600  # 6600 − 3000
    assert totals.payment_status is PaymentStatus.PENDING
    # Coupon 1000 over 5000:2000 → 714.29 / 285.71 → floors 714 + 285, +1 to usage (.71 > .29).
    sub, usage = totals.fee("sub"), totals.fee("usage")
    assert (sub.coupons_amount_cents, usage.coupons_amount_cents) == (714, 286)
    assert (
        sub.sub_total_excluding_taxes_amount_cents,
        usage.sub_total_excluding_taxes_amount_cents,
    ) == (4286, 1714)
    # Tax 600 over 4286:1714 → 428.6 / 171.4 → 428 + 171, +1 to sub (.6 > .4).
    assert (sub.taxes_amount_cents, usage.taxes_amount_cents) == (429, 171)
    assert sub.taxes == {"vat_10": 429}
    # Wallet 3000 over dues 4715:1885 → 2143.18 / 856.82 → 2143 + 856, +1 to usage.
    assert (sub.prepaid_credit_amount_cents, usage.prepaid_credit_amount_cents) == (2143, 857)
    assert (sub.total_amount_cents, usage.total_amount_cents) == (2572, 1028)
    [tax] = totals.applied_taxes
    assert (tax.tax_code, tax.base_amount_cents, tax.amount_cents) == ("vat_10", 6000, 600)
    [coupon_state] = totals.coupons.updated
    assert coupon_state.amount_cents_remaining == 0
    assert not coupon_state.is_active
    [wallet_after] = totals.wallets.updated
    assert wallet_after.balance_cents == 0


def test_draft_shows_no_wallet_consumption() -> None:
    fees = [fee("sub", 5000, FeeType.SUBSCRIPTION, taxes=(VAT10,))]
    wallet = Wallet("w", USD, T0, purchased_balance_cents=3000)
    totals = compute_invoice_totals(fees, USD, finalizing=False, wallets=[wallet])
    assert totals.prepaid_credit_amount_cents == 0
    assert totals.total_amount_cents == 5500  # 5000 + 10 %
    assert totals.wallets.updated == ()


def test_two_rates_on_different_fees() -> None:
    # 20 % on 1234 → 246.8; 5.5 % on 999 → 54.945; each rounded once: 247 and 55.
    fees = [
        fee("a", 1234, taxes=(VAT20,)),
        fee("b", 999, FeeType.ADD_ON, taxes=(VAT55,), plan=None),
        fee("c", 500, FeeType.SUBSCRIPTION),  # untaxed
    ]
    totals = compute_invoice_totals(fees, USD, finalizing=True)
    by_code = {t.tax_code: t for t in totals.applied_taxes}
    assert (by_code["vat_20"].base_amount_cents, by_code["vat_20"].amount_cents) == (1234, 247)
    assert (by_code["vat_5_5"].base_amount_cents, by_code["vat_5_5"].amount_cents) == (999, 55)
    assert totals.taxes_amount_cents == 302
    assert totals.sub_total_excluding_taxes_amount_cents == 2733  # 1234 + 999 + 500
    # Effective rate: 302 / 2733 × 100 = 11.050128… → 11.05013.
    assert totals.taxes_rate == Decimal("11.05013")
    assert totals.total_amount_cents == 3035
    assert totals.fee("c").taxes_amount_cents == 0
    assert totals.fee("a").taxes_rate == Decimal("20")


def test_taxes_rounded_once_per_rate_not_per_fee() -> None:
    # Three fees of 5 cents at 10 %: per fee 0.5 → would round to 1 each (3); per rate
    # 15 × 10 % = 1.5 → 2. The per-fee display allocates 2 over 5:5:5 → 1, 1, 0.
    fees = [fee(f"f{i}", 5, taxes=(VAT10,)) for i in range(3)]
    totals = compute_invoice_totals(fees, USD, finalizing=True)
    assert totals.taxes_amount_cents == 2
    assert [b.taxes_amount_cents for b in totals.fees] == [1, 1, 0]


def test_progressive_credits_only_reduce_charge_fees_and_excess_is_reported() -> None:
    # Already billed 2600 by progressive invoices; usage fees are 1000 + 1500 = 2500.
    fees = [
        fee("sub", 3000, FeeType.SUBSCRIPTION, taxes=(VAT10,)),
        fee("u1", 1000, taxes=(VAT10,), metric="a"),
        fee("u2", 1500, taxes=(VAT10,), metric="b"),
    ]
    totals = compute_invoice_totals(
        fees, USD, finalizing=True, progressive_billing_credit_amount_cents=2600
    )
    assert totals.progressive_billing_credit_amount_cents == 2500
    assert totals.progressive_billing_credit_unapplied_amount_cents == 100
    assert totals.sub_total_excluding_taxes_amount_cents == 3000  # 5500 − 2500
    assert totals.taxes_amount_cents == 300
    assert totals.fee("sub").progressive_billing_credit_amount_cents == 0
    assert totals.total_amount_cents == 3300


def test_progressive_credit_split_pro_rata_then_coupon_on_what_is_left() -> None:
    # Credit 1000 over 1000:3000 → 250 / 750; bases 750 / 2250 + sub 1000.
    # 10 % coupon on 4000 = 400, over 1000:750:2250 → 100 / 75 / 225.
    fees = [
        fee("sub", 1000, FeeType.SUBSCRIPTION),
        fee("u1", 1000, metric="a"),
        fee("u2", 3000, metric="b"),
    ]
    pct = Coupon("pct", CouponType.PERCENTAGE, percentage_rate=Decimal("10"))
    totals = compute_invoice_totals(
        fees,
        USD,
        finalizing=True,
        progressive_billing_credit_amount_cents=1000,
        applied_coupons=[AppliedCoupon.new("c", pct, T0)],
    )
    assert [b.progressive_billing_credit_amount_cents for b in totals.fees] == [0, 250, 750]
    assert [b.coupons_amount_cents for b in totals.fees] == [100, 75, 225]
    assert totals.total_amount_cents == 3600  # 5000 − 1000 − 400


def test_credit_notes_partially_exhausted_then_wallet() -> None:
    # Due 1100 (1000 + 10 %). Notes: old 300 then new 1000 → 300 + 800, new keeps 200.
    fees = [fee("sub", 1000, FeeType.SUBSCRIPTION, taxes=(VAT10,))]
    notes = [
        CreditNoteBalance("new", 1000, USD, T0 + timedelta(days=2)),
        CreditNoteBalance("old", 300, USD, T0),
    ]
    wallet = Wallet("w", USD, T0, granted_balance_cents=500)
    totals = compute_invoice_totals(
        fees, USD, finalizing=True, credit_notes=notes, wallets=[wallet]
    )
    assert totals.credit_notes_amount_cents == 1100
    assert [(c.credit_note_id, c.amount_cents) for c in totals.credit_notes.consumptions] == [
        ("old", 300),
        ("new", 800),
    ]
    assert [n.balance_amount_cents for n in totals.credit_notes.updated] == [0, 200]
    assert totals.prepaid_credit_amount_cents == 0  # nothing left for the wallet
    assert totals.total_amount_cents == 0
    assert totals.payment_status is PaymentStatus.SUCCEEDED


def test_credit_note_then_scoped_wallet_pays_only_what_is_left_of_its_fees() -> None:
    # sub 1000 + usage 1000, credit note 500 → pro rata 250 / 250; dues 750 / 750.
    # A charge-only wallet of 2000 pays 750; total 750.
    fees = [fee("sub", 1000, FeeType.SUBSCRIPTION), fee("u", 1000, metric="m")]
    totals = compute_invoice_totals(
        fees,
        USD,
        finalizing=True,
        credit_notes=[CreditNoteBalance("cn", 500, USD, T0)],
        wallets=[
            Wallet(
                "w", USD, T0, purchased_balance_cents=2000, fee_types=frozenset({FeeType.CHARGE})
            )
        ],
    )
    assert totals.fee("u").credit_notes_amount_cents == 250
    assert totals.prepaid_credit_amount_cents == 750
    assert totals.total_amount_cents == 750
    assert totals.wallets.updated[0].balance_cents == 1250


def test_jpy_has_no_minor_unit() -> None:
    # ¥1,001 + ¥500 at 10 %, 15 % coupon: 1501 × 15 % = 225.15 → 225; base 1276;
    # tax 127.6 → 128; total 1404.
    fees = [
        fee("a", 1001, currency=JPY, taxes=(VAT10,)),
        fee("b", 500, FeeType.SUBSCRIPTION, currency=JPY, taxes=(VAT10,)),
    ]
    pct = Coupon("p", CouponType.PERCENTAGE, percentage_rate=Decimal("15"))
    totals = compute_invoice_totals(
        fees, JPY, finalizing=True, applied_coupons=[AppliedCoupon.new("c", pct, T0)]
    )
    assert totals.coupons_amount_cents == 225
    assert totals.taxes_amount_cents == 128
    assert totals.total_amount_cents == 1404


def test_kwd_three_decimals() -> None:
    # 12.345 KWD (12345 fils) at 5.5 % = 678.975 fils → 679; fixed coupon 1.000 KWD first:
    # base 11345 × 5.5 % = 623.975 → 624; total 11345 + 624 = 11969 fils.
    fees = [fee("a", 12345, currency=KWD, taxes=(VAT55,))]
    totals = compute_invoice_totals(
        fees, KWD, finalizing=True, applied_coupons=[fixed_once("k", 1000, KWD)]
    )
    assert totals.taxes_amount_cents == 624
    assert totals.total_amount_cents == 11969


def test_fee_in_other_currency_is_refused() -> None:
    with pytest.raises(CurrencyMismatch) as err:
        compute_invoice_totals([fee("a", 1, currency=EUR)], USD, finalizing=True)
    assert err.value.field == "currency"


def test_duplicate_fee_ids_are_refused() -> None:
    with pytest.raises(InvalidFeeLine) as err:
        compute_invoice_totals([fee("a", 1), fee("a", 2)], USD, finalizing=True)
    assert err.value.field == "fees"


def test_empty_invoice_is_zero_and_paid() -> None:
    totals = compute_invoice_totals([], USD, finalizing=True)
    assert totals.total_amount_cents == 0
    assert totals.taxes_rate == Decimal("0.00000")
    assert totals.payment_status is PaymentStatus.SUCCEEDED


INH, FIN, SKIP = (
    ZeroAmountInvoicePolicy.INHERIT,
    ZeroAmountInvoicePolicy.FINALIZE,
    ZeroAmountInvoicePolicy.SKIP,
)


@pytest.mark.parametrize(
    ("total", "customer", "organization", "expected"),
    [
        (0, INH, INH, True),  # nobody decided: Lago's default, finalize
        (0, INH, SKIP, False),
        (0, INH, FIN, True),
        (0, SKIP, FIN, False),  # the customer's own setting wins
        (0, FIN, SKIP, True),
        (1, SKIP, SKIP, True),  # a non-zero invoice is always finalized
    ],
)
def test_finalize_zero_amount_invoice(
    total: int,
    customer: ZeroAmountInvoicePolicy,
    organization: ZeroAmountInvoicePolicy,
    expected: bool,
) -> None:
    assert finalize_zero_amount_invoice(total, customer, organization) is expected
