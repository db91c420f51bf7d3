"""Subscriptions: a customer on a plan over time — statuses, billing anchor, periods and trial.

Choices (lago-api.md §4.1):
- `anchor_at` is the instant the billing grid is derived from (Lago `subscription_at`); it is
  `started_at` for a new subscription. An upgrade creates a new subscription that keeps the old
  anchor (Lago keeps `subscription_at`): anniversary periods do not move when the plan changes,
  and the new subscription's first period is the rest of the old one.
- A subscription's fee periods are the schedule's periods clipped to start at the local midnight
  of `started_at`'s day (day granularity, as in `billing_schedule`); `full_period` — the whole
  grid period — is the proration denominator.
- The trial is counted from the anchor (Lago counts it from the first subscription's start), so
  an upgrade during a trial keeps the rest of the trial only if the new plan has a trial.
All instants are aware; days are counted in the customer's time zone `tz`.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, replace
from datetime import datetime, timedelta, tzinfo

from releve.domain.billing_schedule import BillingSchedule
from releve.domain.errors import DomainError
from releve.domain.periods import BillingTime, Period, local_date, local_midnight
from releve.domain.plans import Plan
from releve.domain.proration import trial_end


class SubscriptionStatus(enum.Enum):
    """Lago's statuses: `pending` (future start or downgrade), `active`, `terminated`,
    `canceled` (stopped before it ever became active)."""

    PENDING = "pending"
    ACTIVE = "active"
    TERMINATED = "terminated"
    CANCELED = "canceled"


class OnTerminationCreditNote(enum.Enum):
    """What to do with unused prepaid time on termination (pay-in-advance plans only)."""

    CREDIT = "credit"  # default: a credit note balance spent on later invoices
    REFUND = "refund"
    OFFSET = "offset"  # reduces what is still due on the paid invoice
    SKIP = "skip"


class OnTerminationInvoice(enum.Enum):
    GENERATE = "generate"
    SKIP = "skip"


class InvalidSubscriptionTransition(DomainError):
    code = "invalid_status_transition"


_ONE_MICROSECOND = timedelta(microseconds=1)


@dataclass(frozen=True, slots=True)
class Subscription:
    """One subscription (times aware; periods in `tz`). `anchor_at` defaults to `started_at`."""

    id: str
    external_id: str
    plan: Plan
    billing_time: BillingTime
    tz: tzinfo
    started_at: datetime
    status: SubscriptionStatus = SubscriptionStatus.ACTIVE
    anchor_at: datetime | None = None
    terminated_at: datetime | None = None
    previous_subscription_id: str | None = None

    def __post_init__(self) -> None:
        for name in ("started_at", "anchor_at", "terminated_at"):
            value = getattr(self, name)
            if value is not None and (value.tzinfo is None or value.utcoffset() is None):
                raise ValueError(f"Subscription.{name} must be timezone-aware")
        if self.anchor_at is not None and self.anchor_at > self.started_at:
            raise ValueError("the billing anchor cannot be after the start")
        if self.terminated_at is not None and self.terminated_at < self.started_at:
            raise DomainError(
                "a subscription cannot end before it starts",
                field="terminated_at",
                code="invalid_date",
            )

    @property
    def anchor(self) -> datetime:
        return self.anchor_at if self.anchor_at is not None else self.started_at

    @property
    def schedule(self) -> BillingSchedule:
        return BillingSchedule(self.anchor, self.plan.interval, self.billing_time, self.tz)

    @property
    def start(self) -> datetime:
        """Local midnight (UTC) of the start day: the first instant billed."""
        return local_midnight(local_date(self.started_at, self.tz), self.tz)

    @property
    def trial_ends_at(self) -> datetime:
        """End of the free trial (the start when the plan has none)."""
        if self.plan.trial_period_days == 0:
            return self.start
        return max(self.start, trial_end(self.anchor, self.plan.trial_period_days, self.tz))

    def fee_period(self, instant: datetime) -> Period:
        """The fee period containing `instant` (clipped to the start), as billed."""
        if instant < self.start:
            raise DomainError(
                "instant is before the subscription", field="at", code="value_is_invalid"
            )
        grid = self.schedule.period_containing(instant)
        assert grid is not None  # instant ≥ start ≥ anchor
        return Period(max(grid.start, self.start), grid.end)

    def fee_period_ending(self, boundary: datetime) -> Period | None:
        """The fee period that ends exactly at `boundary`, or None."""
        if boundary <= self.start:
            return None
        period = self.fee_period(boundary - _ONE_MICROSECOND)
        return period if period.end == boundary else None

    def full_period(self, period: Period) -> Period:
        """The whole grid period of `period`: the proration denominator."""
        return self.schedule.full_period(period)

    def charge_period_ending(self, boundary: datetime) -> Period | None:
        """The usage period invoiced at `boundary`: the fee period, or the month
        (bill_charges_monthly) that ends there; None when nothing ends at `boundary`."""
        if boundary <= self.start:
            return None
        fee = self.fee_period(boundary - _ONE_MICROSECOND)
        if not self.plan.bill_charges_monthly:
            return fee if fee.end == boundary else None
        for part in self.schedule.charge_periods(fee):
            if part.end == boundary:
                return part
        return None

    def charge_period_containing(self, instant: datetime) -> Period:
        fee = self.fee_period(instant)
        if not self.plan.bill_charges_monthly:
            return fee
        return next(p for p in self.schedule.charge_periods(fee) if p.contains(instant))

    def transition(self, status: SubscriptionStatus, at: datetime) -> Subscription:
        """The subscription in `status` (Lago's allowed moves; `at` is the termination time)."""
        allowed = {
            SubscriptionStatus.PENDING: {SubscriptionStatus.ACTIVE, SubscriptionStatus.CANCELED},
            SubscriptionStatus.ACTIVE: {SubscriptionStatus.TERMINATED},
        }
        if status not in allowed.get(self.status, set()):
            raise InvalidSubscriptionTransition(
                f"a {self.status.value} subscription cannot become {status.value}",
                field="status",
            )
        terminated_at = at if status is SubscriptionStatus.TERMINATED else self.terminated_at
        return replace(self, status=status, terminated_at=terminated_at)
