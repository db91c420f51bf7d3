"""One subscription invoice: which fees it carries, priced, as `FeeLine`s, with its totals.

`InvoiceKind` says when the invoice is issued and therefore which fees it contains
(lago-api.md §4.1, §4.3); `at` is the instant it is issued:

- ``START`` (`at` = the start): the in-advance subscription fee of the first period (prorated
  for a partial calendar period). Nothing for arrears plans, nor while a trial runs.
- ``PERIOD_END`` (`at` = a period boundary): the arrears fee of the fee period ending at `at`;
  for in-advance plans the fee of the period *starting* at `at` (Lago: the invoice at the start
  of period N+1 carries the fee of N+1 plus the usage of N); the usage charges of the charge
  period ending at `at` (a month with bill_charges_monthly, else the fee period); when a fee
  period ends, the plan's minimum-commitment true-up.
- ``TRIAL_END`` (`at` = the trial end): in-advance plans whose trial ends inside a period get
  that period's fee from the trial end (arrears plans wait for the period end).
- ``TERMINATION`` (`at` = termination instant, its day counted as used): the arrears fee of the
  used days, the usage charges so far, the prorated commitment true-up. In-advance plans bill
  no fee (it was prepaid; `plan_change` computes the credit for unused days).
- ``UPGRADE`` (the old subscription at the change): as termination, but the change day belongs
  to the new plan (`proration.split_at_day`), so no day is billed twice.
- ``ADJUSTMENT`` (a terminated subscription's late usage, `at` = when that usage was last
  written): no fee of its own, only the `adjustments` lines — there is no next invoice to carry
  them.

Only arrears charges appear: pay-in-advance charges are billed event by event. A charge bucket
with 0 units and 0 amount creates no fee (Lago). A subscription fee due on the invoice is shown
even at 0 (a free plan, an arrears period inside the trial) with its explanation.

Money: every fee is rounded once (charge_fees, subscription_fee); the commitment is prorated
exactly then rounded once; totals are `invoicing.compute_invoice_totals` of the rounded lines.
Taxes: a fee's own tax codes, else the plan's, else `default_tax_codes` (customer/organization).
"""

from __future__ import annotations

import enum
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from fractions import Fraction

from releve.domain.billing.charge_fees import ChargeFee, ChargeFeeKind, price_charge, prorated_cents
from releve.domain.billing.subscription_fee import SubscriptionFee, subscription_fee
from releve.domain.charge_models.breakdown import AmountDetails, total_text
from releve.domain.coupons import AppliedCoupon
from releve.domain.credit_notes import CreditNoteBalance
from releve.domain.errors import DomainError
from releve.domain.fee_lines import FeeLine, FeeType, TaxRate
from releve.domain.filters import BucketKey
from releve.domain.invoicing import InvoiceTotals, compute_invoice_totals
from releve.domain.money import Rounding, minor_to_major
from releve.domain.periods import BillingTime, Interval, Period, PeriodGrid
from releve.domain.plans import Charge
from releve.domain.pricing import plan_minimum_commitment_true_up
from releve.domain.proration import (
    proration_factor,
    split_at_day,
    split_trial,
    used_until_termination,
)
from releve.domain.subscriptions import Subscription
from releve.domain.usage import UsageFacts
from releve.domain.wallets import Wallet


class InvoiceKind(enum.Enum):
    START = "start"
    PERIOD_END = "period_end"
    TRIAL_END = "trial_end"
    TERMINATION = "termination"
    UPGRADE = "upgrade"
    ADJUSTMENT = "adjustment"


@dataclass(frozen=True, slots=True)
class InvoiceFee:
    """A fee line with the evidence behind it: the sentence and Lago's `amount_details`.

    `period` is the fee's from/to (half-open, UTC); `charge_id` is set on charge fees and their
    true-ups.
    """

    line: FeeLine
    explanation: str
    period: Period
    amount_details: AmountDetails = field(default_factory=dict)
    charge_id: str | None = None
    charge_fee: ChargeFee | None = None
    subscription_fee: SubscriptionFee | None = None


