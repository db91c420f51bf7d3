"""Settling late-event adjustments: credit notes for the negative ones; the pending list.

Negative adjustments (the customer was over-billed for a finalized period) are credited, when
the subscription's next usage invoice is issued, by an automatic credit note (reason `other`,
the adjustment's sentence as description, all of it as credit) on the invoice that billed the
bucket: the original invoice first, then the invoices of earlier positive adjustments. The fee's
taxes and coupon share are credited pro rata (`credit_note_amounts`), and the invoice issued
next consumes the credit. Each credit is recorded in `late_adjustment_credits`, so it counts as
invoiced; the UNIQUE sequence per bucket makes a concurrent duplicate roll back. What an invoice
can no longer credit (already credited by hand, or a zero total) stays pending.

`pending` lists, per subscription external id, every late finalized period's non-zero
differences before they are settled (also those a draft invoice carries until it is finalized).
"""

from __future__ import annotations

import hashlib
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import cast
from uuid import UUID

from releve.domain.billing.adjustments import Adjustment
from releve.domain.fee_lines import TaxRate
from releve.services import credit_note_issuing as issuing
from releve.services.billing_pricing import applicable_taxes
from releve.services.billing_records import INVOICE_FINALIZED
from releve.services.credit_note_amounts import CreditLine, compute
from releve.services.credit_note_records import CreditNoteUnitOfWork
from releve.services.errors import NotFound
from releve.services.late_adjustments import (
    PeriodAdjustments,
    fee_key,
    filter_positions,
    period_adjustments,
)
from releve.services.late_records import AdjustmentUnitOfWork, LateCredit
from releve.services.records import Subscription
from releve.services.subscriptions import customer_timezone, domain_subscription


@dataclass(frozen=True, slots=True)
class PendingAdjustment:
    """One bucket of one finalized period whose price changed and is not settled yet."""

    subscription_external_id: str
    period: PeriodAdjustments
    adjustment: Adjustment | None  # None when the period is blocked
    late_events_count: int


def late_periods_of(
    uow: AdjustmentUnitOfWork, subscription: Subscription
) -> list[PeriodAdjustments]:
    """The subscription's late finalized periods, priced again (`late_adjustments`)."""
    org_id = subscription.organization_id
    customer = uow.customers.get_by_id(subscription.customer_id)
    stored = uow.plans.get_by_id(org_id, subscription.plan_id)
    if customer is None or stored is None:
        return []
    tz = customer_timezone(uow, org_id, customer)
    domain = domain_subscription(subscription, stored.plan, tz)
    if domain is None:
        return []
    taxes = applicable_taxes(uow, org_id, domain)
    rates = {code: TaxRate(t.code, t.name, t.rate) for code, t in taxes.items()}
    defaults = [t.code for t in uow.taxes.applied_to_organization(org_id)]
    return period_adjustments(uow, subscription, domain, stored, tz, rates, defaults)


def credit_overbilled(uow: AdjustmentUnitOfWork, subscription: Subscription, now: datetime) -> int:
    """Credit every negative adjustment of `subscription` (rules above), in the caller's unit
    of work (no commit). Returns the cents credited (pre-tax)."""
    notes = cast(CreditNoteUnitOfWork, uow)
    credited_total = 0
    late = late_periods_of(uow, subscription)
    stored = uow.plans.get_by_id(subscription.organization_id, subscription.plan_id)
    if not late or stored is None:
        return 0
    positions = filter_positions(uow, stored)
    for period in late:
        if period.blocked is not None:
            continue
        fees = uow.adjustments.invoiced_fees(period.period)
        existing = uow.adjustments.credits(period.period)
        for adjustment in period.adjustments:
            if adjustment.amount_cents >= 0:
                continue
            sequence = 1 + sum(1 for c in existing if c.bucket == adjustment.key.text())
            wanted = -adjustment.amount_cents
            candidates = [f for f in fees if fee_key(stored, f, positions) == adjustment.key]
            already = notes.credit_notes.credited_by_fee([f.id for f in candidates])
            by_invoice: dict[UUID, list[CreditLine]] = {}
            for fee in candidates:
                share = min(wanted, fee.amount_cents - already[fee.id])
                if share > 0:
                    by_invoice.setdefault(fee.invoice_id, []).append(CreditLine(fee, share))
                    wanted -= share
            for invoice_id, lines in by_invoice.items():
                invoice = uow.invoices.get_for_update(subscription.organization_id, invoice_id)
                if invoice is None or invoice.status != INVOICE_FINALIZED:
                    continue
                amounts = compute(lines)
                limits = issuing.maxima(notes, invoice)
                total = amounts.total_amount_cents
                if total <= 0 or total > limits.max_creditable_amount_cents:
                    continue
                cents = sum(line.amount_cents for line in lines)
                key = f"{subscription.id}|{period.period.period_start.isoformat()}|"
                key += f"{adjustment.key.text()}|{sequence}"
                note = issuing.issue_in(
                    notes,
                    invoice,
                    amounts,
                    issuing.Split(credit_amount_cents=total),
                    reason="other",
                    description=adjustment.explanation,
                    now=now,
                    automatic_key=f"late:{hashlib.sha256(key.encode()).hexdigest()[:64]}",
                )
                uow.adjustments.add_credit(
                    LateCredit(
                        id=uuid.uuid4(),
                        organization_id=subscription.organization_id,
                        subscription_id=subscription.id,
                        original_invoice_id=period.period.invoice_id,
                        period_start=period.period.period_start,
                        period_end=period.period.period_end,
                        charge_id=UUID(adjustment.key.charge_id),
                        bucket=adjustment.key.text(),
                        sequence=sequence,
                        amount_cents=-cents,
                        invoiced_amount_cents=adjustment.invoiced_cents,
                        current_amount_cents=adjustment.current_cents,
                        units=adjustment.units,
                        explanation=adjustment.explanation,
                        created_at=now,
                        credit_note_id=note.id,
                    )
                )
                sequence += 1
                credited_total += cents
    return credited_total


def pending(
    uow: AdjustmentUnitOfWork, organization_id: UUID, external_id: str
) -> list[PendingAdjustment]:
    """Unsettled adjustments of the subscriptions with this external id (404 if none)."""
    subscriptions = uow.subscriptions.for_external_ids(organization_id, [external_id])
    if not subscriptions:
        raise NotFound("subscription")
    found = []
    for subscription in subscriptions:
        for period in late_periods_of(uow, subscription):
            count = uow.adjustments.late_events_count(period.period)
            if period.blocked is not None:
                found.append(PendingAdjustment(external_id, period, None, count))
            found.extend(
                PendingAdjustment(external_id, period, a, count) for a in period.adjustments
            )
    return found
