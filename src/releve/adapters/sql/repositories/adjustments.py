"""Late-event adjustments: finalized periods with late usage, what they invoiced, credits.

Detection is set-based and leaves the ingest path alone: a finalized charge period is "late"
when an event of its subscription, timestamped inside it, was ingested after the invoice's
`finalized_at`, or when one of its hourly aggregates was written after that instant (events
matched later by a rematch keep their ingestion time but rewrite the aggregates).
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime
from uuid import UUID

import sqlalchemy as sa

from releve.adapters.sql.repositories.base import to_record, to_row
from releve.adapters.sql.tables import events, subscriptions, usage_aggregates
from releve.adapters.sql.tables_adjustments import late_adjustment_credits as credits
from releve.adapters.sql.tables_billing import fees, invoice_subscriptions, invoices
from releve.domain.billing.period_invoice import InvoiceKind
from releve.services.billing_records import INVOICE_DRAFT, INVOICE_FINALIZED, Fee
from releve.services.late_records import FinalizedPeriod, LateCredit
from releve.services.records import SUBSCRIPTION_TERMINATED, Subscription

_links = invoice_subscriptions
# Links of closed billing periods. A progressive-billing link bills part of a period that is
# still open: usage arriving after it is billed by the period invoice, never adjusted; an
# adjustment invoice's link corrects periods that are themselves listed here.
_PERIOD_KINDS = tuple(kind.value for kind in InvoiceKind if kind is not InvoiceKind.ADJUSTMENT)


class SqlAdjustmentRepository:
    def __init__(self, connection: sa.Connection) -> None:
        self._c = connection

    def late_periods(self, subscription_ids: Collection[UUID]) -> list[FinalizedPeriod]:
        if not subscription_ids:
            return []
        rows = self._c.execute(
            sa.select(
                invoices.c.id.label("invoice_id"),
                invoices.c.number,
                invoices.c.finalized_at,
                _links.c.subscription_id,
                _links.c.kind,
                _links.c.boundary,
                _links.c.charges_from_datetime.label("period_start"),
                _links.c.charges_to_datetime.label("period_end"),
            )
            .join(invoices, invoices.c.id == _links.c.invoice_id)
            .where(_links.c.subscription_id.in_(sorted(subscription_ids)), *_late_period())
            .order_by(_links.c.subscription_id, _links.c.charges_from_datetime)
        )
        return [FinalizedPeriod(**r._mapping) for r in rows]

    def late_subscription_ids(self, among: Collection[UUID] | None = None) -> set[UUID]:
        query = (
            sa.select(_links.c.subscription_id)
            .distinct()
            .join(invoices, invoices.c.id == _links.c.invoice_id)
            .where(*_late_period())
        )
        if among is not None:
            query = query.where(_links.c.subscription_id.in_(sorted(among)))
        rows = self._c.execute(query)
        return {row.subscription_id for row in rows}

    def late_events_count(self, period: FinalizedPeriod) -> int:
        count = self._c.execute(
            sa.select(sa.func.count()).where(
                events.c.subscription_id == period.subscription_id,
                events.c.timestamp >= period.period_start,
                events.c.timestamp < period.period_end,
                events.c.created_at > period.finalized_at,
            )
        ).scalar_one()
        return int(count)

    def invoiced_fees(self, period: FinalizedPeriod) -> list[Fee]:
        original = fees.select().where(
            fees.c.invoice_id == period.invoice_id,
            fees.c.subscription_id == period.subscription_id,
            fees.c.fee_type == "charge",
        )
        adjusted = (
            sa.select(fees)
            .join(invoices, invoices.c.id == fees.c.invoice_id)
            .where(
                fees.c.subscription_id == period.subscription_id,
                fees.c.fee_type == "adjustment",
                fees.c.from_datetime == period.period_start,
                invoices.c.status == INVOICE_FINALIZED,
            )
            .order_by(fees.c.created_at, fees.c.id)
        )
        found = [to_record(Fee, r) for r in self._c.execute(original.order_by(fees.c.position))]
        return found + [to_record(Fee, r) for r in self._c.execute(adjusted)]

    def terminated_with_new_usage(self, at: datetime) -> list[tuple[Subscription, datetime]]:
        subs = subscriptions.c
        newest_usage = (
            sa.select(sa.func.max(usage_aggregates.c.updated_at))
            .where(
                usage_aggregates.c.organization_id == subs.organization_id,
                usage_aggregates.c.subscription_id == subs.id,
            )
            .scalar_subquery()
        )
        newest_link = (
            sa.select(sa.func.max(_links.c.created_at))
            .where(_links.c.subscription_id == subs.id)
            .scalar_subquery()
        )
        draft = (
            sa.select(_links.c.invoice_id)
            .join(invoices, invoices.c.id == _links.c.invoice_id)
            .where(_links.c.subscription_id == subs.id, invoices.c.status == INVOICE_DRAFT)
            .exists()
        )
        rows = self._c.execute(
            sa.select(subscriptions, newest_usage.label("usage_version"))
            .where(
                subs.status == SUBSCRIPTION_TERMINATED,
                subs.terminated_at <= at,
                newest_usage > newest_link,
                newest_usage <= at,
                ~draft,
            )
            .order_by(subs.organization_id, subs.id)
        )
        found = []
        for row in rows:
            values = dict(row._mapping)
            version = values.pop("usage_version")
            found.append((Subscription(**values), version))
        return found

    def credits(self, period: FinalizedPeriod) -> list[LateCredit]:
        rows = self._c.execute(
            credits.select()
            .where(
                credits.c.subscription_id == period.subscription_id,
                credits.c.period_start == period.period_start,
            )
            .order_by(credits.c.bucket, credits.c.sequence)
        )
        return [to_record(LateCredit, r) for r in rows]

    def add_credit(self, credit: LateCredit) -> None:
        self._c.execute(credits.insert().values(**to_row(credit)))


def _late_period() -> tuple[sa.ColumnElement[bool], ...]:
    """A link (joined to its invoice) of a finalized closed period with usage written after
    the invoice's `finalized_at`: an event ingested, or an hourly aggregate rewritten."""
    late_event = (
        sa.select(events.c.id)
        .where(
            events.c.organization_id == _links.c.organization_id,
            events.c.subscription_id == _links.c.subscription_id,
            events.c.timestamp >= _links.c.charges_from_datetime,
            events.c.timestamp < _links.c.charges_to_datetime,
            events.c.created_at > invoices.c.finalized_at,
        )
        .exists()
    )
    late_aggregate = (
        sa.select(usage_aggregates.c.hour_start)
        .where(
            usage_aggregates.c.organization_id == _links.c.organization_id,
            usage_aggregates.c.subscription_id == _links.c.subscription_id,
            usage_aggregates.c.hour_start >= _links.c.charges_from_datetime,
            usage_aggregates.c.hour_start < _links.c.charges_to_datetime,
            usage_aggregates.c.updated_at > invoices.c.finalized_at,
        )
        .exists()
    )
    return (
        invoices.c.status == INVOICE_FINALIZED,
        _links.c.kind.in_(_PERIOD_KINDS),
        _links.c.charges_from_datetime.is_not(None),
        _links.c.charges_to_datetime > _links.c.charges_from_datetime,
        sa.or_(late_event, late_aggregate),
    )