@dataclass(frozen=True, slots=True)
class AssembledInvoice:
    kind: InvoiceKind
    subscription_id: str
    issued_at: datetime
    fees: tuple[InvoiceFee, ...]
    totals: InvoiceTotals
    charges_period: Period | None = None

    @property
    def lines(self) -> tuple[FeeLine, ...]:
        return tuple(f.line for f in self.fees)

    def fee(self, fee_id: str) -> InvoiceFee:
        return next(f for f in self.fees if f.line.id == fee_id)


@dataclass(frozen=True, slots=True)
class _Plan:
    """What an invoice kind bills: subscription-fee periods, the charge period, the commitment."""

    fee_periods: tuple[Period, ...] = ()
    charge_period: Period | None = None
    commitment_period: Period | None = None


def _what_to_bill(sub: Subscription, kind: InvoiceKind, at: datetime) -> _Plan:
    plan, tz = sub.plan, sub.tz
    if kind is InvoiceKind.ADJUSTMENT:
        return _Plan()  # only the late-event adjustment lines
    if kind is InvoiceKind.START:
        first = sub.fee_period(sub.start)
        due = plan.pay_in_advance and sub.trial_ends_at <= first.start
        return _Plan(fee_periods=(first,) if due else ())
    if kind is InvoiceKind.TRIAL_END:
        period = sub.fee_period(at)
        due = plan.pay_in_advance and period.start < at == sub.trial_ends_at
        return _Plan(fee_periods=(period,) if due else ())
    if kind is InvoiceKind.PERIOD_END:
        ended = sub.fee_period_ending(at)
        charges = sub.charge_period_ending(at)
        if ended is None and charges is None:
            raise DomainError("no billing period ends at this instant", field="at")
        fees: tuple[Period, ...] = ()
        if ended is not None and not plan.pay_in_advance:
            fees = (ended,)
        elif ended is not None and (sub.terminated_at is None or sub.terminated_at > at):
            following = sub.fee_period(at)
            fees = (following,) if sub.trial_ends_at <= following.start else ()
        return _Plan(fee_periods=fees, charge_period=charges, commitment_period=ended)
    period = sub.fee_period(at)
    if kind is InvoiceKind.TERMINATION:
        used = used_until_termination(period, at, tz)
    else:
        used = split_at_day(period, at, tz)[0]
    in_charges = sub.charge_period_containing(at)
    # Usage is cut at the change instant, not the day: on an upgrade the events of the change
    # day before the change stay the old subscription's (only later ones move to the new one).
    end = max(used.end, at)
    charges = Period(in_charges.start, max(in_charges.start, min(in_charges.end, end)))
    fees = () if plan.pay_in_advance or used.is_empty else (used,)
    return _Plan(fee_periods=fees, charge_period=charges, commitment_period=used)


def _full_charge_period(sub: Subscription, period: Period) -> Period:
    if not sub.plan.bill_charges_monthly:
        return sub.full_period(period)
    anchor = sub.schedule.anchor if sub.billing_time is BillingTime.ANNIVERSARY else None
    return PeriodGrid(Interval.MONTHLY, sub.tz, anchor).period_containing(period.start)


def tax_rates(
    codes: Sequence[str], fallback: Sequence[str], rates: Mapping[str, TaxRate]
) -> tuple[TaxRate, ...]:
    """The rates of a fee's own tax codes, else of `fallback`; an unknown code is an error, so
    that no fee is ever silently untaxed (period and progressive invoices alike)."""
    chosen = codes or fallback
    missing = [c for c in chosen if c not in rates]
    if missing:
        raise DomainError(f"unknown tax codes {missing}", field="tax_codes", code="tax_not_found")
    return tuple(rates[c] for c in chosen)


