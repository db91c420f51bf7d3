"""Late events after finalization: the adjustment of a closed charge period, never an edit.

A finalized invoice is immutable. When events land in a charge period that a finalized invoice
already billed, the period is priced again — through the very same path as the period invoice
(`assemble_period_invoice` for that invoice's kind and instant, with the period's usage as it is
now) — and compared, charge bucket by charge bucket, with everything already invoiced for it:
the original invoice's charge fees plus every earlier adjustment of the same bucket.

    adjustment(bucket) = price of the period with every event − already invoiced

So tiers are recomputed on the whole period (a late event can move usage into a cheaper or
dearer graduated tier, or across a volume cliff), and the rule is idempotent by construction:
once an adjustment is invoiced, the difference is 0. Each fee is rounded once (the period's
fee is rounded by pricing; the difference of two rounded amounts is exact).

Buckets: one per (charge, filter, pricing group) as on the period invoice; a charge with a
spending minimum (`min_amount_cents`) is compared as a whole (usage buckets + true-up), since
its minimum applies to the charge, not to a bucket.

Not adjusted (documented choices): pay-in-advance charges (billed event by event), the
subscription fee (does not depend on usage) and the plan's minimum-commitment true-up (not
recomputed: the commitment was settled when its fee period closed).

Sign: a positive adjustment becomes an `adjustment` fee line on the subscription's next
invoice, taxed with the original fee's taxes (coupons, taxes and wallets then treat it like
usage). A fee line is never negative (`fee_lines`), so a negative adjustment — the customer was
over-billed — is returned here with its amount, and the service credits it with a credit note
on the original invoice.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import timedelta, tzinfo
from decimal import Decimal

from releve.domain.billing.charge_fees import ChargeFee, ChargeFeeKind
from releve.domain.billing.period_invoice import AssembledInvoice, InvoiceFee
from releve.domain.charge_models.breakdown import total_text
from releve.domain.fee_lines import FeeLine, FeeType, TaxRate
from releve.domain.money import Currency, minor_to_major
from releve.domain.periods import Period, local_date
from releve.domain.plans import Plan

__all__ = [
    "Adjustment",
    "AdjustmentKey",
    "Invoiced",
    "OriginalInvoice",
    "late_adjustments",
    "period_text",
]


@dataclass(frozen=True, slots=True, order=True)
class AdjustmentKey:
    """The bucket an adjustment corrects: a charge's filter/group bucket, or the whole charge."""

    charge_id: str
    filter_index: int | None = None
    group: tuple[str | None, ...] = ()
    whole_charge: bool = False

    def text(self) -> str:
        """A stable text form (stored with each adjustment, parsed back by `parse`)."""
        if self.whole_charge:
            return f"{self.charge_id}|charge"
        return f"{self.charge_id}|{json.dumps([self.filter_index, list(self.group)])}"

    @classmethod
    def parse(cls, text: str) -> AdjustmentKey:
        charge_id, _, rest = text.partition("|")
        if rest == "charge":
            return cls(charge_id, whole_charge=True)
        filter_index, group = json.loads(rest)
        return cls(charge_id, filter_index, tuple(group))

    @classmethod
    def of(cls, plan: Plan, fee: ChargeFee) -> AdjustmentKey:
        """The key of one priced charge fee of `plan` (rules in the module docstring)."""
        charge = next(c for c in plan.charges if c.id == fee.charge_id)
        if charge.min_amount_cents:
            return cls(fee.charge_id, whole_charge=True)
        bucket = fee.bucket
        assert bucket is not None and fee.kind is ChargeFeeKind.USAGE
        return cls(fee.charge_id, bucket.filter_index, tuple(bucket.group))


@dataclass(frozen=True, slots=True)
class OriginalInvoice:
    """The finalized invoice that billed the period: named on every adjustment line."""

    invoice_id: str
    number: str
    period: Period  # the charge period it billed (half-open, UTC)
    tz: tzinfo  # the customer's time zone, for the dates printed


@dataclass(frozen=True, slots=True)
class Invoiced:
    """What is already invoiced for one bucket of the period (original fee + adjustments)."""

    amount_cents: int
    units: Decimal = Decimal(0)
    taxes: tuple[TaxRate, ...] | None = None  # the original fee's; None: no original fee
    label: str = ""


