"""Progressive-billing crossings, subscription alerts and their triggers (never commits)."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import datetime
from uuid import UUID

import sqlalchemy as sa

from releve.adapters.sql.repositories.base import count_and_page, to_record, to_row
from releve.adapters.sql.tables import plans, subscriptions
from releve.adapters.sql.tables_alerts import (
    alert_threshold_crossings,
    subscription_alerts,
    triggered_alerts,
    usage_threshold_crossings,
)
from releve.adapters.sql.tables_billing import fees, invoice_subscriptions, invoices
from releve.adapters.sql.tables_portal import budgets
from releve.services.alert_records import (
    Alert,
    AlertThresholdCrossing,
    EvaluationTarget,
    TriggeredAlert,
    UsageThresholdCrossing,
)
from releve.services.billing_records import INVOICE_DRAFT, INVOICE_FINALIZED
from releve.services.pagination import PageRequest
from releve.services.records import SUBSCRIPTION_ACTIVE

PROGRESSIVE = "progressive_billing"
TARGETS_CHUNK = 500  # ids per IN (...) list: well under SQLite's bound-parameter limit
LINK_KIND = "progressive"  # the invoice_subscriptions.kind of a progressive invoice


class SqlAlertRepository:
    def __init__(self, connection: sa.Connection) -> None:
        self._c = connection

    # --- progressive billing -----------------------------------------------------------------

    def crossings(self, subscription_id: UUID) -> list[UsageThresholdCrossing]:
        t = usage_threshold_crossings
        rows = self._c.execute(
            t.select().where(t.c.subscription_id == subscription_id).order_by(t.c.sequence)
        )
        return [to_record(UsageThresholdCrossing, r) for r in rows]

    def add_crossing(self, crossing: UsageThresholdCrossing) -> None:
        self._c.execute(usage_threshold_crossings.insert().values(**to_row(crossing)))

    def progressive_billed_cents(self, subscription_id: UUID, at: datetime) -> int:
        params = {"sub": subscription_id, "at": at}
        return int(self._c.execute(_PROGRESSIVE_BILLED, params).scalar_one())

    def progressive_invoices(self, subscription_id: UUID, at: datetime) -> list[UUID]:
        query = _PROGRESSIVE_IDS.order_by(
            invoices.c.finalized_at.desc(), invoices.c.sequential_id.desc()
        )
        return [row[0] for row in self._c.execute(query, {"sub": subscription_id, "at": at})]

    def invoiced_usage_cents(self, subscription_id: UUID) -> int:
        query = (
            sa.select(sa.func.coalesce(sa.func.sum(fees.c.amount_cents), 0))
            .join(invoices, invoices.c.id == fees.c.invoice_id)
            .where(
                fees.c.subscription_id == subscription_id,
                fees.c.fee_type == "charge",
                invoices.c.invoice_type == "subscription",
                invoices.c.status.in_((INVOICE_DRAFT, INVOICE_FINALIZED)),
            )
        )
        return int(self._c.execute(query).scalar_one())

    def threshold_subscriptions(self) -> list[tuple[UUID, UUID]]:
        rows = self._c.execute(
            sa.select(subscriptions.c.organization_id, subscriptions.c.id, plans.c.usage_thresholds)
            .join(plans, plans.c.id == subscriptions.c.plan_id)
            .where(subscriptions.c.status == SUBSCRIPTION_ACTIVE)
            .order_by(subscriptions.c.organization_id, subscriptions.c.id)
        )
        return [(r.organization_id, r.id) for r in rows if r.usage_thresholds]

    def evaluation_targets(self, subscription_ids: Collection[UUID]) -> list[EvaluationTarget]:
        s, a, b = subscriptions, subscription_alerts, budgets
        has_alerts = sa.exists().where(
            a.c.organization_id == s.c.organization_id,
            a.c.external_subscription_id == s.c.external_id,
        )
        has_budget = sa.exists().where(
            b.c.organization_id == s.c.organization_id, b.c.customer_id == s.c.customer_id
        )
        query = sa.select(
            s.c.id, s.c.organization_id, s.c.customer_id, s.c.status, plans.c.usage_thresholds,
            has_alerts.label("has_alerts"), has_budget.label("has_budget"),
        ).join(plans, plans.c.id == s.c.plan_id)  # fmt: skip
        ids = list(subscription_ids)
        found = []
        for i in range(0, len(ids), TARGETS_CHUNK):
            for r in self._c.execute(query.where(s.c.id.in_(ids[i : i + TARGETS_CHUNK]))):
                active = r.status == SUBSCRIPTION_ACTIVE
                thresholds = active and bool(r.usage_thresholds)
                alerted = active and bool(r.has_alerts)
                found.append(EvaluationTarget(r.id, r.organization_id, r.customer_id,
                                              thresholds, alerted, bool(r.has_budget)))  # fmt: skip
        return found

    # --- alerts ------------------------------------------------------------------------------

    def for_subscription(self, organization_id: UUID, external_id: str) -> list[Alert]:
        a = subscription_alerts
        rows = self._c.execute(
            a.select()
            .where(
                a.c.organization_id == organization_id, a.c.external_subscription_id == external_id
            )
            .order_by(a.c.created_at, a.c.code)
        )
        return [to_record(Alert, r) for r in rows]

    def get(self, organization_id: UUID, external_id: str, code: str) -> Alert | None:
        a = subscription_alerts
        row = self._c.execute(
            a.select().where(
                a.c.organization_id == organization_id,
                a.c.external_subscription_id == external_id,
                a.c.code == code,
            )
        ).first()
        return to_record(Alert, row) if row else None

    def add(self, alert: Alert) -> None:
        self._c.execute(subscription_alerts.insert().values(**to_row(alert)))

    def update(self, alert: Alert) -> None:
        a = subscription_alerts
        self._c.execute(a.update().where(a.c.id == alert.id).values(**to_row(alert)))

    def delete(self, alert: Alert) -> None:
        # Explicit child deletes: SQLite only cascades with PRAGMA foreign_keys on.
        self._c.execute(
            alert_threshold_crossings.delete().where(
                alert_threshold_crossings.c.alert_id == alert.id
            )
        )
        self._c.execute(triggered_alerts.delete().where(triggered_alerts.c.alert_id == alert.id))
        self._c.execute(subscription_alerts.delete().where(subscription_alerts.c.id == alert.id))

    def list_alerts(
        self, organization_id: UUID, external_id: str, page: PageRequest
    ) -> tuple[list[Alert], int]:
        a = subscription_alerts
        query = (
            a.select()
            .where(
                a.c.organization_id == organization_id, a.c.external_subscription_id == external_id
            )
            .order_by(a.c.created_at, a.c.code)
        )
        rows, total = count_and_page(self._c, query, page.offset, page.per_page)
        return [to_record(Alert, r) for r in rows], total

    def alerted_subscriptions(self) -> list[tuple[UUID, str]]:
        a = subscription_alerts
        rows = self._c.execute(
            sa.select(a.c.organization_id, a.c.external_subscription_id)
            .distinct()
            .order_by(a.c.organization_id, a.c.external_subscription_id)
        )
        return [(r[0], r[1]) for r in rows]

    def alert_crossings(
        self, alert_id: UUID, period_start: datetime
    ) -> list[AlertThresholdCrossing]:
        t = alert_threshold_crossings
        rows = self._c.execute(
            t.select().where(t.c.alert_id == alert_id, t.c.period_start == period_start)
        )
        return [to_record(AlertThresholdCrossing, r) for r in rows]

    def triggers_count(self, alert_id: UUID) -> int:
        t = triggered_alerts
        return int(
            self._c.execute(
                sa.select(sa.func.count()).select_from(t).where(t.c.alert_id == alert_id)
            ).scalar_one()
        )

    def add_trigger(
        self, trigger: TriggeredAlert, crossings: Sequence[AlertThresholdCrossing]
    ) -> None:
        self._c.execute(triggered_alerts.insert().values(**to_row(trigger)))
        if crossings:
            self._c.execute(alert_threshold_crossings.insert(), [to_row(c) for c in crossings])

    def triggered(self, alert_id: UUID, page: PageRequest) -> tuple[list[TriggeredAlert], int]:
        t = triggered_alerts
        query = t.select().where(t.c.alert_id == alert_id).order_by(t.c.sequence.desc())
        rows, total = count_and_page(self._c, query, page.offset, page.per_page)
        return [to_record(TriggeredAlert, r) for r in rows], total


def _progressive_ids() -> sa.Select[tuple[UUID]]:
    """The finalized progressive invoices of subscription `:sub` whose charge period holds
    `:at` (built once: the bill run asks it for every period-end invoice)."""
    link = invoice_subscriptions
    return (
        sa.select(invoices.c.id)
        .join(link, link.c.invoice_id == invoices.c.id)
        .where(
            link.c.subscription_id == sa.bindparam("sub"),
            link.c.kind == LINK_KIND,
            invoices.c.invoice_type == PROGRESSIVE,
            invoices.c.status == INVOICE_FINALIZED,
            link.c.charges_from_datetime < sa.bindparam("at"),
            link.c.charges_to_datetime >= sa.bindparam("at"),
        )
    )


_PROGRESSIVE_IDS = _progressive_ids()
_PROGRESSIVE_BILLED = sa.select(
    sa.func.coalesce(
        sa.func.sum(
            invoices.c.fees_amount_cents - invoices.c.progressive_billing_credit_amount_cents
        ),
        0,
    )
).where(invoices.c.id.in_(sa.select(_PROGRESSIVE_IDS.subquery().c.id)))
