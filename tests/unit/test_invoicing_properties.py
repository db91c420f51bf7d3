"""Invariants of invoice totals over random invoices (hypothesis).

Each property recomputes the rule independently from the inputs, so it fails if the rule is
broken (e.g. taxes rounded per fee instead of per rate, a coupon share lost, a wallet paying an
ineligible fee or more than is due).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from releve.domain.coupons import AppliedCoupon, Coupon, CouponFrequency, CouponType
from releve.domain.credit_notes import CreditNoteBalance
from releve.domain.fee_lines import FeeLine, FeeType, TaxRate
from releve.domain.invoicing import InvoiceTotals, PaymentStatus, compute_invoice_totals
from releve.domain.money import Currency
from releve.domain.wallets import Wallet

EUR = Currency("EUR", 2)
T0 = datetime(2025, 1, 1, tzinfo=UTC)
RATES = [
    TaxRate("vat_20", "VAT 20", Decimal("20")),
    TaxRate("vat_5_5", "VAT 5.5", Decimal("5.5")),
    TaxRate("gst_7_25", "GST", Decimal("7.25")),
    TaxRate("zero", "Zero", Decimal("0")),
]
PLANS = ["basic", "pro"]
METRICS = ["api", "storage", "seats"]


@st.composite
def fee_lines(draw: st.DrawFn) -> list[FeeLine]:
    count = draw(st.integers(0, 6))
    fees = []
    for i in range(count):
        fee_type = draw(st.sampled_from(list(FeeType)))
        taxes: tuple[TaxRate, ...] = ()
        if fee_type is not FeeType.CREDIT:
            taxes = tuple(draw(st.lists(st.sampled_from(RATES), max_size=3, unique=True)))
        fees.append(
            FeeLine(
                id=f"fee{i}",
                fee_type=fee_type,
                amount_cents=draw(st.integers(0, 1_000_000)),
                currency=EUR,
                plan_code=draw(st.sampled_from([*PLANS, None])),
                billable_metric_code=draw(st.sampled_from([*METRICS, None])),
                taxes=taxes,
            )
        )
    return fees


@st.composite
def applied_coupons(draw: st.DrawFn) -> list[AppliedCoupon]:
    result = []
    for i in range(draw(st.integers(0, 4))):
        frequency = draw(st.sampled_from(list(CouponFrequency)))
        duration = draw(st.integers(1, 3)) if frequency is CouponFrequency.RECURRING else None
        scope = draw(st.sampled_from(["all", "plans", "metrics"]))
        plans = (
            frozenset(draw(st.sets(st.sampled_from(PLANS), min_size=1)))
            if scope == "plans"
            else frozenset()
        )
        metrics = (
            frozenset(draw(st.sets(st.sampled_from(METRICS), min_size=1)))
            if scope == "metrics"
            else frozenset()
        )
        if draw(st.booleans()):
            coupon = Coupon(
                f"c{i}",
                CouponType.FIXED_AMOUNT,
                frequency,
                amount_cents=draw(st.integers(0, 2_000_000)),
                currency=EUR,
                frequency_duration=duration,
                plan_codes=plans,
                billable_metric_codes=metrics,
            )
        else:
            rate = draw(st.decimals(0, 100, places=2))
            coupon = Coupon(
                f"c{i}",
                CouponType.PERCENTAGE,
                frequency,
                percentage_rate=rate,
                frequency_duration=duration,
                plan_codes=plans,
                billable_metric_codes=metrics,
            )
        day = draw(st.integers(0, 5))
        result.append(AppliedCoupon.new(f"ac{i}", coupon, T0 + timedelta(days=day)))
    return result


@st.composite
def wallets(draw: st.DrawFn) -> list[Wallet]:
    return [
        Wallet(
            f"w{i}",
            EUR,
            T0 + timedelta(days=draw(st.integers(0, 3))),
            granted_balance_cents=draw(st.integers(0, 1_000_000)),
            purchased_balance_cents=draw(st.integers(0, 1_000_000)),
            priority=draw(st.integers(1, 50)),
            fee_types=frozenset(draw(st.sets(st.sampled_from(list(FeeType)), max_size=2))),
            billable_metric_codes=frozenset(draw(st.sets(st.sampled_from(METRICS), max_size=2))),
        )
        for i in range(draw(st.integers(0, 3)))
    ]


@st.composite
def credit_notes(draw: st.DrawFn) -> list[CreditNoteBalance]:
    return [
        CreditNoteBalance(f"cn{i}", draw(st.integers(0, 500_000)), EUR, T0 + timedelta(days=i))
        for i in range(draw(st.integers(0, 3)))
    ]


def _wallet_may_pay(wallet: Wallet, fee: FeeLine) -> bool:
    """The wallet scope rule, restated: never a credit purchase; no limit → all fees;
    otherwise the fee's type (adjustments count as charges) or its metric is listed."""
    if fee.fee_type is FeeType.CREDIT:
        return False
    if not wallet.fee_types and not wallet.billable_metric_codes:
        return True
    usage_scope = fee.fee_type is FeeType.ADJUSTMENT and FeeType.CHARGE in wallet.fee_types
    return (
        fee.fee_type in wallet.fee_types
        or usage_scope
        or fee.billable_metric_code in wallet.billable_metric_codes
    )


