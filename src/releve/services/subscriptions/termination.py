"""Ending subscriptions inside the caller's unit of work: terminate an active one, cancel a
pending one (and unlink it from the subscription it was to follow)."""

from __future__ import annotations

from datetime import datetime

from releve.services.ports import UnitOfWork
from releve.services.records import (
    SUBSCRIPTION_ACTIVE,
    SUBSCRIPTION_CANCELED,
    SUBSCRIPTION_PENDING,
    SUBSCRIPTION_TERMINATED,
    Subscription,
)
from releve.services.usage_recording import UsageRecorder


def terminate_in(
    uow: UnitOfWork,
    recorder: UsageRecorder,
    subscription: Subscription,
    at: datetime,
) -> Subscription:
    """End an active subscription at `at` (or cancel a pending one), in the caller's unit of
    work: its pending downgrade is canceled, and events at or after `at` leave its usage."""
    org = subscription.organization_id
    if subscription.status == SUBSCRIPTION_PENDING:
        return cancel_in(uow, subscription, at)
    if subscription.status != SUBSCRIPTION_ACTIVE:
        return subscription
    if subscription.next_subscription_id is not None:
        following = uow.subscriptions.get_by_id(org, subscription.next_subscription_id)
        if following is not None and following.status == SUBSCRIPTION_PENDING:
            following.status = SUBSCRIPTION_CANCELED
            following.canceled_at = at
            following.updated_at = at
            uow.subscriptions.update(following)
        subscription.next_subscription_id = None
        subscription.downgrade_plan_date = None
    subscription.status = SUBSCRIPTION_TERMINATED
    subscription.terminated_at = at
    subscription.updated_at = at
    uow.subscriptions.update(subscription)
    recorder.rematch(uow, org, subscription.external_id, since=at)
    return subscription


def cancel_in(uow: UnitOfWork, subscription: Subscription, at: datetime) -> Subscription:
    """Cancel a pending subscription at `at`; the one it was to follow forgets it."""
    org = subscription.organization_id
    subscription.status = SUBSCRIPTION_CANCELED
    subscription.canceled_at = at
    subscription.updated_at = at
    uow.subscriptions.update(subscription)
    if subscription.previous_subscription_id is not None:
        previous = uow.subscriptions.get_by_id(org, subscription.previous_subscription_id)
        if previous is not None and previous.next_subscription_id == subscription.id:
            previous.next_subscription_id = None
            previous.downgrade_plan_date = None
            previous.updated_at = at
            uow.subscriptions.update(previous)
    return subscription
