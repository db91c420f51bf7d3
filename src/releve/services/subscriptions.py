"""Subscriptions (Lago's /subscriptions): create, upgrade, downgrade, update, terminate, activate.

Lifecycle (lago-api.md §4.1):
- `POST` with a new external id creates the subscription (and the customer if missing). A start
  (`subscription_at`) in the past or now makes it `active` from that start (events already stored
  in its window are matched and counted in the same transaction); a future start makes it
  `pending` until `activate_due` runs at or after that time.
- `POST` with the external id of an active subscription on another plan changes plan: an
  **upgrade** (new yearly amount ≥ old, Lago's rule) applies now — the old one is terminated,
  the new one is active from now and keeps the billing anchor (`subscription_at`); a
  **downgrade** creates a `pending` subscription starting at the end of the current period,
  shown as `next_plan_code` / `downgrade_plan_date`; a second downgrade cancels the first.
- `DELETE` terminates (`terminate`); with `status=pending` it cancels the pending one.
- `plan_overrides` create a child plan (domain `apply_overrides`) used by this subscription only.

Final invoices on termination are another use case's job: `terminate` returns the terminated
subscription and is the one place they hook in. No invoice is produced here.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime, tzinfo
from typing import Any
from uuid import UUID

from releve.domain.billing.plan_change import ChangeKind, change_kind
from releve.domain.periods import BillingTime, Period, local_date, parse_timezone
from releve.domain.plans import Plan, apply_overrides
from releve.domain.subscriptions import Subscription as DomainSubscription
from releve.services.errors import NotFound, ValidationFailed
from releve.services.event_input import parse_timestamp
from releve.services.pagination import Page, PageRequest
from releve.services.plans import (
    check_tax_codes,
    domain_errors_as_422,
    new_id,
    unnamed_currency,
)
from releve.services.ports import (
    Clock,
    CurrencyCatalog,
    SubscriptionFilter,
    UnitOfWork,
    UnitOfWorkFactory,
)
from releve.services.records import (
    SUBSCRIPTION_ACTIVE,
    SUBSCRIPTION_CANCELED,
    SUBSCRIPTION_PENDING,
    SUBSCRIPTION_TERMINATED,
    Customer,
    StoredPlan,
    Subscription,
)
from releve.services.transactions import retry_on_conflict
from releve.services.usage_recording import UsageRecorder
from releve.services.validation import Errors, check_required_string

STATUSES = (
    SUBSCRIPTION_ACTIVE,
    SUBSCRIPTION_PENDING,
    SUBSCRIPTION_TERMINATED,
    SUBSCRIPTION_CANCELED,
)
ON_TERMINATION_CREDIT_NOTE = ("credit", "refund", "offset", "skip")
ON_TERMINATION_INVOICE = ("generate", "skip")
# Called inside a unit of work, before its commit (see `SubscriptionService.__init__`).
SubscriptionHook = Callable[[UnitOfWork, Subscription], None]


@dataclass(frozen=True, slots=True)
class SubscriptionView:
    """A subscription with what its API object shows (customer, plan, chain, current period)."""

    subscription: Subscription
    customer: Customer
    plan: StoredPlan
    previous_plan_code: str | None
    next_plan_code: str | None
    current_period: Period | None


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


def _time(errors: Errors, field: str, value: Any) -> datetime | None:
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
        return _cancel(uow, subscription, at)
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


def _cancel(uow: UnitOfWork, subscription: Subscription, at: datetime) -> Subscription:
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


class SubscriptionService:
    def __init__(
        self,
        uow: UnitOfWorkFactory,
        clock: Clock,
        currencies: CurrencyCatalog,
        recorder: UsageRecorder | None = None,
        *,
        on_started: SubscriptionHook | None = None,
        on_terminated: SubscriptionHook | None = None,
    ) -> None:
        """`on_started` / `on_terminated` run inside the unit of work that activated or
        terminated a subscription, before it commits (billing issues the start and final
        invoices there, so they commit with the change or not at all)."""
        self._uow = uow
        self._clock = clock
        self._currencies = unnamed_currency(currencies)
        self._recorder = recorder or UsageRecorder(clock.now)
        self._on_started = on_started or _no_hook
        self._on_terminated = on_terminated or _no_hook

    # --- reads -------------------------------------------------------------------------------

    def view(self, uow: UnitOfWork, subscription: Subscription) -> SubscriptionView:
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
            now = self._clock.now()
            if domain is not None and now >= domain.start:
                period = domain.fee_period(now)
        return SubscriptionView(subscription, customer, plan, previous_code, next_code, period)

    def get(self, organization_id: UUID, external_id: str) -> SubscriptionView:
        """The active subscription of the external id, else its pending one, else the latest."""
        with self._uow(read_only=True) as uow:
            chain = uow.subscriptions.for_external_ids(organization_id, [external_id])
            if not chain:
                raise NotFound("subscription")
            rank = {SUBSCRIPTION_ACTIVE: 0, SUBSCRIPTION_PENDING: 1}
            chosen = min(chain, key=lambda s: (rank.get(s.status, 2), -s.created_at.timestamp()))
            return self.view(uow, chosen)

    def list(
        self,
        organization_id: UUID,
        page: PageRequest,
        *,
        statuses: Sequence[str] = (),
        external_customer_id: str | None = None,
        plan_code: str | None = None,
    ) -> Page[SubscriptionView]:
        """Lago's list: active ones unless `status[]` says otherwise."""
        wanted = tuple(statuses) or (SUBSCRIPTION_ACTIVE,)
        bad = [s for s in wanted if s not in STATUSES]
        if bad:
            raise ValidationFailed.one("status", "value_is_invalid")
        with self._uow(read_only=True) as uow:
            customer_id = plan_id = None
            if external_customer_id is not None:
                customer = uow.customers.get(organization_id, external_customer_id)
                if customer is None:
                    return Page([], page, 0)
                customer_id = customer.id
            if plan_code is not None:
                stored = uow.plans.get(organization_id, plan_code)
                if stored is None:
                    return Page([], page, 0)
                plan_id = stored.id
            items, total = uow.subscriptions.list(
                organization_id, SubscriptionFilter(wanted, customer_id, plan_id), page
            )
            return Page([self.view(uow, s) for s in items], page, total)

    # --- writes ------------------------------------------------------------------------------

    def create(self, organization_id: UUID, values: Mapping[str, Any]) -> SubscriptionView:
        """Create, upgrade or downgrade (see the module docstring)."""
        errors = Errors()
        for name in ("external_customer_id", "plan_code", "external_id"):
            check_required_string(errors, name, values.get(name))
        billing_time = values.get("billing_time") or "calendar"
        if billing_time not in ("calendar", "anniversary"):
            errors.add("billing_time", "value_is_invalid")
        subscription_at = _time(errors, "subscription_at", values.get("subscription_at"))
        ending_at = _time(errors, "ending_at", values.get("ending_at"))
        display_name = values.get("name")
        if display_name is not None and not isinstance(display_name, str):
            errors.add("name", "value_is_invalid")
        overrides = values.get("plan_overrides")
        if overrides is not None and not isinstance(overrides, Mapping):
            errors.add("plan_overrides", "value_is_invalid")
        if errors:
            raise ValidationFailed(errors.details)
        external_id = str(values["external_id"])

        def attempt() -> SubscriptionView:
            now = self._clock.now()
            with self._uow() as uow:
                stored = uow.plans.get(organization_id, str(values["plan_code"]))
                if stored is None:
                    raise NotFound("plan")
                customer = self._customer(uow, organization_id, str(values["external_customer_id"]))
                current = uow.subscriptions.current(organization_id, external_id)
                if current is not None and current.customer_id != customer.id:
                    raise ValidationFailed.one("external_id", "value_already_exist")
                plan_id = stored.id
                if overrides:
                    plan_id = self._child_plan(uow, stored, stored.plan, overrides, now)
                fields = {
                    "name": display_name,
                    "billing_time": billing_time,
                    "ending_at": ending_at,
                }
                if current is None:
                    result = self._start(
                        uow,
                        organization_id,
                        customer,
                        plan_id,
                        external_id,
                        subscription_at or now,
                        now,
                        fields,
                    )
                elif current.status == SUBSCRIPTION_PENDING:
                    # A future start not yet active: the new request replaces its plan.
                    current.plan_id = plan_id
                    current.name = display_name if display_name is not None else current.name
                    current.updated_at = now
                    uow.subscriptions.update(current)
                    result = current
                else:
                    result = self._change_plan(uow, current, stored, plan_id, now, display_name)
                if result.status == SUBSCRIPTION_ACTIVE and result is not current:
                    self._hooks_on_start(uow, result)
                view = self.view(uow, result)
                uow.commit()
            return view

        return retry_on_conflict(attempt)

    def _customer(self, uow: UnitOfWork, organization_id: UUID, external_id: str) -> Customer:
        """The customer, created on the fly when missing (Lago's find_or_initialize_by)."""
        customer = uow.customers.get(organization_id, external_id)
        if customer is None:
            now = self._clock.now()
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

    def _start(
        self,
        uow: UnitOfWork,
        organization_id: UUID,
        customer: Customer,
        plan_id: UUID,
        external_id: str,
        start: datetime,
        now: datetime,
        fields: Mapping[str, Any],
    ) -> Subscription:
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
            self._recorder.rematch(uow, organization_id, external_id, since=start)
        return subscription

    def _change_plan(
        self,
        uow: UnitOfWork,
        current: Subscription,
        target: StoredPlan,
        plan_id: UUID,
        now: datetime,
        name: str | None,
    ) -> Subscription:
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
            _cancel(uow, pending, now)  # a second plan change replaces a pending downgrade
            current = uow.subscriptions.get_by_id(org, current.id) or current
        if change_kind(current_plan.plan, new_plan.plan) is ChangeKind.UPGRADE:
            terminate_in(uow, self._recorder, current, now)
            successor.status = SUBSCRIPTION_ACTIVE
            successor.started_at = now
            uow.subscriptions.add(successor)
            current.next_subscription_id = successor.id
            uow.subscriptions.update(current)
            self._recorder.rematch(uow, org, current.external_id, since=now)
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

    def _child_plan(
        self,
        uow: UnitOfWork,
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
                {**c, "id": to_base.get(str(c.get("id")), c.get("id"))}
                if isinstance(c, Mapping)
                else c
                for c in overrides["charges"]
            ]
        with domain_errors_as_422():
            child = apply_overrides(base, translated, currency=self._currencies, new_id=new_id)
        to_root = {c.id: c.parent_id or c.id for c in base.charges}
        child = replace(
            child,
            parent_id=root.plan.id,
            charges=tuple(
                replace(c, parent_id=to_root.get(c.parent_id or "", c.parent_id))
                for c in child.charges
            ),
        )
        check_tax_codes(uow, root.organization_id, child)
        uow.plans.add(StoredPlan(child, root.organization_id, now, now))
        return UUID(child.id)

    def update(
        self, organization_id: UUID, external_id: str, values: Mapping[str, Any]
    ) -> SubscriptionView:
        """Lago's PUT: `name`, `ending_at`, `subscription_at` (pending only), `plan_overrides`."""
        errors = Errors()
        ending_at = _time(errors, "ending_at", values.get("ending_at"))
        subscription_at = _time(errors, "subscription_at", values.get("subscription_at"))
        if "name" in values and values["name"] is not None and not isinstance(values["name"], str):
            errors.add("name", "value_is_invalid")
        overrides = values.get("plan_overrides")
        if overrides is not None and not isinstance(overrides, Mapping):
            errors.add("plan_overrides", "value_is_invalid")
        if errors:
            raise ValidationFailed(errors.details)

        def attempt() -> SubscriptionView:
            now = self._clock.now()
            with self._uow() as uow:
                subscription = uow.subscriptions.current(organization_id, external_id)
                if subscription is None:
                    raise NotFound("subscription")
                if "name" in values:
                    subscription.name = values["name"]
                if "ending_at" in values:
                    subscription.ending_at = ending_at
                if subscription_at is not None:
                    if subscription.status != SUBSCRIPTION_PENDING:
                        raise ValidationFailed.one("subscription_at", "cannot_be_updated")
                    subscription.subscription_at = subscription_at
                if overrides:
                    current = uow.plans.get_by_id(organization_id, subscription.plan_id)
                    assert current is not None
                    root_id = UUID(current.plan.parent_id) if current.plan.parent_id else current.id
                    root = uow.plans.get_by_id(organization_id, root_id)
                    assert root is not None
                    subscription.plan_id = self._child_plan(uow, root, current.plan, overrides, now)
                subscription.updated_at = now
                uow.subscriptions.update(subscription)
                if overrides and subscription.status == SUBSCRIPTION_ACTIVE:
                    # New charge ids: the usage is recomputed for them.
                    self._recorder.rematch(uow, organization_id, external_id)
                if (
                    subscription.status == SUBSCRIPTION_PENDING
                    and subscription.subscription_at <= now
                ):
                    self._activate(uow, subscription)
                view = self.view(uow, subscription)
                uow.commit()
            return view

        return retry_on_conflict(attempt)

    def terminate(
        self,
        organization_id: UUID,
        external_id: str,
        *,
        status: str | None = None,
        on_termination_credit_note: str | None = None,
        on_termination_invoice: str | None = None,
    ) -> SubscriptionView:
        """Terminate the active subscription now (a pending one is canceled); with
        `status="pending"`, cancel the pending one. Returns the terminated subscription: the
        hook where the final invoice (built elsewhere) attaches."""
        errors = Errors()
        if status not in (None, SUBSCRIPTION_ACTIVE, SUBSCRIPTION_PENDING):
            errors.add("status", "value_is_invalid")
        if on_termination_credit_note not in (None, *ON_TERMINATION_CREDIT_NOTE):
            errors.add("on_termination_credit_note", "value_is_invalid")
        if on_termination_invoice not in (None, *ON_TERMINATION_INVOICE):
            errors.add("on_termination_invoice", "value_is_invalid")
        if errors:
            raise ValidationFailed(errors.details)
        now = self._clock.now()

        def attempt() -> SubscriptionView:
            # The whole use case re-runs in a fresh transaction after a conflict (a billing
            # run that issued the same period's invoice first): the retry sees its invoice.
            with self._uow() as uow:
                if status == SUBSCRIPTION_PENDING:
                    subscription = uow.subscriptions.pending(organization_id, external_id)
                else:
                    subscription = uow.subscriptions.current(organization_id, external_id)
                if subscription is None:
                    raise NotFound("subscription")
                if on_termination_credit_note is not None:
                    subscription.on_termination_credit_note = on_termination_credit_note
                if on_termination_invoice is not None:
                    subscription.on_termination_invoice = on_termination_invoice
                terminate_in(uow, self._recorder, subscription, now)
                self._on_terminated(uow, subscription)
                view = self.view(uow, subscription)
                uow.commit()
            return view

        return retry_on_conflict(attempt)

    def terminate_plan_subscriptions(
        self, uow: UnitOfWork, organization_id: UUID, plan_id: UUID
    ) -> None:
        """End every live subscription on a plan (deleting a plan does this, as in Lago)."""
        now = self._clock.now()
        for subscription in uow.subscriptions.on_plans(organization_id, [plan_id]):
            if subscription.status in (SUBSCRIPTION_ACTIVE, SUBSCRIPTION_PENDING):
                terminate_in(uow, self._recorder, subscription, now)
                self._on_terminated(uow, subscription)

    def activate_due(self, now: datetime | None = None) -> Sequence[Subscription]:
        """Activate every pending subscription whose start has come (all organizations): a
        future start, or a downgrade at the end of its predecessor's period. For the scheduler."""
        moment = now or self._clock.now()
        with self._uow(read_only=True) as uow:
            due = uow.subscriptions.due_pending(moment)
        activated = []
        for candidate in due:

            def attempt(candidate: Subscription = candidate) -> Subscription | None:
                with self._uow() as uow:
                    subscription = uow.subscriptions.get_by_id(
                        candidate.organization_id, candidate.id
                    )
                    if subscription is None or subscription.status != SUBSCRIPTION_PENDING:
                        return None
                    self._activate(uow, subscription)
                    uow.commit()
                return subscription

            result = retry_on_conflict(attempt)
            if result is not None:
                activated.append(result)
        return activated

    def _hooks_on_start(self, uow: UnitOfWork, subscription: Subscription) -> None:
        """Billing hooks of a subscription that just became active (and of the one it
        replaced, when an upgrade or a downgrade ended it)."""
        if subscription.previous_subscription_id is not None:
            previous = uow.subscriptions.get_by_id(
                subscription.organization_id, subscription.previous_subscription_id
            )
            if previous is not None and previous.status == SUBSCRIPTION_TERMINATED:
                self._on_terminated(uow, previous)
        self._on_started(uow, subscription)

    def _activate(self, uow: UnitOfWork, subscription: Subscription) -> None:
        org = subscription.organization_id
        start = subscription.subscription_at
        if subscription.previous_subscription_id is not None:
            previous = uow.subscriptions.get_by_id(org, subscription.previous_subscription_id)
            if previous is not None and previous.status == SUBSCRIPTION_ACTIVE:
                previous.status = SUBSCRIPTION_TERMINATED
                previous.terminated_at = start
                previous.updated_at = self._clock.now()
                uow.subscriptions.update(previous)
        subscription.status = SUBSCRIPTION_ACTIVE
        subscription.started_at = start
        subscription.updated_at = self._clock.now()
        uow.subscriptions.update(subscription)
        self._recorder.rematch(uow, org, subscription.external_id, since=start)
        self._hooks_on_start(uow, subscription)


def _no_hook(uow: UnitOfWork, subscription: Subscription) -> None:
    return None