def _check_invariants(fees: list[FeeLine], t: InvoiceTotals, progressive_input: int) -> None:
    # Totals in Lago's order, from the rounded lines themselves.
    assert t.fees_amount_cents == sum(f.amount_cents for f in fees)
    assert t.total_amount_cents == (
        t.fees_amount_cents
        - t.progressive_billing_credit_amount_cents
        - t.coupons_amount_cents
        + t.taxes_amount_cents
        - t.credit_notes_amount_cents
        - t.prepaid_credit_amount_cents
    )
    assert t.sub_total_excluding_taxes_amount_cents == (
        t.fees_amount_cents - t.progressive_billing_credit_amount_cents - t.coupons_amount_cents
    )
    assert t.sub_total_including_taxes_amount_cents == (
        t.sub_total_excluding_taxes_amount_cents + t.taxes_amount_cents
    )
    assert t.prepaid_credit_amount_cents == (
        t.prepaid_granted_credit_amount_cents + t.prepaid_purchased_credit_amount_cents
    )
    # Progressive credits: only on charge fees, never more than them nor than what was billed.
    charges = sum(f.amount_cents for f in fees if f.fee_type is FeeType.CHARGE)
    assert t.progressive_billing_credit_amount_cents == min(progressive_input, charges)
    # Coupons: each coupon's shares add up to it; per-fee discounts add up to the invoice's.
    for application in t.coupons.applications:
        assert sum(application.fee_shares.values()) == application.amount_cents
    assert sum(b.coupons_amount_cents for b in t.fees) == t.coupons_amount_cents
    assert t.coupons_amount_cents == sum(a.amount_cents for a in t.coupons.applications)
    scopes = [
        next(c.coupon.scope for c in t.coupons.updated if c.id == a.applied_coupon_id)
        for a in t.coupons.applications
    ]
    assert scopes == sorted(scopes)
    # Taxes: per rate, rounded once on Σ taxable bases; per-fee shares add up to it.
    by_id = {f.id: f for f in fees}
    for tax in t.applied_taxes:
        base = sum(
            b.sub_total_excluding_taxes_amount_cents
            for b in t.fees
            if any(r.code == tax.tax_code for r in by_id[b.fee_id].taxes)
        )
        exact = Decimal(base) * tax.tax_rate / 100
        assert tax.base_amount_cents == base
        assert tax.amount_cents == int(exact.quantize(Decimal(1), rounding=ROUND_HALF_UP))
        assert sum(b.taxes.get(tax.tax_code, 0) for b in t.fees) == tax.amount_cents
    assert t.taxes_amount_cents == sum(tax.amount_cents for tax in t.applied_taxes)
    # Wallets: only eligible fees, never more than the balance.
    balances = {w.id: w.balance_cents for w in t.wallets.updated}
    for c in t.wallets.consumptions:
        wallet = next(w for w in t.wallets.updated if w.id == c.wallet_id)
        assert all(_wallet_may_pay(wallet, by_id[i]) for i in c.fee_shares)
        assert sum(c.fee_shares.values()) == c.amount_cents
        assert balances[c.wallet_id] >= 0
    # Each per-fee column adds up to the invoice amount of the same name.
    for column in (
        "progressive_billing_credit_amount_cents",
        "taxes_amount_cents",
        "sub_total_including_taxes_amount_cents",
        "credit_notes_amount_cents",
        "prepaid_credit_amount_cents",
        "total_amount_cents",
    ):
        assert sum(getattr(b, column) for b in t.fees) == getattr(t, column)
    # Nothing negative anywhere; a zero total is paid.
    for b in t.fees:
        assert (
            min(
                b.progressive_billing_credit_amount_cents,
                b.coupons_amount_cents,
                b.sub_total_excluding_taxes_amount_cents,
                b.taxes_amount_cents,
                b.credit_notes_amount_cents,
                b.prepaid_credit_amount_cents,
                b.total_amount_cents,
            )
            >= 0
        )
    for name in (
        "progressive_billing_credit_amount_cents",
        "coupons_amount_cents",
        "sub_total_excluding_taxes_amount_cents",
        "taxes_amount_cents",
        "credit_notes_amount_cents",
        "prepaid_credit_amount_cents",
        "total_amount_cents",
    ):
        assert getattr(t, name) >= 0, name
    assert (t.payment_status is PaymentStatus.SUCCEEDED) == (t.total_amount_cents == 0)


@settings(max_examples=300, deadline=None)
@given(
    fees=fee_lines(),
    coupons=applied_coupons(),
    notes=credit_notes(),
    prepaid=wallets(),
    progressive=st.integers(0, 2_000_000),
    finalizing=st.booleans(),
)
def test_invoice_totals_invariants(
    fees: list[FeeLine],
    coupons: list[AppliedCoupon],
    notes: list[CreditNoteBalance],
    prepaid: list[Wallet],
    progressive: int,
    finalizing: bool,
) -> None:
    totals = compute_invoice_totals(
        fees,
        EUR,
        finalizing=finalizing,
        progressive_billing_credit_amount_cents=progressive,
        applied_coupons=coupons,
        credit_notes=notes,
        wallets=prepaid,
    )
    _check_invariants(fees, totals, progressive)
    if not finalizing:
        assert totals.prepaid_credit_amount_cents == 0
    # Balances spent are exactly what the invoice shows.
    assert (
        sum(n.balance_amount_cents for n in notes)
        - sum(n.balance_amount_cents for n in totals.credit_notes.updated)
        == totals.credit_notes_amount_cents
    )
    if finalizing:
        assert (
            sum(w.balance_cents for w in prepaid)
            - sum(w.balance_cents for w in totals.wallets.updated)
            == totals.prepaid_credit_amount_cents
        )
