"""Late events after finalization: which finalized periods changed, and by how much.

The rule (`domain.billing.adjustments`): a finalized invoice is never edited. A charge period
billed by a finalized invoice that later receives usage — an event ingested after the invoice's
`finalized_at`, or events matched to the subscription later by a rematch (they rewrite the
hourly aggregates) — is priced again through the period invoice's own path
(`assemble_period_invoice` for the original kind and instant, usage read by
`billing_usage.usage_for_period`), and each charge bucket is compared with what was already
invoiced for it: the original charge fee, plus the `adjustment` fees of that period on
finalized invoices, plus the credits of earlier negative adjustments (`late_adjustment_credits`).

Settlement, when the subscription's next period-end / termination / upgrade invoice is issued:
positive differences become `adjustment` lines of that invoice (`billing_pricing`), negative
ones a credit note on the original invoice whose credit that invoice then consumes
(`late_settlement`). A terminated subscription has no next invoice: the billing run issues a
standalone `ADJUSTMENT` invoice (invoice_type `subscription`, invoicing_reason
`late_usage_adjustment`) carrying the positive lines and crediting the negative ones, once per
new late usage (`AdjustmentRepository.terminated_with_new_usage`). Draft invoices are not
"finalized": late events in a draft period simply count when the draft is refreshed or
finalized.

A period is left alone (logged, shown as `blocked` by `pending_adjustments`) when its plan was
edited after the invoice was finalized, or a fee names a charge or filter the plan no longer
has: we keep no price history, and pricing an old period with today's prices would be wrong.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import tzinfo
from decimal import Decimal
from uuid import UUID

from releve.domain.billing.adjustments import (
    Adjustment,
    AdjustmentKey,
    Invoiced,
    OriginalInvoice,
    late_adjustments,
)
from releve.domain.billing.period_invoice import InvoiceKind, assemble_period_invoice
from releve.domain.errors import DomainError
from releve.domain.fee_lines import TaxRate
from releve.domain.periods import Period
from releve.domain.subscriptions import Subscription as DomainSubscription
from releve.services.billing_records import Fee
from releve.services.billing_usage import usage_for_period
from releve.services.late_records import AdjustmentUnitOfWork, FinalizedPeriod, LateCredit
from releve.services.records import StoredPlan, Subscription

log = logging.getLogger(__name__)

# Invoices that settle adjustments: the subscription's next invoice that bills usage.
SETTLING_KINDS = (
    InvoiceKind.PERIOD_END,
    InvoiceKind.TERMINATION,
    InvoiceKind.UPGRADE,
    InvoiceKind.ADJUSTMENT,
)


class PlanChanged(Exception):
    """The period cannot be priced again faithfully (module docstring)."""


@dataclass(frozen=True, slots=True)
class PeriodAdjustments:
    """One late finalized period: its adjustments (empty when nothing changed) or why not."""

    period: FinalizedPeriod
    adjustments: tuple[Adjustment, ...]
    blocked: str | None = None


def _taxes(fee: Fee) -> tuple[TaxRate, ...]:
    return tuple(
        TaxRate(str(t["tax_code"]), str(t["tax_name"]), Decimal(str(t["tax_rate"])))
        for t in fee.applied_taxes
    )


def fee_key(plan: StoredPlan, fee: Fee, filter_index: Mapping[UUID, int]) -> AdjustmentKey:
    """The bucket a stored charge or adjustment fee billed (raises PlanChanged if unknown)."""
    if fee.fee_type == "adjustment":
        return AdjustmentKey.parse(str(fee.amount_details["bucket"]))
    charge = next((c for c in plan.plan.charges if c.id == str(fee.charge_id)), None)
    if charge is None:
        raise PlanChanged("charge_removed")
    if charge.min_amount_cents:
        return AdjustmentKey(charge.id, whole_charge=True)
    index = None
    if fee.charge_filter_id is not None:
        if fee.charge_filter_id not in filter_index:
            raise PlanChanged("filter_removed")
        index = filter_index[fee.charge_filter_id]
    return AdjustmentKey(
        charge.id, index, tuple(fee.grouped_by.get(k) for k in charge.pricing_group_keys)
    )


def filter_positions(uow: AdjustmentUnitOfWork, stored: StoredPlan) -> dict[UUID, int]:
    """charge filter id → its position in its charge (the plan's current filters)."""
    charge_ids = [UUID(c.id) for c in stored.plan.charges if c.filters]
    return {v: k[1] for k, v in uow.invoices.charge_filter_ids(charge_ids).items()}


def invoiced_amounts(
    plan: StoredPlan,
    fees: Sequence[Fee],
    credits: Sequence[LateCredit],
    filter_index: Mapping[UUID, int],
) -> dict[AdjustmentKey, Invoiced]:
    """Per bucket, what the period already invoiced: original fees, adjustment fees, credits."""
    found: dict[AdjustmentKey, Invoiced] = {}
    for fee in fees:
        key = fee_key(plan, fee, filter_index)
        original = fee.fee_type != "adjustment"
        before = found.get(key, Invoiced(0))
        found[key] = Invoiced(
            before.amount_cents + fee.amount_cents,
            before.units + (fee.units if original else 0),
            before.taxes if before.taxes is not None or not original else _taxes(fee),
            before.label or (fee.invoice_display_name or fee.item_name if original else ""),
        )
    for credit in credits:
        key = AdjustmentKey.parse(credit.bucket)
        before = found.get(key, Invoiced(0))
        found[key] = Invoiced(
            before.amount_cents + credit.amount_cents, before.units, before.taxes, before.label
        )
    return found


def period_adjustments(
    uow: AdjustmentUnitOfWork,
    subscription: Subscription,
    domain: DomainSubscription,
    stored: StoredPlan,
    tz: tzinfo,
    rates: Mapping[str, TaxRate],
    default_tax_codes: Sequence[str],
) -> list[PeriodAdjustments]:
    """Every late finalized period of `subscription` with its adjustments (oldest first)."""
    periods = uow.adjustments.late_periods([subscription.id])
    if not periods:
        return []
    filter_index = filter_positions(uow, stored)
    found = []
    for period in periods:
        span = Period(period.period_start, period.period_end)
        try:
            if stored.updated_at > period.finalized_at:
                raise PlanChanged("plan_changed")
            invoiced = invoiced_amounts(
                stored,
                uow.adjustments.invoiced_fees(period),
                uow.adjustments.credits(period),
                filter_index,
            )
            usage = usage_for_period(
                uow,
                subscription.organization_id,
                subscription.id,
                subscription.external_id,
                domain,
                stored.plan,
                span,
            )
            repriced = assemble_period_invoice(
                domain,
                InvoiceKind(period.kind),
                period.boundary,
                usage=usage,
                finalizing=False,
                taxes=rates,
                default_tax_codes=default_tax_codes,
            )
            if repriced.charges_period != span:
                raise PlanChanged("period_changed")
        except (PlanChanged, DomainError) as exc:
            reason = str(exc) if isinstance(exc, PlanChanged) else "cannot_price"
            log.warning(
                "late adjustments: %s period %s not adjusted (%s)",
                subscription.id,
                span.start.isoformat(),
                reason,
            )
            found.append(PeriodAdjustments(period, (), reason))
            continue
        original = OriginalInvoice(str(period.invoice_id), period.number, span, tz)
        adjustments = late_adjustments(repriced, stored.plan, invoiced, original)
        found.append(PeriodAdjustments(period, tuple(adjustments)))
    return found