def bucket_text(priced: ChargeFee) -> str:
    """`<filter index or default>/<group values>`: the part of a charge fee's line id that tells
    its bucket apart, so each bucket of a charge is its own line."""
    bucket = priced.bucket or BucketKey()
    index = "default" if bucket.filter_index is None else str(bucket.filter_index)
    return f"{index}/{'|'.join('' if v is None else v for v in bucket.group)}"


def charge_invoice_fee(
    subscription: Subscription,
    charge: Charge,
    priced: ChargeFee,
    period: Period,
    *,
    line_id: str,
    taxes: tuple[TaxRate, ...],
) -> InvoiceFee:
    """A priced arrears charge as an invoice fee: the period and progressive invoices bill
    usage the same way, only their line ids and periods differ."""
    plan = subscription.plan
    line = FeeLine(
        id=line_id,
        fee_type=FeeType.CHARGE,
        amount_cents=priced.amount_cents,
        currency=plan.currency,
        plan_code=plan.code,
        billable_metric_code=charge.metric.code,
        taxes=taxes,
        precise_amount=priced.precise_amount,
        units=priced.units,
        description=priced.display_name,
    )
    return InvoiceFee(
        line,
        priced.explanation,
        period,
        amount_details=priced.amount_details,
        charge_id=charge.id,
        charge_fee=priced,
    )


def invoice_charge_period(sub: Subscription, kind: InvoiceKind, at: datetime) -> Period | None:
    """The charge period whose usage an invoice of `kind` at `at` bills (its
    `AssembledInvoice.charges_period`): what to read before assembling it."""
    return _what_to_bill(sub, kind, at).charge_period


def assemble_period_invoice(
    subscription: Subscription,
    kind: InvoiceKind,
    at: datetime,
    *,
    usage: Mapping[str, Mapping[BucketKey, UsageFacts]],
    finalizing: bool,
    taxes: Mapping[str, TaxRate] | None = None,
    default_tax_codes: Sequence[str] = (),
    applied_coupons: Sequence[AppliedCoupon] = (),
    credit_notes: Sequence[CreditNoteBalance] = (),
    wallets: Sequence[Wallet] = (),
    progressive_billing_credit_amount_cents: int = 0,
    earlier_charges_cents: int = 0,
    rounding: Rounding = Rounding.HALF_UP,
    adjustments: Sequence[InvoiceFee] = (),
) -> AssembledInvoice:
    """Price and total one invoice of `subscription` (contents per `InvoiceKind`, above).

    `usage`: per charge id, the aggregated usage of the invoice's charge period per bucket.
    `earlier_charges_cents`: charges already invoiced earlier in the ending fee period (monthly
    charge invoices of a yearly plan), counted against the minimum commitment.
    Coupons, credit notes, wallets and progressive credits go to `compute_invoice_totals`.
    `adjustments`: `adjustment` lines correcting earlier, finalized periods (late events,
    `billing.adjustments`); appended last, totalled, taxed and discounted like usage, never
    counted against this period's minimum commitment nor its progressive credits.
    """
    plan, tz, currency = subscription.plan, subscription.tz, subscription.plan.currency
    rates = taxes or {}
    todo = _what_to_bill(subscription, kind, at)
    fees: list[InvoiceFee] = []
    sub_id = subscription.id
    for period in todo.fee_periods:
        fee = subscription_fee(
            plan,
            period,
            subscription.full_period(period),
            tz,
            trial_ends_at=subscription.trial_ends_at,
            rounding=rounding,
        )
        line = FeeLine(
            id=f"{sub_id}/subscription/{period.start.isoformat()}",
            fee_type=FeeType.SUBSCRIPTION,
            amount_cents=fee.amount_cents,
            currency=currency,
            plan_code=plan.code,
            taxes=tax_rates(plan.tax_codes, default_tax_codes, rates),
            precise_amount=fee.precise_amount,
            description=plan.invoice_display_name or plan.name,
        )
        # The fee's from/to are the days it bills: from the trial end when a trial covers
        # the start (the termination credit note divides by these days).
        billed = split_trial(period, subscription.trial_ends_at)[1] or period
        fees.append(InvoiceFee(line, fee.explanation, billed, subscription_fee=fee))

    charges_cents = 0
    charge_period = todo.charge_period
    if charge_period is not None and not charge_period.is_empty:
        full = _full_charge_period(subscription, charge_period)
        factor = proration_factor(charge_period, full, tz)
        for charge in plan.charges:
            if charge.pay_in_advance:
                continue
            for priced in price_charge(
                charge, usage.get(charge.id, {}), currency, rounding=rounding, period_factor=factor
            ):
                if not priced.invoiceable_on_period_invoice:
                    continue
                start = charge_period.start.isoformat()
                suffix = "true_up" if priced.kind is ChargeFeeKind.TRUE_UP else bucket_text(priced)
                charges_cents += priced.amount_cents
                fees.append(
                    charge_invoice_fee(
                        subscription,
                        charge,
                        priced,
                        charge_period,
                        line_id=f"{sub_id}/charge/{charge.id}/{start}/{suffix}",
                        taxes=tax_rates(
                            charge.tax_codes, plan.tax_codes or default_tax_codes, rates
                        ),
                    )
                )

    commitment = _commitment_fee(
        subscription, todo.commitment_period, charges_cents + earlier_charges_cents, rates,
        default_tax_codes, rounding,
    )  # fmt: skip
    if commitment is not None:
        fees.append(commitment)
    for adjustment in adjustments:
        if adjustment.line.fee_type is not FeeType.ADJUSTMENT:
            raise DomainError("an adjustment line must be of type adjustment", field="adjustments")
        fees.append(adjustment)

    totals = compute_invoice_totals(
        [f.line for f in fees],
        currency,
        finalizing=finalizing,
        progressive_billing_credit_amount_cents=progressive_billing_credit_amount_cents,
        applied_coupons=applied_coupons,
        credit_notes=credit_notes,
        wallets=wallets,
        rounding=rounding,
    )
    return AssembledInvoice(kind, sub_id, at, tuple(fees), totals, charge_period)


