"""What a subscription's API object shows, and the domain view (zone, periods) behind it."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, tzinfo
from uuid import UUID

from releve.domain.periods import BillingTime, Period, parse_timezone
from releve.domain.plans import Plan
from releve.domain.subscriptions import Subscription as DomainSubscription
from releve.services.ports import Clock, UnitOfWork
from releve.services.records import (
    SUBSCRIPTION_ACTIVE,
    Customer,
    StoredPlan,
    Subscription,
)


@dataclass(frozen=True, slots=True)
class SubscriptionView:
    """A subscription with what its API object shows (customer, plan, chain, current period)."""

    subscription: Subscription
    customer: Customer
    plan: StoredPlan
    previous_plan_code: str | None
    next_plan_code: str | None
    current_period: Period | None


def subscription_views(
    uow: UnitOfWork, organization_id: UUID, subscriptions: Sequence[Subscription], clock: Clock
) -> list[SubscriptionView]:
    """`subscription_view` of each of `subscriptions` (same values), their customers, plans and
    neighbours loaded together: a list costs a few queries, not several per subscription."""
    customers = uow.customers.by_ids({s.customer_id for s in subscriptions})
    plans = uow.plans.by_ids(organization_id, {s.plan_id for s in subscriptions})
    neighbour_ids = {
        n
        for s in subscriptions
        for n in (s.previous_subscription_id, s.next_subscription_id)
        if n is not None
    }
    neighbours = uow.subscriptions.by_ids(organization_id, neighbour_ids)
    codes = uow.plans.codes_by_ids(organization_id, {n.plan_id for n in neighbours.values()})
    org_zone: list[tzinfo] = []  # the organization's zone, read once if a customer needs it

    def code_of(subscription_id: UUID | None) -> str | None:
        neighbour = neighbours.get(subscription_id) if subscription_id else None
        return codes.get(neighbour.plan_id) if neighbour else None

    views = []
    now = clock.now()
    for subscription in subscriptions:
        customer = customers.get(subscription.customer_id)
        stored = plans.get(subscription.plan_id)
        assert customer is not None and stored is not None
        period = None
        if subscription.status == SUBSCRIPTION_ACTIVE:
            tz: tzinfo
            if customer.timezone:
                tz = parse_timezone(customer.timezone)
            else:
                if not org_zone:
                    org_zone.append(customer_timezone(uow, organization_id, customer))
                tz = org_zone[0]
            domain = domain_subscription(subscription, stored.plan, tz)
            if domain is not None and now >= domain.start:
                period = domain.fee_period(now)
        views.append(
            SubscriptionView(
                subscription,
                customer,
                stored,
                code_of(subscription.previous_subscription_id),
                code_of(subscription.next_subscription_id),
                period,
            )
        )
    return views


def customer_timezone(uow: UnitOfWork, organization_id: UUID, customer: Customer) -> tzinfo:
    """The customer's zone, else the organization's, else UTC."""
    if customer.timezone:
        return parse_timezone(customer.timezone)
    org = uow.organizations.get(organization_id)
    return parse_timezone(org.timezone) if org and org.timezone else UTC


def domain_subscription(
    subscription: Subscription, plan: Plan, tz: tzinfo
) -> DomainSubscription | None:
    """The domain view (periods, trial) of a subscription that has started, else None."""
    if subscription.started_at is None:
        return None
    return DomainSubscription(
        id=str(subscription.id),
        external_id=subscription.external_id,
        plan=plan,
        billing_time=BillingTime(subscription.billing_time),
        tz=tz,
        started_at=subscription.started_at,
        anchor_at=min(subscription.subscription_at, subscription.started_at),
        terminated_at=subscription.terminated_at,
    )


def subscription_view(
    uow: UnitOfWork, subscription: Subscription, clock: Clock
) -> SubscriptionView:
    """The view of `subscription`: its customer, plan, neighbours' plan codes and, when active,
    the fee period `clock` is in."""
    org = subscription.organization_id
    customer = uow.customers.get_by_id(subscription.customer_id)
    plan = uow.plans.get_by_id(org, subscription.plan_id)
    assert customer is not None and plan is not None
    previous_code = next_code = None
    if subscription.previous_subscription_id is not None:
        previous = uow.subscriptions.get_by_id(org, subscription.previous_subscription_id)
        previous_plan = previous and uow.plans.get_by_id(org, previous.plan_id)
        previous_code = previous_plan.plan.code if previous_plan else None
    if subscription.next_subscription_id is not None:
        following = uow.subscriptions.get_by_id(org, subscription.next_subscription_id)
        next_plan = following and uow.plans.get_by_id(org, following.plan_id)
        next_code = next_plan.plan.code if next_plan else None
    period = None
    if subscription.status == SUBSCRIPTION_ACTIVE:
        tz = customer_timezone(uow, org, customer)
        domain = domain_subscription(subscription, plan.plan, tz)
        now = clock.now()
        if domain is not None and now >= domain.start:
            period = domain.fee_period(now)
    return SubscriptionView(subscription, customer, plan, previous_code, next_code, period)
