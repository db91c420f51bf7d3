"""The usage an invoice bills: per charge, per bucket, over one charge period.

Read through `services.usage.usage_for_period`, the one reader shared with current usage, so
both views of usage can never disagree. Only the period and the charges differ: an invoice
bills a closed (or, on termination, truncated) charge period, and only the charges billed in
arrears (in-advance charges are billed when their events arrive).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import cast
from uuid import UUID

from releve.domain.filters import BucketKey
from releve.domain.periods import Period
from releve.domain.plans import Plan
from releve.domain.subscriptions import Subscription as DomainSubscription
from releve.domain.usage import UsageFacts
from releve.services.ports import UnitOfWork
from releve.services.usage import usage_for_period as read_usage


def usage_for_period(
    uow: UnitOfWork,
    organization_id: UUID,
    subscription_id: UUID,
    external_id: str,
    domain: DomainSubscription,
    plan: Plan,
    period: Period,
) -> Mapping[str, Mapping[BucketKey, UsageFacts]]:
    """charge id → bucket → usage facts of `period`, for the charges billed in arrears; in a
    bill run, what its pre-read (`billing_usage_bulk`) read for this invoice, if it did."""
    pre_read = getattr(uow, "pre_read", None)
    if pre_read is not None:
        found = pre_read.take(subscription_id, period)
        if found is not None:
            return cast(Mapping[str, Mapping[BucketKey, UsageFacts]], found)
    return read_usage(
        uow,
        organization_id,
        subscription_id,
        external_id,
        domain,
        plan,
        period,
        charges=[c for c in plan.charges if not c.pay_in_advance],
    )