def _commitment_fee(
    sub: Subscription,
    used: Period | None,
    charges_cents: int,
    rates: Mapping[str, TaxRate],
    default_tax_codes: Sequence[str],
    rounding: Rounding,
) -> InvoiceFee | None:
    """Minimum commitment of the fee period `used`: commitment × used/full days (rounded once)
    against that period's subscription fee + charges (lago-api PR #1787)."""
    plan, tz, currency = sub.plan, sub.tz, sub.plan.currency
    commitment = plan.minimum_commitment
    if commitment is None or used is None or used.is_empty:
        return None
    full = sub.full_period(used)
    factor: Fraction = proration_factor(used, full, tz)
    minimum = prorated_cents(commitment.amount_cents, factor, rounding)
    fee = subscription_fee(plan, used, full, tz, trial_ends_at=sub.trial_ends_at, rounding=rounding)
    invoiced = fee.amount_cents + charges_cents
    amount = plan_minimum_commitment_true_up(invoiced, minimum, rounding=rounding)
    if amount == 0:
        return None
    prorated = "" if factor == 1 else f" × {factor.numerator}/{factor.denominator}"
    explanation = (
        f"Minimum commitment {total_text(commitment.amount_cents, currency)}{prorated}"
        f" = {total_text(minimum, currency)}; billed {total_text(invoiced, currency)}"
        f" (subscription {total_text(fee.amount_cents, currency)} + usage"
        f" {total_text(charges_cents, currency)}) → true-up {total_text(amount, currency)}"
    )
    line = FeeLine(
        id=f"{sub.id}/commitment/{used.start.isoformat()}",
        fee_type=FeeType.COMMITMENT,
        amount_cents=amount,
        currency=currency,
        plan_code=plan.code,
        taxes=tax_rates(commitment.tax_codes, plan.tax_codes or default_tax_codes, rates),
        precise_amount=minor_to_major(amount, currency),
        units=Decimal(1),
        description=commitment.invoice_display_name or "Minimum commitment",
    )
    return InvoiceFee(line, explanation, used)
