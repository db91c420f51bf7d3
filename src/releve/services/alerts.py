"""Subscription usage alerts (Lago `/subscriptions/{external_id}/alerts`): CRUD and firing.

What each `alert_type` watches (Decimal; minor units for amounts, before taxes):
- `current_usage_amount`: every charge's usage of the current charge period (Lago's current
  usage `amount_cents`);
- `billable_metric_current_usage_amount` / `_units`: the same, for the charges of one metric
  (units: the metric's units this period — the largest of its charges', they share it);
- `lifetime_usage_amount`: the subscription's lifetime usage (`progressive_billing`).

Firing: a threshold is crossed when the value reaches it (≥); thresholds and recurring steps
follow `domain.billing.progressive.crossed`. An alert fires at most once per (alert, period,
threshold) — the current charge period; lifetime alerts use the subscription's start, so once
ever — and each firing is one `triggered_alerts` row and one `alert.triggered` webhook listing
every threshold it crossed. The unique keys (`tables_alerts`) make a repeated or concurrent
evaluation harmless. A new period starts with no crossing, so the alert fires again.
Alerts belong to the subscription's external id: they survive plan changes.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any
from uuid import UUID

from releve.domain.billing.progressive import crossed
from releve.services import webhooks
from releve.services.alert_input import normalized, parse_alert
from releve.services.alert_records import (
    Alert,
    AlertThresholdCrossing,
    AlertUnitOfWork,
    AlertUnitOfWorkFactory,
    TriggeredAlert,
)
from releve.services.errors import NotFound, ValidationFailed
from releve.services.pagination import Page, PageRequest
from releve.services.ports import Clock
from releve.services.progressive_billing import UsageSnapshot, snapshot
from releve.services.records import SUBSCRIPTION_ACTIVE, BillableMetric, Subscription
from releve.services.transactions import retry_on_conflict
from releve.services.validation import Errors


@dataclass(frozen=True, slots=True)
class AlertView:
    alert: Alert
    subscription: Subscription | None
    metric: BillableMetric | None = None

    @property
    def metric_code(self) -> str | None:
        return None if self.metric is None else self.metric.code


def alert_value(alert: Alert, snap: UsageSnapshot, metric_code: str | None) -> Decimal:
    """The value `alert` compares to its thresholds (module docstring)."""
    kind = alert.alert_type
    if kind == "current_usage_amount":
        return Decimal(snap.amount_cents)
    if kind == "lifetime_usage_amount":
        return Decimal(snap.lifetime_usage_cents)
    mine = [fees for charge, fees in snap.charges if charge.metric.code == metric_code]
    if kind == "billable_metric_current_usage_amount":
        return Decimal(sum(f.amount_cents for fees in mine for f in fees))
    return max((sum((f.units for f in fees), Decimal(0)) for fees in mine), default=Decimal(0))


def triggered_payload(
    trigger: TriggeredAlert, alert: Alert, subscription: Subscription, customer_external_id: str,
    metric_code: str | None,
) -> dict[str, Any]:  # fmt: skip
    """Lago's `triggered_alert` object (webhook `alert.triggered`, the listing below)."""
    return {
        "lago_id": str(trigger.id),
        "lago_organization_id": str(trigger.organization_id),
        "lago_alert_id": str(alert.id),
        "lago_subscription_id": str(subscription.id),
        "external_subscription_id": subscription.external_id,
        "external_customer_id": customer_external_id,
        "billable_metric_code": metric_code,
        "alert_name": alert.name,
        "alert_code": alert.code,
        "alert_type": alert.alert_type,
        "current_value": normalized(trigger.current_value),
        "previous_value": normalized(trigger.previous_value),
        "crossed_thresholds": trigger.crossed_thresholds,
        "triggered_at": None if trigger.triggered_at is None else trigger.triggered_at.isoformat(),
    }


