"""What progressive billing and subscription alerts store, and the repository port they use.

Field names equal the column names (`adapters/sql/tables_alerts.py`). Amounts are integer minor
units; alert values are Decimals (minor units for amount alerts, units for unit alerts); times
are aware UTC datetimes.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any, Protocol
from uuid import UUID

from releve.services.billing_ports import BillingUnitOfWork
from releve.services.pagination import PageRequest

ALERT_TYPES = (
    "current_usage_amount",
    "billable_metric_current_usage_amount",
    "billable_metric_current_usage_units",
    "lifetime_usage_amount",
)
METRIC_ALERT_TYPES = ALERT_TYPES[1:3]


@dataclass(slots=True)
class UsageThresholdCrossing:
    """A progressive-billing threshold point crossed by a subscription's lifetime usage."""

    id: UUID
    organization_id: UUID
    subscription_id: UUID
    sequence: int
    threshold_amount_cents: int
    lifetime_usage_amount_cents: int
    period_start: datetime
    period_end: datetime
    invoice_id: UUID | None
    created_at: datetime


@dataclass(slots=True)
class Alert:
    id: UUID
    organization_id: UUID
    external_subscription_id: str
    alert_type: str
    code: str
    name: str | None
    billable_metric_id: UUID | None
    thresholds: list[dict[str, Any]]  # [{"code", "value" (decimal text), "recurring"}]
    created_at: datetime
    updated_at: datetime
    previous_value: Decimal | None = None
    last_processed_at: datetime | None = None


@dataclass(slots=True)
class TriggeredAlert:
    id: UUID
    organization_id: UUID
    alert_id: UUID
    subscription_id: UUID
    sequence: int
    period_start: datetime
    current_value: Decimal
    previous_value: Decimal
    crossed_thresholds: list[dict[str, Any]] = field(default_factory=list)
    triggered_at: datetime | None = None


@dataclass(slots=True)
class AlertThresholdCrossing:
    id: UUID
    organization_id: UUID
    alert_id: UUID
    triggered_alert_id: UUID
    period_start: datetime
    threshold_value: str
    recurring: bool


@dataclass(frozen=True, slots=True)
class EvaluationTarget:
    """What the usage evaluator must look at for one touched subscription (`evaluation_targets`):
    nothing at all for most, so the per-subscription reads are skipped."""

    subscription_id: UUID
    organization_id: UUID
    customer_id: UUID
    has_thresholds: bool  # active, and its plan has usage thresholds (progressive billing)
    has_alerts: bool  # active, and at least one alert names its external id
    has_budget: bool  # its customer has a budget

    @property
    def relevant(self) -> bool:
        return self.has_thresholds or self.has_alerts or self.has_budget


class AlertRepository(Protocol):
    # --- progressive billing ---
    def crossings(self, subscription_id: UUID) -> list[UsageThresholdCrossing]: ...
    def add_crossing(self, crossing: UsageThresholdCrossing) -> None: ...
    def progressive_billed_cents(self, subscription_id: UUID, at: datetime) -> int:
        """Σ (fees − progressive credit) of the finalized progressive invoices whose charge
        period contains `at` (start < at <= end): the usage they billed."""
        ...

    def progressive_invoices(self, subscription_id: UUID, at: datetime) -> list[UUID]:
        """The same invoices, newest first."""
        ...

    def invoiced_usage_cents(self, subscription_id: UUID) -> int:
        """Σ charge fees of the subscription's draft or finalized subscription invoices."""
        ...

    def threshold_subscriptions(self) -> list[tuple[UUID, UUID]]:
        """(organization id, subscription id) of active subscriptions whose plan has usage
        thresholds, all organizations."""
        ...

    def evaluation_targets(self, subscription_ids: Collection[UUID]) -> list[EvaluationTarget]:
        """One row per existing subscription of `subscription_ids` (any organization; the caller
        checks the organization), in one query per 500 ids: what the usage evaluator must do."""
        ...

    # --- alerts ---
    def for_subscription(self, organization_id: UUID, external_id: str) -> list[Alert]: ...
    def get(self, organization_id: UUID, external_id: str, code: str) -> Alert | None: ...
    def add(self, alert: Alert) -> None: ...
    def update(self, alert: Alert) -> None: ...
    def delete(self, alert: Alert) -> None: ...
    def list_alerts(
        self, organization_id: UUID, external_id: str, page: PageRequest
    ) -> tuple[list[Alert], int]: ...
    def alerted_subscriptions(self) -> list[tuple[UUID, str]]:
        """(organization id, external subscription id) having alerts, all organizations."""
        ...

    def alert_crossings(
        self, alert_id: UUID, period_start: datetime
    ) -> list[AlertThresholdCrossing]: ...
    def triggers_count(self, alert_id: UUID) -> int: ...
    def add_trigger(
        self, trigger: TriggeredAlert, crossings: Sequence[AlertThresholdCrossing]
    ) -> None: ...
    def triggered(self, alert_id: UUID, page: PageRequest) -> tuple[list[TriggeredAlert], int]: ...


class AlertUnitOfWork(BillingUnitOfWork, Protocol):
    @property
    def alerts(self) -> AlertRepository: ...

    def __enter__(self) -> AlertUnitOfWork: ...


class AlertUnitOfWorkFactory(Protocol):
    def __call__(self, *, read_only: bool = False) -> AlertUnitOfWork: ...
