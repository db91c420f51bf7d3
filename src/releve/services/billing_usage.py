"""The usage an invoice bills: per charge, per bucket, over one charge period.

Same reading as current usage (`services.usage`): the per-hour aggregate states of the period
merged per (charge, bucket), carried-over state of earlier periods for recurring metrics, and
the raw event values only for percentage charges that need them. Only the period differs: an
invoice bills a closed (or, on termination, truncated) charge period instead of "now".
"""

from __future__ import annotations

from collections.abc import Mapping
from uuid import UUID

from releve.domain.aggregations import aggregator_for
from releve.domain.filters import BucketKey
from releve.domain.periods import Period
from releve.domain.plans import Plan
from releve.domain.subscriptions import Subscription as DomainSubscription
from releve.domain.usage import UsageFacts
from releve.services.ports import UnitOfWork
from releve.services.records import UsageAggregate

# The current-usage service's readers, reused so both views of usage can never disagree.
# (They are module-private there; see the report: a public `usage_for_period` would be better.)
from releve.services.usage import (
    _earlier_period_starts,
    _needs_event_values,
    _usage_by_bucket,
    _with_event_values,
)


def usage_for_period(
    uow: UnitOfWork,
    organization_id: UUID,
    subscription_id: UUID,
    external_id: str,
    domain: DomainSubscription,
    plan: Plan,
    period: Period,
) -> Mapping[str, Mapping[BucketKey, UsageFacts]]:
    """charge id → bucket → usage facts of `period` (half-open, a charge period or its start)."""
    # This period's hours for every charge; earlier hours only for charges that carry state
    # over (recurring metrics), as current usage does.
    carrying = [UUID(c.id) for c in plan.charges if aggregator_for(c.metric).uses_carried]
    states = uow.usage_aggregates.for_subscription(
        organization_id, subscription_id, period.end, since=period.start
    )
    if carrying:
        earlier = uow.usage_aggregates.for_subscription(
            organization_id, subscription_id, period.start, charge_ids=carrying
        )
        states = earlier + states
    starts = _earlier_period_starts(domain, period) if carrying else []
    by_charge: dict[UUID, list[UsageAggregate]] = {}
    for aggregate in states:
        by_charge.setdefault(aggregate.key.charge_id, []).append(aggregate)
    usage: dict[str, Mapping[BucketKey, UsageFacts]] = {}
    for charge in plan.charges:
        if charge.pay_in_advance:
            continue
        buckets = _usage_by_bucket(charge, by_charge.get(UUID(charge.id), []), period, starts)
        if _needs_event_values(charge):
            buckets = _with_event_values(
                uow, organization_id, external_id, subscription_id, charge, period, buckets
            )
        usage[charge.id] = buckets
    return usage
