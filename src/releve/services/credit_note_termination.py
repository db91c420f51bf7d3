"""The automatic credit note for the unused prepaid days of a terminated in-advance plan.

Lago (`CreditNotes::CreateFromTermination`): when a pay-in-advance subscription ends inside a
period whose fee was already invoiced, the unused part of that fee is given back — reason
`order_change`, split per the subscription's `on_termination_credit_note`: `credit` (default,
a balance for the next invoices), `refund` (up to what was paid, the rest credited), `offset`
(up to what is still due, the rest credited), `skip` (nothing).

Days and amounts are the domain's (`plan_change.unused_prepaid_time`): on a termination the
termination day counts as used; on an upgrade the unused part starts on the change day. The
fee's coupon share and taxes are credited pro rata (`unused_time_credit`). Nothing is issued
for arrears plans, free plans, a prepaid fee whose invoice is not finalized (voided, or still a
draft), or when the invoice has nothing left to credit. Idempotent: one credit note per
subscription (`automatic_key`, UNIQUE), and items already credited on the fee by hand are
deducted, as Lago does.
"""

from __future__ import annotations

import logging
from datetime import datetime
from decimal import Decimal

from releve.domain.billing.plan_change import PrepaidFee, unused_prepaid_time
from releve.domain.fee_lines import TaxRate
from releve.domain.periods import Period
from releve.domain.proration import split_at_day, used_until_termination
from releve.services import credit_note_issuing as issuing
from releve.services.billing_records import INVOICE_FINALIZED
from releve.services.credit_note_amounts import CreditLine, compute
from releve.services.credit_note_records import CreditNoteUnitOfWork
from releve.services.records import SUBSCRIPTION_ACTIVE, SUBSCRIPTION_TERMINATED, Subscription
from releve.services.subscriptions import customer_timezone, domain_subscription

log = logging.getLogger(__name__)


def _is_upgrade(uow: CreditNoteUnitOfWork, subscription: Subscription) -> bool:
    """An active successor took over at the termination instant (same rule as billing)."""
    if subscription.next_subscription_id is None:
        return False
    following = uow.subscriptions.get_by_id(
        subscription.organization_id, subscription.next_subscription_id
    )
    return (
        following is not None
        and following.started_at == subscription.terminated_at
        and following.status in (SUBSCRIPTION_ACTIVE, SUBSCRIPTION_TERMINATED)
    )


def credit_unused_time(
    uow: CreditNoteUnitOfWork, subscription: Subscription, now: datetime
) -> None:
    """Issue the credit note (rules in the module docstring), in the caller's unit of work."""
    at = subscription.terminated_at
    action = subscription.on_termination_credit_note or "credit"
    if subscription.status != SUBSCRIPTION_TERMINATED or at is None or action == "skip":
        return
    org_id = subscription.organization_id
    key = f"termination:{subscription.id}"
    if uow.credit_notes.by_automatic_key(org_id, key) is not None:
        return
    customer = uow.customers.get_by_id(subscription.customer_id)
    stored = uow.plans.get_by_id(org_id, subscription.plan_id)
    if customer is None or stored is None or not stored.plan.pay_in_advance:
        return
    tz = customer_timezone(uow, org_id, customer)
    domain = domain_subscription(subscription, stored.plan, tz)
    fee = uow.credit_notes.prepaid_fee(subscription.id, at)
    if domain is None or fee is None or fee.amount_cents <= 0:
        return
    period = domain.fee_period(at)
    if _is_upgrade(uow, subscription):
        unused_from = split_at_day(period, at, tz)[1].start
    else:
        unused_from = used_until_termination(period, at, tz).end
    prepaid = PrepaidFee(
        period=Period(fee.from_datetime, fee.to_datetime),
        amount_cents=fee.amount_cents,
        coupons_amount_cents=fee.amount_cents - fee.sub_total_excluding_taxes_amount_cents,
        taxes=tuple(
            TaxRate(str(t["tax_code"]), str(t["tax_name"]), Decimal(str(t["tax_rate"])))
            for t in fee.applied_taxes
        ),
    )
    unused = unused_prepaid_time(domain, prepaid, unused_from)
    if unused is None or unused.credit.amount_cents <= 0:
        return
    already = uow.credit_notes.credited_by_fee([fee.id])[fee.id]
    if already == 0:
        line = CreditLine(
            fee, unused.credit.amount_cents, unused.credit.coupons_adjustment_amount_cents
        )
    else:
        line = CreditLine(fee, min(unused.credit.amount_cents, fee.amount_cents - already))
    if line.amount_cents <= 0:
        return
    invoice = uow.invoices.get_for_update(org_id, fee.invoice_id)
    if invoice is None or invoice.status != INVOICE_FINALIZED:
        return
    amounts = compute([line])
    limits = issuing.maxima(uow, invoice)
    total = amounts.total_amount_cents
    if total <= 0 or total > limits.max_creditable_amount_cents:
        log.info("termination credit note of %s skipped: nothing left to credit", subscription.id)
        return
    refund = min(total, limits.max_refundable_amount_cents) if action == "refund" else 0
    offset = min(total, limits.max_offsettable_amount_cents) if action == "offset" else 0
    split = issuing.Split(total - refund - offset, refund, offset)
    issuing.issue_in(
        uow,
        invoice,
        amounts,
        split,
        reason="order_change",
        description=None,
        now=now,
        automatic_key=key,
    )
