"""What late-event adjustments read and store, and the port that does it.

`FinalizedPeriod`: a charge period billed by a finalized invoice that has seen usage since that
invoice was finalized (a late event, or events matched later by a rematch). `LateCredit`: one
negative adjustment, credited by an automatic credit note on the original invoice (field names
equal the columns of `late_adjustment_credits`). Amounts are signed integer minor units.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Protocol
from uuid import UUID

from releve.services.billing_ports import BillingUnitOfWork
from releve.services.billing_records import Fee
from releve.services.records import Subscription


@dataclass(frozen=True, slots=True)
class FinalizedPeriod:
    invoice_id: UUID
    number: str
    finalized_at: datetime
    subscription_id: UUID
    kind: str  # the original invoice's InvoiceKind value
    boundary: datetime  # the instant the original invoice billed at
    period_start: datetime  # its charges_from_datetime
    period_end: datetime  # its charges_to_datetime


@dataclass(slots=True)
class LateCredit:
    id: UUID
    organization_id: UUID
    subscription_id: UUID
    original_invoice_id: UUID
    period_start: datetime
    period_end: datetime
    charge_id: UUID
    bucket: str
    sequence: int
    amount_cents: int
    invoiced_amount_cents: int
    current_amount_cents: int
    units: Decimal
    explanation: str
    created_at: datetime
    credit_note_id: UUID | None = None


class AdjustmentRepository(Protocol):
    def late_periods(self, subscription_ids: Collection[UUID]) -> list[FinalizedPeriod]:
        """Finalized charge periods of these subscriptions with usage written after the
        invoice's `finalized_at` (one query), oldest first."""
        ...

    def late_subscription_ids(self, among: Collection[UUID] | None = None) -> set[UUID]:
        """Every subscription (all organizations; or of `among`) with at least one such period
        (one query): a bill run asks once per chunk instead of once per subscription."""
        ...

    def late_events_count(self, period: FinalizedPeriod) -> int:
        """Events of the period's subscription and period ingested after its finalization."""
        ...

    def invoiced_fees(self, period: FinalizedPeriod) -> list[Fee]:
        """The original invoice's charge fees of the subscription, then every `adjustment`
        fee of that period on a finalized invoice."""
        ...

    def terminated_with_new_usage(self, at: datetime) -> list[tuple[Subscription, datetime]]:
        """Terminated (by `at`) subscriptions, already invoiced, whose usage aggregates were
        written after their newest invoice link and no later than `at`, with no draft invoice
        (a draft still counts late usage when finalized): each with the newest aggregate
        `updated_at`, the key of the `ADJUSTMENT` invoice that settles that usage."""
        ...

    def credits(self, period: FinalizedPeriod) -> list[LateCredit]: ...
    def add_credit(self, credit: LateCredit) -> None:
        """A duplicate (subscription, period, bucket, sequence) raises StoreConflict."""
        ...


class AdjustmentUnitOfWork(BillingUnitOfWork, Protocol):
    @property
    def adjustments(self) -> AdjustmentRepository: ...