@dataclass(frozen=True, slots=True)
class Adjustment:
    """One bucket whose price changed. `amount_cents` is signed (current − invoiced)."""

    key: AdjustmentKey
    original: OriginalInvoice
    label: str
    metric_code: str
    units: Decimal  # the period's units now
    current_cents: int
    invoiced_cents: int
    taxes: tuple[TaxRate, ...]
    currency: Currency
    explanation: str
    charge_fee: ChargeFee | None = field(default=None, compare=False)

    @property
    def amount_cents(self) -> int:
        return self.current_cents - self.invoiced_cents

    def invoice_fee(self, subscription_id: str, plan_code: str) -> InvoiceFee:
        """The `adjustment` line of a positive adjustment (the period is the original one)."""
        if self.amount_cents <= 0:
            raise ValueError("only a positive adjustment is an invoice line")
        start = self.original.period.start.isoformat()
        line = FeeLine(
            id=f"{subscription_id}/adjustment/{start}/{self.key.text()}",
            fee_type=FeeType.ADJUSTMENT,
            amount_cents=self.amount_cents,
            currency=self.currency,
            plan_code=plan_code,
            billable_metric_code=self.metric_code,
            taxes=self.taxes,
            precise_amount=minor_to_major(self.amount_cents, self.currency),
            units=Decimal(1),
            description=f"{self.label} — adjustment {period_text(self.original)}",
        )
        return InvoiceFee(
            line,
            self.explanation,
            self.original.period,
            amount_details=self.details(),
            charge_id=self.key.charge_id,
            charge_fee=self.charge_fee,
        )

    def details(self) -> dict[str, object]:
        """Lago-style `amount_details` of the adjustment fee (our extension): the evidence."""
        return {
            "original_invoice_id": self.original.invoice_id,
            "original_invoice_number": self.original.number,
            "period_from": self.original.period.start.isoformat(),
            "period_to": self.original.period.end.isoformat(),
            "bucket": self.key.text(),
            "units": str(self.units),
            "current_amount_cents": self.current_cents,
            "invoiced_amount_cents": self.invoiced_cents,
        }


def period_text(original: OriginalInvoice) -> str:
    """ "1–31 Jan 2026", "15 Jan – 14 Feb 2026": the period's days on the customer's calendar."""
    period, tz = original.period, original.tz
    first = local_date(period.start, tz)
    last = local_date(max(period.start, period.end - timedelta(microseconds=1)), tz)
    if (first.year, first.month) == (last.year, last.month):
        days = f"{first.day}" if first == last else f"{first.day}–{last.day}"
        return f"{days} {last:%b %Y}"
    head = f"{first.day} {first:%b}" + ("" if first.year == last.year else f" {first.year}")
    return f"{head} – {last.day} {last:%b %Y}"


def _signed(cents: int, currency: Currency) -> str:
    return ("+" if cents >= 0 else "−") + total_text(abs(cents), currency)


def late_adjustments(
    repriced: AssembledInvoice,
    plan: Plan,
    invoiced: Mapping[AdjustmentKey, Invoiced],
    original: OriginalInvoice,
) -> list[Adjustment]:
    """Every bucket of the period whose price now differs from what was invoiced, in key order.

    `repriced`: the period's invoice assembled again with today's usage (only its charge fees
    are read). `invoiced`: per key, the original fee plus earlier adjustments (signed).
    """
    currency = plan.currency
    current: dict[AdjustmentKey, list[InvoiceFee]] = {}
    for fee in repriced.fees:
        if fee.line.fee_type is FeeType.CHARGE and fee.charge_fee is not None:
            current.setdefault(AdjustmentKey.of(plan, fee.charge_fee), []).append(fee)
    metric = {c.id: c.metric.code for c in plan.charges}
    names = {c.id: c.invoice_display_name or c.metric.name for c in plan.charges}
    found = []
    for key in sorted({*current, *invoiced}):
        fees = current.get(key, [])
        before = invoiced.get(key, Invoiced(0))
        now_cents = sum(f.line.amount_cents for f in fees)
        if now_cents == before.amount_cents:
            continue
        usage = [f.charge_fee for f in fees if f.charge_fee is not None]
        units = sum((u.units for u in usage if u.kind is ChargeFeeKind.USAGE), Decimal(0))
        if key.whole_charge or not usage:
            label = before.label or names.get(key.charge_id, key.charge_id)
        else:
            label = usage[0].display_name
        taxes = before.taxes if before.taxes is not None else (fees[0].line.taxes if fees else ())
        explanation = (
            f"{label}, {period_text(original)} (invoice {original.number}): now"
            f" {units:,f} units = {total_text(now_cents, currency)}, invoiced"
            f" {total_text(before.amount_cents, currency)}"
            f" → {_signed(now_cents - before.amount_cents, currency)}"
        )
        found.append(
            Adjustment(
                key=key,
                original=original,
                label=label,
                metric_code=metric.get(key.charge_id, ""),
                units=units,
                current_cents=now_cents,
                invoiced_cents=before.amount_cents,
                taxes=taxes,
                currency=currency,
                explanation=explanation,
                charge_fee=None if key.whole_charge or len(usage) != 1 else usage[0],
            )
        )
    return found


def invoice_lines(
    adjustments: Sequence[Adjustment], subscription_id: str, plan_code: str
) -> tuple[InvoiceFee, ...]:
    """The invoice lines of the positive adjustments (negative ones are credited elsewhere)."""
    return tuple(
        a.invoice_fee(subscription_id, plan_code) for a in adjustments if a.amount_cents > 0
    )
