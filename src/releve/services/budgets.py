"""Customer budgets set in the portal (or by the operator's API), and their 80 % / 100 % alerts.

The rule, as the portal states it:

- One budget per customer: an amount per billing period, in the currency of the customer's
  subscriptions (all subscriptions in that currency count; others are ignored).
- Spend = the current usage of every active subscription in that currency, **taxes included**
  (`CurrentUsageService.current_usage(...).total_amount_cents` — the same figure as the portal's
  "Total so far" and `GET /customers/{id}/current_usage`). The subscription fee is not usage and
  is not counted: the budget is about what the customer can steer.
- The period is the current charge period of the customer's oldest active subscription in that
  currency (the one the portal lists first); alerts are keyed by its start.
- An alert fires once per (budget, period start, threshold): the crossing is stored with a
  unique key, and a `customer.budget_alert` webhook (a Relevé extension) is recorded in the same
  unit of work. Two checks racing: the loser's insert fails at commit and its retry sees the
  winner's row, so nothing fires twice. A new period starts with no alert.
- Changing the amount clears the current period's crossings, so a raised budget alerts again
  at its own 80 % and 100 %; removing the budget removes its crossings.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any, Protocol
from uuid import UUID

from releve.domain.money import Currency
from releve.domain.periods import Period
from releve.services import webhooks
from releve.services.errors import NotFound, ValidationFailed
from releve.services.pagination import PageRequest
from releve.services.ports import Clock, SubscriptionFilter, UnitOfWork, UnitOfWorkFactory
from releve.services.records import Customer
from releve.services.transactions import retry_on_conflict
from releve.services.usage import CurrentUsageService

THRESHOLDS = (80, 100)  # percent of the budget
MAX_AMOUNT_CENTS = 10**15  # far above any real budget; keeps BIGINT and babel comfortable
MAX_SUBSCRIPTIONS = 100


@dataclass(slots=True)
class Budget:
    id: UUID
    organization_id: UUID
    customer_id: UUID
    amount_cents: int  # per billing period, minor units of `currency`
    currency: str
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True, slots=True)
class BudgetAlert:
    """A threshold crossed in one period, with the spend and budget when it was crossed."""

    id: UUID
    organization_id: UUID
    budget_id: UUID
    period_start: datetime
    period_end: datetime
    threshold: int
    spend_cents: int
    budget_cents: int
    currency: str
    created_at: datetime


class BudgetRepository(Protocol):
    def for_customer(self, organization_id: UUID, customer_id: UUID) -> Budget | None: ...
    def all(self) -> Sequence[Budget]: ...
    def add(self, budget: Budget) -> None: ...
    def update(self, budget: Budget) -> None: ...
    def delete(self, budget: Budget) -> None: ...
    def alerts(self, budget: Budget, period_start: datetime) -> Sequence[BudgetAlert]: ...
    def add_alert(self, alert: BudgetAlert) -> None: ...
    def clear_alerts(self, budget: Budget, period_start: datetime) -> None: ...


class BudgetUnitOfWork(UnitOfWork, Protocol):
    @property
    def budgets(self) -> BudgetRepository: ...

    def __enter__(self) -> BudgetUnitOfWork: ...


@dataclass(frozen=True, slots=True)
class BudgetStatus:
    """A budget against the spend of its current period, for the portal and the API."""

    budget: Budget
    spend_cents: int
    period: Period | None  # None while the customer has no active subscription in its currency
    alerts: tuple[BudgetAlert, ...]  # crossings recorded for this period, lowest first

    @property
    def ratio(self) -> Decimal:
        """Spend / budget (0.8 at 80 %), exact."""
        return Decimal(self.spend_cents) / Decimal(self.budget.amount_cents)

    @property
    def percent(self) -> int:
        """Whole percent used, rounded down (79.99 % is not yet 80 %)."""
        return self.spend_cents * 100 // self.budget.amount_cents

    @property
    def remaining_cents(self) -> int:
        return self.budget.amount_cents - self.spend_cents

    @property
    def reached(self) -> int | None:
        """The highest threshold alerted this period (80, 100), else None."""
        return max((a.threshold for a in self.alerts), default=None)


def _uses(currency: str, plan_currency: Currency) -> bool:
    return plan_currency.code == currency


class BudgetService:
    def __init__(self, uow: UnitOfWorkFactory, clock: Clock) -> None:
        self._uow: Any = uow  # the SQL unit of work carries `budgets` (BudgetUnitOfWork)
        self._clock = clock
        self._usage = CurrentUsageService(uow, clock)

    # --- reading -----------------------------------------------------------------------------

    def status(self, organization_id: UUID, external_customer_id: str) -> BudgetStatus | None:
        """The customer's budget with this period's spend and crossings; None when unset."""
        with self._uow(read_only=True) as uow:
            customer = self._customer(uow, organization_id, external_customer_id)
            budget = uow.budgets.for_customer(organization_id, customer.id)
        if budget is None:
            return None
        spend, period = self._spend(organization_id, customer, budget.currency)
        alerts: Sequence[BudgetAlert] = ()
        if period is not None:
            with self._uow(read_only=True) as uow:
                alerts = uow.budgets.alerts(budget, period.start)
        return BudgetStatus(budget, spend, period, tuple(alerts))

    def currency_for(self, organization_id: UUID, external_customer_id: str) -> Currency | None:
        """The currency of the customer's oldest active subscription (the budget's currency)."""
        with self._uow(read_only=True) as uow:
            customer = self._customer(uow, organization_id, external_customer_id)
            subscriptions = self._active(uow, organization_id, customer)
            for subscription in subscriptions:
                stored = uow.plans.get_by_id(organization_id, subscription.plan_id)
                if stored is not None:
                    currency: Currency = stored.plan.currency
                    return currency
        return None

    # --- changing ----------------------------------------------------------------------------

    def set(
        self,
        organization_id: UUID,
        external_customer_id: str,
        amount_cents: object,
        currency: object = None,
    ) -> BudgetStatus:
        """Set (or change) the budget; `amount_cents` a positive integer of minor units.
        `currency` defaults to the subscriptions' and, when they have one, must be theirs."""
        if isinstance(amount_cents, bool) or not isinstance(amount_cents, int):
            raise ValidationFailed.one("amount_cents", "value_is_invalid")
        if not 0 < amount_cents <= MAX_AMOUNT_CENTS:
            raise ValidationFailed.one("amount_cents", "value_is_invalid")
        own = self.currency_for(organization_id, external_customer_id)
        chosen = self._currency(organization_id, external_customer_id, own, currency)

        def attempt() -> None:
            now = self._clock.now()
            with self._uow() as uow:
                customer = self._customer(uow, organization_id, external_customer_id)
                budget = uow.budgets.for_customer(organization_id, customer.id)
                if budget is None:
                    uow.budgets.add(
                        Budget(uuid.uuid4(), organization_id, customer.id, amount_cents, chosen,
                               now, now)
                    )  # fmt: skip
                elif (budget.amount_cents, budget.currency) != (amount_cents, chosen):
                    _, period = self._spend(organization_id, customer, budget.currency)
                    if period is not None:
                        uow.budgets.clear_alerts(budget, period.start)
                    budget.amount_cents, budget.currency, budget.updated_at = (
                        amount_cents, chosen, now,
                    )  # fmt: skip
                    uow.budgets.update(budget)
                uow.commit()

        retry_on_conflict(attempt)
        self.check_customer(organization_id, external_customer_id)
        status = self.status(organization_id, external_customer_id)
        assert status is not None
        return status

    def set_amount(
        self, organization_id: UUID, external_customer_id: str, amount: object
    ) -> BudgetStatus:
        """Set the budget from an amount in major units ("100", "250.50", a Decimal), as the
        portal form sends it; errors name the field `amount`."""
        currency = self.currency_for(organization_id, external_customer_id)
        if currency is None:
            raise ValidationFailed.one("amount", "no_active_subscription")
        try:
            value = amount if isinstance(amount, Decimal) else Decimal(str(amount).strip())
        except (InvalidOperation, ValueError):
            raise ValidationFailed.one("amount", "value_is_invalid") from None
        if not value.is_finite() or value <= 0:
            raise ValidationFailed.one("amount", "value_is_invalid")
        cents = value.scaleb(currency.exponent)
        if cents != cents.to_integral_value():
            raise ValidationFailed.one("amount", "too_many_decimals")
        if cents > MAX_AMOUNT_CENTS:
            raise ValidationFailed.one("amount", "value_is_too_large")
        return self.set(organization_id, external_customer_id, int(cents), currency.code)

    def remove(self, organization_id: UUID, external_customer_id: str) -> None:
        """Remove the budget and its crossings (no budget is not an error)."""
        with self._uow() as uow:
            customer = self._customer(uow, organization_id, external_customer_id)
            budget = uow.budgets.for_customer(organization_id, customer.id)
            if budget is not None:
                uow.budgets.delete(budget)
                uow.commit()

    # --- alerts ------------------------------------------------------------------------------

    def check(self, organization_id: UUID, customer_id: UUID) -> list[BudgetAlert]:
        """Record (and announce by webhook) the thresholds newly crossed this period; the
        ones returned are new. Cheap when nothing changed: no write transaction is opened."""
        with self._uow(read_only=True) as uow:
            customer = uow.customers.get_by_id(customer_id)
            budget = uow.budgets.for_customer(organization_id, customer_id)
        if customer is None or customer.organization_id != organization_id or budget is None:
            return []
        spend, period = self._spend(organization_id, customer, budget.currency)
        if period is None:
            return []
        crossed = [t for t in THRESHOLDS if spend * 100 >= t * budget.amount_cents]
        if not crossed:
            return []

        def attempt() -> list[BudgetAlert]:
            now = self._clock.now()
            with self._uow() as uow:
                current = uow.budgets.for_customer(organization_id, customer_id)
                if current is None or current.id != budget.id:
                    return []
                known = {a.threshold for a in uow.budgets.alerts(current, period.start)}
                fresh = [
                    BudgetAlert(uuid.uuid4(), organization_id, current.id, period.start,
                                period.end, t, spend, current.amount_cents, current.currency, now)
                    for t in crossed
                    if t not in known
                ]  # fmt: skip
                if not fresh:
                    return []
                for alert in fresh:
                    uow.budgets.add_alert(alert)
                    webhooks.emit(
                        uow,
                        organization_id,
                        "customer.budget_alert",
                        "budget_alert",
                        payload=alert_payload(alert, customer),
                    )
                uow.commit()
            return fresh

        return retry_on_conflict(attempt)

    def check_customer(self, organization_id: UUID, external_customer_id: str) -> None:
        with self._uow(read_only=True) as uow:
            customer = self._customer(uow, organization_id, external_customer_id)
        self.check(organization_id, customer.id)

    def check_all(self) -> int:
        """Check every budget of every organization (the scheduler's tick); new alerts count."""
        with self._uow(read_only=True) as uow:
            budgets = list(uow.budgets.all())
        return sum(len(self.check(b.organization_id, b.customer_id)) for b in budgets)

    # --- helpers -----------------------------------------------------------------------------

    @staticmethod
    def _customer(uow: Any, organization_id: UUID, external_id: str) -> Customer:
        customer: Customer | None = uow.customers.get(organization_id, external_id)
        if customer is None:
            raise NotFound("customer")
        return customer

    @staticmethod
    def _active(uow: Any, organization_id: UUID, customer: Customer) -> list[Any]:
        found, _ = uow.subscriptions.list(
            organization_id,
            SubscriptionFilter(customer_id=customer.id),
            PageRequest(1, MAX_SUBSCRIPTIONS),
        )
        return sorted(found, key=lambda s: (s.started_at or s.created_at, s.external_id))

    def _currency(
        self, organization_id: UUID, external_id: str, own: Currency | None, sent: object
    ) -> str:
        if sent is None:
            if own is not None:
                return own.code
            with self._uow(read_only=True) as uow:
                customer = self._customer(uow, organization_id, external_id)
            if customer.currency:
                return customer.currency
            raise ValidationFailed.one("currency", "value_is_mandatory")
        if not isinstance(sent, str) or len(sent) != 3 or not sent.isalpha():
            raise ValidationFailed.one("currency", "value_is_invalid")
        if own is not None and sent.upper() != own.code:
            raise ValidationFailed.one("currency", "currencies_does_not_match")
        return sent.upper()

    def _spend(
        self, organization_id: UUID, customer: Customer, currency: str
    ) -> tuple[int, Period | None]:
        """Σ current usage, taxes included, of the active subscriptions in `currency`, and the
        period of the oldest of them."""
        with self._uow(read_only=True) as uow:
            subscriptions = self._active(uow, organization_id, customer)
        spend, period = 0, None
        for subscription in subscriptions:
            try:
                usage = self._usage.current_usage(
                    organization_id, customer.external_id, subscription.external_id
                )
            except NotFound:
                continue
            if not _uses(currency, usage.currency):
                continue
            spend += usage.total_amount_cents
            period = period or usage.period
        return spend, period


def alert_payload(alert: BudgetAlert, customer: Customer) -> dict[str, Any]:
    """The `budget_alert` object of the webhook (amounts in minor units, times in UTC ISO)."""
    return {
        "lago_id": str(alert.id),
        "lago_customer_id": str(customer.id),
        "external_customer_id": customer.external_id,
        "threshold_percent": alert.threshold,
        "budget_amount_cents": alert.budget_cents,
        "spend_amount_cents": alert.spend_cents,
        "currency": alert.currency,
        "period_start": alert.period_start.isoformat(),
        "period_end": alert.period_end.isoformat(),
        "created_at": alert.created_at.isoformat(),
    }
