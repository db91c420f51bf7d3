"""The subscription use cases (see the package docstring for the lifecycle): reads, create,
update, terminate, activate."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from typing import Any
from uuid import UUID

from releve.services.errors import NotFound, ValidationFailed
from releve.services.list_filters import customer_filter
from releve.services.pagination import Page, PageRequest
from releve.services.plans import unnamed_currency
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
    Subscription,
)
from releve.services.subscriptions.creation import (
    change_plan,
    child_plan,
    customer_for,
    parse_time,
    start_subscription,
)
from releve.services.subscriptions.termination import terminate_in
from releve.services.subscriptions.views import (
    SubscriptionView,
    subscription_view,
    subscription_views,
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
        return subscription_view(uow, subscription, self._clock)

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
            known, customer_id = customer_filter(
                uow.customers, organization_id, external_customer_id
            )
            if not known:
                return Page([], page, 0)
            plan_id = None
            if plan_code is not None:
                stored = uow.plans.get(organization_id, plan_code)
                if stored is None:
                    return Page([], page, 0)
                plan_id = stored.id
            items, total = uow.subscriptions.list(
                organization_id, SubscriptionFilter(wanted, customer_id, plan_id), page
            )
            return Page(subscription_views(uow, organization_id, items, self._clock), page, total)

    # --- writes ------------------------------------------------------------------------------

    def create(self, organization_id: UUID, values: Mapping[str, Any]) -> SubscriptionView:
        """Create, upgrade or downgrade (see the module docstring)."""
        errors = Errors()
        for name in ("external_customer_id", "plan_code", "external_id"):
            check_required_string(errors, name, values.get(name))
        billing_time = values.get("billing_time") or "calendar"
        if billing_time not in ("calendar", "anniversary"):
            errors.add("billing_time", "value_is_invalid")
        subscription_at = parse_time(errors, "subscription_at", values.get("subscription_at"))
        ending_at = parse_time(errors, "ending_at", values.get("ending_at"))
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
                customer = customer_for(
                    uow, self._clock, organization_id, str(values["external_customer_id"])
                )
                current = uow.subscriptions.current(organization_id, external_id)
                if current is not None and current.customer_id != customer.id:
                    raise ValidationFailed.one("external_id", "value_already_exist")
                plan_id = stored.id
                if overrides:
                    plan_id = child_plan(uow, self._currencies, stored, stored.plan, overrides, now)
                fields = {
                    "name": display_name,
                    "billing_time": billing_time,
                    "ending_at": ending_at,
                }
                if current is None:
                    result = start_subscription(
                        uow,
                        self._recorder,
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
                    result = change_plan(
                        uow, self._recorder, current, stored, plan_id, now, display_name
                    )
                if result.status == SUBSCRIPTION_ACTIVE and result is not current:
                    self._hooks_on_start(uow, result)
                view = self.view(uow, result)
                uow.commit()
            return view

        return retry_on_conflict(attempt)

    def update(
        self, organization_id: UUID, external_id: str, values: Mapping[str, Any]
    ) -> SubscriptionView:
        """Lago's PUT: `name`, `ending_at`, `subscription_at` (pending only), `plan_overrides`."""
        errors = Errors()
        ending_at = parse_time(errors, "ending_at", values.get("ending_at"))
        subscription_at = parse_time(errors, "subscription_at", values.get("subscription_at"))
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
                    subscription.plan_id = child_plan(
                        uow, self._currencies, root, current.plan, overrides, now
                    )
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

    def terminate_due(self, now: datetime | None = None) -> Sequence[Subscription]:
        """Terminate every active subscription whose `ending_at` has come (all organizations),
        at its `ending_at` — not at the moment the scheduler noticed — with its final invoice,
        as Lago does. For the scheduler and `releve bill`."""
        moment = now or self._clock.now()
        with self._uow(read_only=True) as uow:
            due = uow.subscriptions.due_ending(moment)
        ended = []
        for candidate in due:

            def attempt(candidate: Subscription = candidate) -> Subscription | None:
                with self._uow() as uow:
                    subscription = uow.subscriptions.get_by_id(
                        candidate.organization_id, candidate.id
                    )
                    if (
                        subscription is None
                        or subscription.status != SUBSCRIPTION_ACTIVE
                        or subscription.ending_at is None
                        or subscription.ending_at > moment
                    ):
                        return None  # terminated or changed meanwhile
                    terminate_in(uow, self._recorder, subscription, subscription.ending_at)
                    self._on_terminated(uow, subscription)
                    uow.commit()
                return subscription

            result = retry_on_conflict(attempt)
            if result is not None:
                ended.append(result)
        return ended

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