def _new_alert(
    org: UUID, external_id: str, fields: Mapping[str, Any], metric_id: UUID | None, now: datetime
) -> Alert:
    return Alert(
        id=uuid.uuid4(),
        organization_id=org,
        external_subscription_id=external_id,
        alert_type=fields["alert_type"],
        code=fields["code"],
        name=fields["name"],
        billable_metric_id=metric_id,
        thresholds=list(fields["thresholds"]),
        created_at=now,
        updated_at=now,
    )


class AlertService:
    def __init__(self, uow: AlertUnitOfWorkFactory, clock: Clock) -> None:
        self._uow = uow
        self._clock = clock

    # --- CRUD --------------------------------------------------------------------------------

    def _subscription(self, uow: AlertUnitOfWork, org: UUID, external_id: str) -> Subscription:
        found = uow.subscriptions.for_external_ids(org, [external_id])
        if not found:
            raise NotFound("subscription")
        current = uow.subscriptions.current(org, external_id)
        return current or sorted(found, key=lambda s: s.created_at)[-1]

    def _view(self, uow: AlertUnitOfWork, alert: Alert, sub: Subscription | None) -> AlertView:
        if alert.billable_metric_id is not None:
            found = uow.billable_metrics.by_ids(alert.organization_id, [alert.billable_metric_id])
            return AlertView(alert, sub, found.get(alert.billable_metric_id))
        return AlertView(alert, sub)

    def _fields(
        self, uow: AlertUnitOfWork, org: UUID, values: Mapping[str, Any], existing: Alert | None
    ) -> tuple[dict[str, Any], UUID | None]:
        errors = Errors()
        before = None
        if existing is not None:
            view = self._view(uow, existing, None)
            before = {"alert_type": existing.alert_type, "code": existing.code,
                      "name": existing.name, "billable_metric_code": view.metric_code,
                      "thresholds": existing.thresholds}  # fmt: skip
        fields = parse_alert(values, errors, existing=before)
        metric_id = None
        code = fields["billable_metric_code"]
        if isinstance(code, str) and code and not errors.details.get("billable_metric_code"):
            metric = uow.billable_metrics.get(org, code)
            if metric is None:
                errors.add("billable_metric_code", "billable_metric_not_found")
            else:
                metric_id = metric.id
        if errors:
            raise ValidationFailed(errors.details)
        return fields, metric_id

    def create(self, org: UUID, external_id: str, values: Mapping[str, Any]) -> AlertView:
        def attempt() -> AlertView:
            now = self._clock.now()
            with self._uow() as uow:
                sub = self._subscription(uow, org, external_id)
                fields, metric_id = self._fields(uow, org, values, None)
                if uow.alerts.get(org, external_id, fields["code"]) is not None:
                    raise ValidationFailed.one("code", "value_already_exist")
                alert = _new_alert(org, external_id, fields, metric_id, now)
                uow.alerts.add(alert)
                view = self._view(uow, alert, sub)
                uow.commit()
            return view

        return retry_on_conflict(attempt)

    def create_many(
        self, org: UUID, external_id: str, items: list[Mapping[str, Any]]
    ) -> list[AlertView]:
        """Lago's batch `{"alerts": [...]}`: all or nothing, errors keyed by index."""
        if not isinstance(items, list) or not items:
            raise ValidationFailed.one("alerts", "value_is_mandatory")
        now = self._clock.now()
        with self._uow() as uow:
            sub = self._subscription(uow, org, external_id)
            errors: dict[str, Any] = {}
            views = []
            codes: set[str] = set()
            for i, values in enumerate(items):
                try:
                    if not isinstance(values, Mapping):
                        raise ValidationFailed.one("alert", "value_is_invalid")
                    fields, metric_id = self._fields(uow, org, values, None)
                    if fields["code"] in codes or uow.alerts.get(org, external_id, fields["code"]):
                        raise ValidationFailed.one("code", "value_already_exist")
                except ValidationFailed as exc:
                    errors[str(i)] = exc.error_details
                    continue
                codes.add(fields["code"])
                alert = _new_alert(org, external_id, fields, metric_id, now)
                uow.alerts.add(alert)
                views.append(self._view(uow, alert, sub))
            if errors:
                raise ValidationFailed(errors)
            uow.commit()
        return views

    def get(self, org: UUID, external_id: str, code: str) -> AlertView:
        with self._uow(read_only=True) as uow:
            sub = self._subscription(uow, org, external_id)
            alert = uow.alerts.get(org, external_id, code)
            if alert is None:
                raise NotFound("alert")
            return self._view(uow, alert, sub)

    def list(self, org: UUID, external_id: str, page: PageRequest) -> Page[AlertView]:
        with self._uow(read_only=True) as uow:
            sub = self._subscription(uow, org, external_id)
            items, total = uow.alerts.list_alerts(org, external_id, page)
            return Page([self._view(uow, a, sub) for a in items], page, total)

    def update(
        self, org: UUID, external_id: str, code: str, values: Mapping[str, Any]
    ) -> AlertView:
        def attempt() -> AlertView:
            with self._uow() as uow:
                sub = self._subscription(uow, org, external_id)
                alert = uow.alerts.get(org, external_id, code)
                if alert is None:
                    raise NotFound("alert")
                fields, metric_id = self._fields(uow, org, values, alert)
                if fields["code"] != code and uow.alerts.get(org, external_id, fields["code"]):
                    raise ValidationFailed.one("code", "value_already_exist")
                alert.code, alert.name = fields["code"], fields["name"]
                alert.billable_metric_id, alert.thresholds = metric_id, fields["thresholds"]
                alert.updated_at = self._clock.now()
                uow.alerts.update(alert)
                view = self._view(uow, alert, sub)
                uow.commit()
            return view

        return retry_on_conflict(attempt)

    def delete(self, org: UUID, external_id: str, code: str | None = None) -> list[AlertView]:
        """Delete one alert (`code`) or all of the subscription's (Lago `DELETE .../alerts`)."""
        with self._uow() as uow:
            sub = self._subscription(uow, org, external_id)
            if code is None:
                alerts = uow.alerts.for_subscription(org, external_id)
            else:
                one = uow.alerts.get(org, external_id, code)
                if one is None:
                    raise NotFound("alert")
                alerts = [one]
            views = [self._view(uow, a, sub) for a in alerts]
            for alert in alerts:
                uow.alerts.delete(alert)
            uow.commit()
        return views

    def triggered(
        self, org: UUID, external_id: str, code: str, page: PageRequest
    ) -> Page[dict[str, Any]]:
        """The alert's firings, newest first, each in Lago's triggered-alert shape."""
        with self._uow(read_only=True) as uow:
            self._subscription(uow, org, external_id)
            alert = uow.alerts.get(org, external_id, code)
            if alert is None:
                raise NotFound("alert")
            metric = self._view(uow, alert, None).metric_code
            items, total = uow.alerts.triggered(alert.id, page)
            payloads = []
            for trigger in items:
                sub = uow.subscriptions.get_by_id(org, trigger.subscription_id)
                customer = uow.customers.get_by_id(sub.customer_id) if sub else None
                assert sub is not None and customer is not None
                payloads.append(
                    triggered_payload(trigger, alert, sub, customer.external_id, metric)
                )
        return Page(payloads, page, total)

    # --- firing ------------------------------------------------------------------------------

    def evaluate(self, organization_id: UUID, subscription_id: UUID) -> list[TriggeredAlert]:
        """Fire the alerts of the subscription whose thresholds were newly crossed (module
        docstring); returns the new firings. Cheap when it has no alert: one read."""
        now = self._clock.now()
        with self._uow(read_only=True) as uow:
            sub = uow.subscriptions.get_by_id(organization_id, subscription_id)
            if sub is None or sub.status != SUBSCRIPTION_ACTIVE:
                return []
            alerts = uow.alerts.for_subscription(organization_id, sub.external_id)
            if not alerts:
                return []
            snap = snapshot(uow, sub, now)
            metrics = {a.id: self._view(uow, a, None).metric_code for a in alerts}
            due = [a for a in alerts if self._fresh(uow, a, snap, metrics[a.id])]
        fired = []
        for alert in due:
            fired.extend(retry_on_conflict(lambda a=alert: self._fire(a, sub, snap, metrics[a.id])))
        return fired

    def evaluate_all(self) -> int:
        """The scheduler's catch-up: every subscription with alerts; new firings count."""
        with self._uow(read_only=True) as uow:
            targets = []
            for org, external_id in uow.alerts.alerted_subscriptions():
                sub = uow.subscriptions.current(org, external_id)
                if sub is not None:
                    targets.append((org, sub.id))
        return sum(len(self.evaluate(org, sid)) for org, sid in targets)

    @staticmethod
    def _period_start(alert: Alert, snap: UsageSnapshot) -> datetime:
        if alert.alert_type == "lifetime_usage_amount":
            return snap.domain.start
        return snap.period.start

    def _crossing(
        self, uow: AlertUnitOfWork, alert: Alert, snap: UsageSnapshot, metric: str | None
    ) -> tuple[Decimal, list[dict[str, Any]], list[tuple[str, bool]]]:
        """The value and the thresholds crossed and not yet stored for this period."""
        value = alert_value(alert, snap, metric)
        fixed = [Decimal(t["value"]) for t in alert.thresholds if not t["recurring"]]
        step = next((Decimal(t["value"]) for t in alert.thresholds if t["recurring"]), None)
        reached = crossed(fixed, step, value)
        stored = uow.alerts.alert_crossings(alert.id, self._period_start(alert, snap))
        done = {c.threshold_value for c in stored}
        top_recurring = max(
            (Decimal(c.threshold_value) for c in stored if c.recurring), default=Decimal(0)
        )
        codes = {t["value"]: t["code"] for t in alert.thresholds}
        new: list[dict[str, Any]] = []
        keys: list[tuple[str, bool]] = []
        for v in reached.fixed:
            key = normalized(v)
            if key not in done:
                new.append({"code": codes.get(key), "value": key, "recurring": False})
                keys.append((key, False))
        point = reached.recurring_point
        if point is not None and point > top_recurring:
            key = normalized(point)
            recurring_code = next((t["code"] for t in alert.thresholds if t["recurring"]), None)
            new.append({"code": recurring_code, "value": key, "recurring": True})
            keys.append((key, True))
        return value, new, keys

    def _fresh(
        self, uow: AlertUnitOfWork, alert: Alert, snap: UsageSnapshot, metric: str | None
    ) -> bool:
        return bool(self._crossing(uow, alert, snap, metric)[1])

    def _fire(
        self, alert: Alert, sub: Subscription, snap: UsageSnapshot, metric: str | None
    ) -> list[TriggeredAlert]:
        now = self._clock.now()
        with self._uow() as uow:
            current = uow.alerts.get(alert.organization_id, alert.external_subscription_id,
                                     alert.code)  # fmt: skip
            if current is None or current.id != alert.id:
                return []
            value, new, keys = self._crossing(uow, current, snap, metric)
            if not new:
                return []
            period_start = self._period_start(current, snap)
            trigger = TriggeredAlert(
                id=uuid.uuid4(),
                organization_id=current.organization_id,
                alert_id=current.id,
                subscription_id=sub.id,
                sequence=uow.alerts.triggers_count(current.id) + 1,
                period_start=period_start,
                current_value=value,
                previous_value=current.previous_value or Decimal(0),
                crossed_thresholds=new,
                triggered_at=now,
            )
            uow.alerts.add_trigger(
                trigger,
                [
                    AlertThresholdCrossing(uuid.uuid4(), current.organization_id, current.id,
                                           trigger.id, period_start, key, recurring)
                    for key, recurring in keys
                ],
            )  # fmt: skip
            current.previous_value, current.last_processed_at = value, now
            uow.alerts.update(current)
            webhooks.emit(
                uow,
                current.organization_id,
                "alert.triggered",
                "triggered_alert",
                payload=triggered_payload(trigger, current, sub, snap.customer.external_id,
                                          metric),
            )  # fmt: skip
            uow.commit()
        return [trigger]
