"""Billable metrics: what to count and how (Lago's /billable_metrics), plus our extensions.

`validate_billable_metric` holds every rule in one function so the pure metering module can
replace it later without touching the use cases.

Matching follows the metric, in the same unit of work (`UsageRecorder.rematch`):
- creating a metric re-runs matching for every external subscription id with events stored
  under its code as `unknown_metric_code`, from the earliest of them: they become matched *and
  aggregated* (or stay unmatched with the reason that now applies, e.g. unknown_subscription);
- editing how a metric counts (aggregation_type, field_name, expression, filters, rounding,
  recurring, weighted_interval, percentile) rebuilds the aggregates of every external id whose
  subscriptions (any status) are on a plan charging that metric, since the stored per-hour
  states were computed with the old definition; renaming its code also re-matches the events of
  the old and the new code;
- deleting a metric flags its events unmatched again.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any
from uuid import UUID

from releve.services.errors import NotFound, ValidationFailed
from releve.services.pagination import MAX_PER_PAGE, Page, PageRequest
from releve.services.ports import Clock, EventFilter, UnitOfWork, UnitOfWorkFactory
from releve.services.records import (
    EVENT_MATCHED,
    EVENT_UNMATCHED,
    UNKNOWN_METRIC_CODE,
    BillableMetric,
)
from releve.services.transactions import retry_on_conflict
from releve.services.usage_recording import UsageRecorder
from releve.services.validation import Errors, check_required_string

AGGREGATION_TYPES = (
    "count_agg",
    "sum_agg",
    "max_agg",
    "unique_count_agg",
    "latest_agg",
    "weighted_sum_agg",
    "percentile_agg",
    "increase_agg",
)
RECURRING_AGGREGATIONS = ("sum_agg", "unique_count_agg", "weighted_sum_agg")
ROUNDING_FUNCTIONS = ("round", "ceil", "floor")
WEIGHTED_INTERVALS = ("seconds",)
FIELDS = (
    "name",
    "code",
    "description",
    "aggregation_type",
    "field_name",
    "recurring",
    "expression",
    "rounding_function",
    "rounding_precision",
    "weighted_interval",
    "filters",
    "percentile",
    "footprint_per_unit",
    "footprint_unit",
)
# What the stored per-hour aggregates depend on: changing one of these rebuilds them.
DEFINITION_FIELDS = (
    "aggregation_type",
    "field_name",
    "recurring",
    "expression",
    "rounding_function",
    "rounding_precision",
    "weighted_interval",
    "filters",
    "percentile",
)


def validate_billable_metric(values: Mapping[str, Any]) -> dict[str, Any]:
    """Check a complete metric definition; return it normalized or raise ValidationFailed.

    Normalization: count_agg drops `field_name` (as Lago does); weighted_sum_agg defaults
    `weighted_interval` to "seconds"; decimals become `Decimal`; `recurring` defaults to false.
    """
    errors = Errors()
    for name in sorted(set(values) - set(FIELDS)):
        errors.add(name, "unknown_field")
    m = {name: values.get(name) for name in FIELDS}
    check_required_string(errors, "name", m["name"])
    check_required_string(errors, "code", m["code"])
    agg = m["aggregation_type"]
    if agg is None:
        errors.add("aggregation_type", "value_is_mandatory")
    elif agg not in AGGREGATION_TYPES:
        errors.add("aggregation_type", "value_is_invalid")
    if agg == "count_agg":
        m["field_name"] = None
    elif agg in AGGREGATION_TYPES:
        check_required_string(errors, "field_name", m["field_name"])
    recurring = m["recurring"] if m["recurring"] is not None else False
    if not isinstance(recurring, bool):
        errors.add("recurring", "value_is_invalid")
    elif recurring and agg in AGGREGATION_TYPES and agg not in RECURRING_AGGREGATIONS:
        errors.add("recurring", "not_compatible_with_aggregation_type")
    m["recurring"] = recurring
    if agg == "weighted_sum_agg":
        m["weighted_interval"] = m["weighted_interval"] or "seconds"
    if m["weighted_interval"] is not None and m["weighted_interval"] not in WEIGHTED_INTERVALS:
        errors.add("weighted_interval", "value_is_invalid")
    if m["rounding_function"] is not None and m["rounding_function"] not in ROUNDING_FUNCTIONS:
        errors.add("rounding_function", "value_is_invalid")
    precision = m["rounding_precision"]
    if precision is not None and (isinstance(precision, bool) or not isinstance(precision, int)):
        errors.add("rounding_precision", "value_is_invalid")
    for name in ("description", "expression", "footprint_unit"):
        if m[name] is not None and not isinstance(m[name], str):
            errors.add(name, "value_is_invalid")
    m["filters"] = _filters(errors, m["filters"])
    m["percentile"] = _decimal(errors, "percentile", m["percentile"])
    if agg == "percentile_agg":
        p = m["percentile"]
        if p is None and "percentile" not in errors.details:
            errors.add("percentile", "value_is_mandatory")
        elif p is not None and not Decimal(0) < p <= Decimal(100):
            errors.add("percentile", "value_is_invalid")
    m["footprint_per_unit"] = _decimal(errors, "footprint_per_unit", m["footprint_per_unit"])
    if m["footprint_per_unit"] is not None and m["footprint_per_unit"] < 0:
        errors.add("footprint_per_unit", "value_is_invalid")
    if errors:
        raise ValidationFailed(errors.details)
    return m


def _decimal(errors: Errors, field: str, value: Any) -> Decimal | None:
    if value is None:
        return None
    try:
        if isinstance(value, bool) or not isinstance(value, Decimal | int | str):
            raise InvalidOperation
        number = Decimal(value)
        if not number.is_finite():
            raise InvalidOperation
    except InvalidOperation:
        errors.add(field, "value_is_invalid")
        return None
    return number


def _filters(errors: Errors, value: Any) -> list[dict[str, Any]]:
    if value is None:
        return []
    if not isinstance(value, list):
        errors.add("filters", "value_is_invalid")
        return []
    result: list[dict[str, Any]] = []
    keys: set[str] = set()
    for item in value:
        key = item.get("key") if isinstance(item, Mapping) else None
        values = item.get("values") if isinstance(item, Mapping) else None
        if (
            not isinstance(key, str)
            or not key
            or key in keys
            or not isinstance(values, list)
            or not values
            or not all(isinstance(v, str) for v in values)
        ):
            errors.add("filters", "value_is_invalid")
            continue
        keys.add(key)
        result.append({"key": key, "values": list(dict.fromkeys(values))})
    return result


class BillableMetricService:
    def __init__(
        self, uow: UnitOfWorkFactory, clock: Clock, recorder: UsageRecorder | None = None
    ) -> None:
        self._uow = uow
        self._clock = clock
        self._recorder = recorder or UsageRecorder(clock.now)

    def create(self, organization_id: UUID, values: Mapping[str, Any]) -> BillableMetric:
        clean = validate_billable_metric(values)
        now = self._clock.now()

        def attempt() -> BillableMetric:
            metric = BillableMetric(
                id=uuid.uuid4(),
                organization_id=organization_id,
                created_at=now,
                updated_at=now,
                **clean,
            )
            with self._uow() as uow:
                if uow.billable_metrics.get(organization_id, metric.code) is not None:
                    raise ValidationFailed.one("code", "value_already_exist")
                uow.billable_metrics.add(metric)
                waiting = _event_external_ids(uow, organization_id, metric.code, EVENT_UNMATCHED)
                self._rematch(uow, organization_id, waiting)
                uow.commit()
            return metric

        return retry_on_conflict(attempt)

    def get(self, organization_id: UUID, code: str) -> BillableMetric:
        with self._uow(read_only=True) as uow:
            metric = uow.billable_metrics.get(organization_id, code)
        if metric is None:
            raise NotFound("billable_metric")
        return metric

    def list(self, organization_id: UUID, page: PageRequest) -> Page[BillableMetric]:
        with self._uow(read_only=True) as uow:
            items, total = uow.billable_metrics.list(organization_id, page)
        return Page(items, page, total)

    def update(self, organization_id: UUID, code: str, values: Mapping[str, Any]) -> BillableMetric:
        """Change the given fields; the whole result is validated again."""

        def attempt() -> BillableMetric:
            with self._uow() as uow:
                metric = uow.billable_metrics.get(organization_id, code)
                if metric is None:
                    raise NotFound("billable_metric")
                merged = {name: getattr(metric, name) for name in FIELDS}
                before = {name: merged[name] for name in DEFINITION_FIELDS}
                merged.update(values)
                clean = validate_billable_metric(merged)
                redefined = any(clean[name] != before[name] for name in DEFINITION_FIELDS)
                renamed = clean["code"] != code
                if renamed and uow.billable_metrics.get(organization_id, clean["code"]):
                    raise ValidationFailed.one("code", "value_already_exist")
                for name, value in clean.items():
                    setattr(metric, name, value)
                metric.updated_at = self._clock.now()
                uow.billable_metrics.update(metric)
                affected: dict[str, datetime | None] = {}
                if renamed:
                    affected.update(_event_external_ids(uow, organization_id, code))
                    new_code = clean["code"]
                    waiting = _event_external_ids(uow, organization_id, new_code, EVENT_UNMATCHED)
                    for external_id, since in waiting.items():
                        affected[external_id] = _earliest(affected.get(external_id), since)
                if redefined or renamed:
                    for external_id in _external_ids_on_metric(uow, organization_id, metric):
                        affected[external_id] = None  # every hour was computed the old way
                self._rematch(uow, organization_id, affected)
                uow.commit()
            return metric

        return retry_on_conflict(attempt)

    def delete(self, organization_id: UUID, code: str) -> BillableMetric:
        """Soft delete; its events stay stored and become unmatched again."""
        with self._uow() as uow:
            metric = uow.billable_metrics.get(organization_id, code)
            if metric is None:
                raise NotFound("billable_metric")
            metric.deleted_at = self._clock.now()
            uow.billable_metrics.update(metric)
            _unmatch_events(uow, organization_id, code)
            uow.commit()
        return metric

    def _rematch(
        self, uow: UnitOfWork, organization_id: UUID, affected: Mapping[str, datetime | None]
    ) -> None:
        for external_id in sorted(affected):
            self._recorder.rematch(uow, organization_id, external_id, since=affected[external_id])


def _earliest(a: datetime | None, b: datetime | None) -> datetime | None:
    return None if a is None or b is None else min(a, b)


def _event_external_ids(
    uow: UnitOfWork, organization_id: UUID, code: str, status: str | None = None
) -> dict[str, datetime | None]:
    """external subscription id → earliest timestamp of its events under `code` (of `status`
    when given; for unmatched ones, only those waiting for their metric)."""
    found: dict[str, datetime | None] = {}
    page = 1
    while True:
        request = PageRequest(page, MAX_PER_PAGE)
        events, _ = uow.events.list(organization_id, EventFilter(code=code, status=status), request)
        for event in events:
            if status == EVENT_UNMATCHED and event.unmatched_reason != UNKNOWN_METRIC_CODE:
                continue
            known = found.get(event.external_subscription_id, event.timestamp)
            found[event.external_subscription_id] = _earliest(known, event.timestamp)
        if len(events) < MAX_PER_PAGE:
            return found
        page += 1


def _external_ids_on_metric(
    uow: UnitOfWork, organization_id: UUID, metric: BillableMetric
) -> set[str]:
    """External ids with a subscription (any status) on a plan that charges `metric`."""
    external_ids = uow.subscriptions.external_ids(organization_id)
    if not external_ids:
        return set()
    charges_it: dict[UUID, bool] = {}
    found = set()
    for subscription in uow.subscriptions.for_external_ids(organization_id, external_ids):
        if subscription.plan_id not in charges_it:
            stored = uow.plans.get_by_id(organization_id, subscription.plan_id)
            charges_it[subscription.plan_id] = stored is not None and any(
                c.billable_metric_id == str(metric.id) for c in stored.plan.charges
            )
        if charges_it[subscription.plan_id]:
            found.add(subscription.external_id)
    return found


def _unmatch_events(uow: UnitOfWork, organization_id: UUID, code: str) -> int:
    return uow.events.set_status_for_code(
        organization_id,
        code,
        from_status=EVENT_MATCHED,
        to_status=EVENT_UNMATCHED,
        reason=UNKNOWN_METRIC_CODE,
    )
