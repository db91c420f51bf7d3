"""Creating subscriptions and changing their plan, inside the caller's unit of work: a start
(active now or pending), an upgrade or downgrade, and the child plan `plan_overrides` make."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

from releve.domain.billing.plan_change import ChangeKind, change_kind
from releve.domain.money import Currency
from releve.domain.periods import local_date
from releve.domain.plans import Plan, apply_overrides
from releve.services.event_input import parse_timestamp
from releve.services.plans import check_tax_codes, domain_errors_as_422, new_id
from releve.services.ports import Clock, UnitOfWork
from releve.services.records import (
    SUBSCRIPTION_ACTIVE,
    SUBSCRIPTION_PENDING,
    Customer,
    StoredPlan,
    Subscription,
)
from releve.services.subscriptions.termination import cancel_in, terminate_in
from releve.services.subscriptions.views import customer_timezone, domain_subscription
from releve.services.usage_recording import UsageRecorder
from releve.services.validation import Errors


def parse_time(errors: Errors, field: str, value: Any) -> datetime | None:
    """ISO 8601 (a naive time is read as UTC, as Lago does) or Unix seconds."""
    if value is None:
        return None
    parsed = parse_timestamp(value)
    if parsed is None and isinstance(value, str):
        try:
            naive = datetime.fromisoformat(value)
        except ValueError:
            naive = None
        if naive is not None and naive.tzinfo is None:
            parsed = naive.replace(tzinfo=UTC)
    if parsed is None:
        errors.add(field, "invalid_date")
    return parsed


def customer_for(
    uow: UnitOfWork, clock: Clock, organization_id: UUID, external_id: str
) -> Customer:
    """The customer, created on the fly when missing (Lago's find_or_initialize_by)."""
    customer = uow.customers.get(organization_id, external_id)
    if customer is None:
        now = clock.now()
        customer = Customer(
            id=uuid.uuid4(),
            organization_id=organization_id,
            external_id=external_id,
            sequential_id=uow.customers.next_sequential_id(organization_id),
            created_at=now,
            updated_at=now,
        )
        uow.customers.add(customer)
    return customer


def start_subscription(
    uow: UnitOfWork,
    recorder: UsageRecorder,
    organization_id: UUID,
    customer: Customer,
    plan_id: UUID,
    external_id: str,
    start: datetime,
    now: datetime,
    fields: Mapping[str, Any],
) -> Subscription:
    """A new subscription: active from `start` when it has come, else pending."""
    active = start <= now
    subscription = Subscription(
        id=uuid.uuid4(),
        organization_id=organization_id,
        customer_id=customer.id,
        plan_id=plan_id,
        external_id=external_id,
        status=SUBSCRIPTION_ACTIVE if active else SUBSCRIPTION_PENDING,
        billing_time=fields["billing_time"],
        subscription_at=start,
        started_at=start if active else None,
        ending_at=fields["ending_at"],
        name=fields["name"],
        created_at=now,
        updated_at=now,
    )
    uow.subscriptions.add(subscription)
    if active:
        # Events already stored for this external id from its start on now count.
        recorder.rematch(uow, organization_id, external_id, since=start)
    return subscription


def change_plan(
    uow: UnitOfWork,
    recorder: UsageRecorder,
    current: Subscription,
    target: StoredPlan,
    plan_id: UUID,
    now: datetime,
    name: str | None,
) -> Subscription:
    """Move an active subscription to `plan_id`: an upgrade now (returns the new active one),
    a downgrade at the end of the current period (returns `current`, pointing at it)."""
    org = current.organization_id
    current_plan = uow.plans.get_by_id(org, current.plan_id)
    assert current_plan is not None
    if current_plan.plan.code == target.plan.code and plan_id == target.id:
        return current  # same plan: POST is idempotent on external_id
    new_plan = uow.plans.get_by_id(org, plan_id)
    assert new_plan is not None
    successor = Subscription(
        id=uuid.uuid4(),
        organization_id=org,
        customer_id=current.customer_id,
        plan_id=plan_id,
        external_id=current.external_id,
        status=SUBSCRIPTION_PENDING,
        billing_time=current.billing_time,
        subscription_at=current.subscription_at,
        name=name if name is not None else current.name,
        ending_at=current.ending_at,
        previous_subscription_id=current.id,
        created_at=now,
        updated_at=now,
    )
    pending = uow.subscriptions.pending(org, current.external_id)
    if pending is not None:
        cancel_in(uow, pending, now)  # a second plan change replaces a pending downgrade
        current = uow.subscriptions.get_by_id(org, current.id) or current
    if change_kind(current_plan.plan, new_plan.plan) is ChangeKind.UPGRADE:
        terminate_in(uow, recorder, current, now)
        successor.status = SUBSCRIPTION_ACTIVE
        successor.started_at = now
        uow.subscriptions.add(successor)
        current.next_subscription_id = successor.id
        uow.subscriptions.update(current)
        recorder.rematch(uow, org, current.external_id, since=now)
        return successor
    customer = uow.customers.get_by_id(current.customer_id)
    assert customer is not None
    tz = customer_timezone(uow, org, customer)
    domain = domain_subscription(current, current_plan.plan, tz)
    assert domain is not None
    boundary = domain.fee_period(max(now, domain.start)).end
    successor.subscription_at = boundary
    uow.subscriptions.add(successor)
    current.next_subscription_id = successor.id
    current.downgrade_plan_date = local_date(boundary, tz)
    current.updated_at = now
    uow.subscriptions.update(current)
    return current


def child_plan(
    uow: UnitOfWork,
    currencies: Callable[[str], Currency],
    root: StoredPlan,
    base: Plan,
    overrides: Mapping[str, Any],
    now: datetime,
) -> UUID:
    """Store the child plan `overrides` make of `base` (the root plan or a previous child;
    `charges[].id` always names the root plan's charges, as in Lago)."""
    to_base = {c.parent_id or c.id: c.id for c in base.charges}
    translated = dict(overrides)
    if isinstance(overrides.get("charges"), list):
        translated["charges"] = [
            {**c, "id": to_base.get(str(c.get("id")), c.get("id"))} if isinstance(c, Mapping) else c
            for c in overrides["charges"]
        ]
    with domain_errors_as_422():
        child = apply_overrides(base, translated, currency=currencies, new_id=new_id)
    to_root = {c.id: c.parent_id or c.id for c in base.charges}
    child = replace(
        child,
        parent_id=root.plan.id,
        charges=tuple(
            replace(c, parent_id=to_root.get(c.parent_id or "", c.parent_id)) for c in child.charges
        ),
    )
    check_tax_codes(uow, root.organization_id, child)
    uow.plans.add(StoredPlan(child, root.organization_id, now, now))
    return UUID(child.id)
