"""Thresholds crossed by a growing value, and the progressive-billing invoice (lago-api.md §4.2).

Threshold points: every fixed threshold value, then — when one threshold is recurring, of step
`r` — the points ``base + k·r`` (k ≥ 1) where `base` is the highest fixed value (0 if none).
Lago compares a subscription's **lifetime usage** (invoiced usage of closed periods + the
current period's usage) to the plan's `usage_thresholds`; subscription alerts compare the
current usage (or lifetime usage) to their thresholds the same way. Example: thresholds
[5000, recurring 10000] → points 5000, 15000, 25000, …; a lifetime usage of 16000 has crossed
5000 and 15000, the highest being 15000.

The progressive invoice bills the usage of the current charge period so far: one charge fee per
bucket (as a period invoice would, spending-minimum true-ups excluded — those are a period-end
matter), less what earlier progressive invoices of the same period billed, as a
progressive-billing credit (`invoicing.compute_invoice_totals` spreads it over the charge fees).
So with €1/unit, 60 units then 160 units bill €60, then €160 − €60 = €100.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from releve.domain.billing.charge_fees import ChargeFeeKind, price_charge
from releve.domain.billing.period_invoice import (
    AssembledInvoice,
    InvoiceFee,
    InvoiceKind,
    bucket_text,
    charge_invoice_fee,
    tax_rates,
)
from releve.domain.credit_notes import CreditNoteBalance
from releve.domain.errors import DomainError
from releve.domain.fee_lines import TaxRate
from releve.domain.filters import BucketKey
from releve.domain.invoicing import compute_invoice_totals
from releve.domain.money import Rounding
from releve.domain.periods import Period
from releve.domain.plans import UsageThreshold
from releve.domain.subscriptions import Subscription
from releve.domain.usage import UsageFacts
from releve.domain.wallets import Wallet


@dataclass(frozen=True, slots=True)
class Crossed:
    """What `value` has crossed: the fixed thresholds ≤ value (ascending) and the highest
    recurring point ≤ value (None when no recurring step is reached)."""

    fixed: tuple[Decimal, ...]
    recurring_point: Decimal | None

    @property
    def highest(self) -> Decimal | None:
        candidates = [*self.fixed, *([self.recurring_point] if self.recurring_point else [])]
        return max(candidates, default=None)


def crossed(fixed: Sequence[Decimal], recurring: Decimal | None, value: Decimal) -> Crossed:
    """The threshold points at or below `value` (module docstring). Values must be > 0."""
    if any(v <= 0 for v in fixed) or (recurring is not None and recurring <= 0):
        raise DomainError("thresholds must be positive", field="thresholds")
    ordered = sorted(fixed)
    reached = tuple(v for v in ordered if v <= value)
    point = None
    if recurring is not None:
        base = ordered[-1] if ordered else Decimal(0)
        steps = (value - base) // recurring
        if steps >= 1:
            point = base + steps * recurring
    return Crossed(reached, point)


def highest_usage_threshold(
    thresholds: Sequence[UsageThreshold], lifetime_usage_cents: int
) -> int | None:
    """The highest progressive-billing threshold point (minor units) at or below the lifetime
    usage, or None when none is reached."""
    fixed = [Decimal(t.amount_cents) for t in thresholds if not t.recurring]
    step = next((Decimal(t.amount_cents) for t in thresholds if t.recurring), None)
    highest = crossed(fixed, step, Decimal(lifetime_usage_cents)).highest
    return None if highest is None else int(highest)


def assemble_progressive_invoice(
    subscription: Subscription,
    period: Period,
    at: datetime,
    *,
    usage: Mapping[str, Mapping[BucketKey, UsageFacts]],
    already_billed_cents: int,
    taxes: Mapping[str, TaxRate] | None = None,
    default_tax_codes: Sequence[str] = (),
    credit_notes: Sequence[CreditNoteBalance] = (),
    wallets: Sequence[Wallet] = (),
    rounding: Rounding = Rounding.HALF_UP,
) -> AssembledInvoice:
    """The progressive invoice issued at `at` for the charge `period` (full period: no
    proration): arrears charge fees of the usage so far, minus `already_billed_cents` (what this
    period's earlier progressive invoices billed), then taxes, credit notes and wallets.

    The returned `kind` is PERIOD_END only because the charges are those of a period invoice;
    the caller stores the invoice as `progressive_billing`.
    """
    plan, currency, rates = subscription.plan, subscription.plan.currency, taxes or {}
    fees: list[InvoiceFee] = []
    for charge in plan.charges:
        if charge.pay_in_advance:
            continue
        for priced in price_charge(charge, usage.get(charge.id, {}), currency, rounding=rounding):
            if priced.kind is not ChargeFeeKind.USAGE or not priced.invoiceable_on_period_invoice:
                continue
            fees.append(
                charge_invoice_fee(
                    subscription,
                    charge,
                    priced,
                    period,
                    line_id=f"{subscription.id}/progressive/{charge.id}/{bucket_text(priced)}",
                    taxes=tax_rates(charge.tax_codes, plan.tax_codes or default_tax_codes, rates),
                )
            )
    totals = compute_invoice_totals(
        [f.line for f in fees],
        currency,
        finalizing=True,
        progressive_billing_credit_amount_cents=already_billed_cents,
        credit_notes=credit_notes,
        wallets=wallets,
        rounding=rounding,
    )
    return AssembledInvoice(
        InvoiceKind.PERIOD_END, subscription.id, at, tuple(fees), totals, period
    )
