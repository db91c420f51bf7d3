"""Upgrades, downgrades and terminations as pure decisions: what must happen, never doing it.

Rules (lago-api.md §4.1):
- `change_kind`: an upgrade when the new plan's yearly amount is ≥ the old one's (Lago compares
  `yearly_amount_cents`; usage charges are ignored), else a downgrade.
- Upgrade — immediate. The old subscription is terminated at the change instant; its invoice is
  `InvoiceKind.UPGRADE` (prorated arrears fee of the days *before* the change day + usage so
  far; no fee for in-advance plans). An in-advance old plan gets a credit for the unused days of
  its prepaid fee, from the change day on. The new subscription starts at the change instant,
  keeps the old billing anchor (anniversary dates do not move) and gets a `START` invoice (its
  in-advance fee prorated from the change day). Example: A €100 from Jan 1 → B €200 on Jan 15:
  A 14/31 × 100 = €45.16 now, B 17/31 × 200 = €109.68 on Feb 1.
- Downgrade — at the end of the current fee period: the new subscription is `pending` until
  then; a second downgrade cancels the pending one.
- Termination — the termination day counts as used. `on_termination_invoice=generate` issues a
  `TERMINATION` invoice (prorated arrears fee + usage). For in-advance plans the unused days of
  the prepaid fee are credited per `on_termination_credit_note` (credit, refund, offset; skip =
  none). A pending subscription is canceled instead.

Unused-time credit: unused days / days the prepaid fee billed (a partial first period or a
trial billed fewer days), applied to what was actually invoiced for that fee — amount, coupon
share and taxes — by `credit_notes.unused_time_credit` (each amount rounded once).
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, replace
from datetime import datetime
from fractions import Fraction

from releve.domain.billing.period_invoice import InvoiceKind
from releve.domain.credit_notes import UnusedTimeCredit, unused_time_credit
from releve.domain.errors import DomainError
from releve.domain.fee_lines import TaxRate
from releve.domain.money import Rounding
from releve.domain.periods import Period
from releve.domain.plans import Plan
from releve.domain.proration import split_at_day, used_until_termination
from releve.domain.subscriptions import (
    InvalidSubscriptionTransition,
    OnTerminationCreditNote,
    OnTerminationInvoice,
    Subscription,
    SubscriptionStatus,
)


class ChangeKind(enum.Enum):
    UPGRADE = "upgrade"
    DOWNGRADE = "downgrade"


def change_kind(old_plan: Plan, new_plan: Plan) -> ChangeKind:
    """Upgrade when the new plan costs at least as much per year (Lago: ≥ is an upgrade)."""
    if new_plan.yearly_amount_cents() >= old_plan.yearly_amount_cents():
        return ChangeKind.UPGRADE
    return ChangeKind.DOWNGRADE


@dataclass(frozen=True, slots=True)
class PrepaidFee:
    """An in-advance subscription fee as invoiced: its days, amount, coupon share and taxes."""

    period: Period
    amount_cents: int
    coupons_amount_cents: int = 0
    taxes: tuple[TaxRate, ...] = ()


@dataclass(frozen=True, slots=True)
class UnusedTime:
    """The unused days of a prepaid fee and the credit note they are worth."""

    unused: Period
    fraction: Fraction  # unused days / billed days
    credit: UnusedTimeCredit


def unused_prepaid_time(
    subscription: Subscription,
    prepaid: PrepaidFee,
    unused_from: datetime,
    rounding: Rounding = Rounding.HALF_UP,
) -> UnusedTime | None:
    """The credit for the days of `prepaid.period` from `unused_from` (a local midnight) on."""
    tz = subscription.tz
    unused = Period(
        min(max(unused_from, prepaid.period.start), prepaid.period.end), prepaid.period.end
    )
    billed_days = prepaid.period.days(tz)
    if unused.is_empty or billed_days == 0:
        return None
    fraction = Fraction(unused.days(tz), billed_days)
    credit = unused_time_credit(
        fee_amount_cents=prepaid.amount_cents,
        fee_coupons_amount_cents=prepaid.coupons_amount_cents,
        taxes=prepaid.taxes,
        unused_fraction=fraction,
        rounding=rounding,
    )
    return UnusedTime(unused, fraction, credit)


def _require_active(subscription: Subscription) -> None:
    if subscription.status is not SubscriptionStatus.ACTIVE:
        raise InvalidSubscriptionTransition(
            f"a {subscription.status.value} subscription cannot change plan", field="status"
        )


@dataclass(frozen=True, slots=True)
class Upgrade:
    terminated: Subscription  # the old subscription, terminated at the change
    new: Subscription  # active from the change, same billing anchor
    old_invoice: InvoiceKind  # UPGRADE
    new_invoice: InvoiceKind  # START
    credit: UnusedTime | None  # unused prepaid days of the old plan (in-advance plans)


def upgrade(
    subscription: Subscription,
    new_plan: Plan,
    at: datetime,
    *,
    new_subscription_id: str,
    prepaid_fee: PrepaidFee | None = None,
    rounding: Rounding = Rounding.HALF_UP,
) -> Upgrade:
    """Apply an upgrade at `at` (rules in the module docstring).

    `prepaid_fee`: the old plan's in-advance fee invoiced for the current period, if any.
    """
    _require_active(subscription)
    if change_kind(subscription.plan, new_plan) is not ChangeKind.UPGRADE:
        raise DomainError(
            "this plan change is a downgrade", field="plan_code", code="value_is_invalid"
        )
    period = subscription.fee_period(at)
    _, rest = split_at_day(period, at, subscription.tz)
    credit = None
    if subscription.plan.pay_in_advance and prepaid_fee is not None:
        credit = unused_prepaid_time(subscription, prepaid_fee, rest.start, rounding)
    new = Subscription(
        id=new_subscription_id,
        external_id=subscription.external_id,
        plan=new_plan,
        billing_time=subscription.billing_time,
        tz=subscription.tz,
        started_at=at,
        anchor_at=subscription.anchor,
        previous_subscription_id=subscription.id,
    )
    terminated = subscription.transition(SubscriptionStatus.TERMINATED, at)
    return Upgrade(terminated, new, InvoiceKind.UPGRADE, InvoiceKind.START, credit)


@dataclass(frozen=True, slots=True)
class Downgrade:
    current: Subscription  # unchanged until `effective_at`
    pending: Subscription  # starts at `effective_at`
    effective_at: datetime
    canceled: Subscription | None  # an earlier pending downgrade, now canceled


def downgrade(
    subscription: Subscription,
    new_plan: Plan,
    at: datetime,
    *,
    new_subscription_id: str,
    pending: Subscription | None = None,
) -> Downgrade:
    """Schedule a downgrade for the end of the current fee period; cancel `pending` if any."""
    _require_active(subscription)
    if change_kind(subscription.plan, new_plan) is not ChangeKind.DOWNGRADE:
        raise DomainError(
            "this plan change is an upgrade", field="plan_code", code="value_is_invalid"
        )
    effective_at = subscription.fee_period(at).end
    canceled = None if pending is None else pending.transition(SubscriptionStatus.CANCELED, at)
    new = Subscription(
        id=new_subscription_id,
        external_id=subscription.external_id,
        plan=new_plan,
        billing_time=subscription.billing_time,
        tz=subscription.tz,
        started_at=effective_at,
        status=SubscriptionStatus.PENDING,
        anchor_at=subscription.anchor,
        previous_subscription_id=subscription.id,
    )
    return Downgrade(subscription, new, effective_at, canceled)


@dataclass(frozen=True, slots=True)
class Termination:
    subscription: Subscription  # terminated (or canceled when it was pending)
    invoice: InvoiceKind | None  # TERMINATION, or None (skip, or a pending subscription)
    credit: UnusedTime | None
    credit_action: OnTerminationCreditNote


def terminate(
    subscription: Subscription,
    at: datetime,
    *,
    on_termination_invoice: OnTerminationInvoice = OnTerminationInvoice.GENERATE,
    on_termination_credit_note: OnTerminationCreditNote = OnTerminationCreditNote.CREDIT,
    prepaid_fee: PrepaidFee | None = None,
    rounding: Rounding = Rounding.HALF_UP,
) -> Termination:
    """Terminate at `at` (its day counts as used); see the module docstring."""
    if subscription.status is SubscriptionStatus.PENDING:
        canceled = subscription.transition(SubscriptionStatus.CANCELED, at)
        return Termination(canceled, None, None, on_termination_credit_note)
    period = subscription.fee_period(at)
    used = used_until_termination(period, at, subscription.tz)
    credit = None
    if (
        subscription.plan.pay_in_advance
        and prepaid_fee is not None
        and on_termination_credit_note is not OnTerminationCreditNote.SKIP
    ):
        credit = unused_prepaid_time(subscription, prepaid_fee, used.end, rounding)
    terminated = subscription.transition(SubscriptionStatus.TERMINATED, at)
    invoice = (
        InvoiceKind.TERMINATION if on_termination_invoice is OnTerminationInvoice.GENERATE else None
    )
    return Termination(replace(terminated), invoice, credit, on_termination_credit_note)
