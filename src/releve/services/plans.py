"""Plans (Lago's /plans): validated by the domain (`domain.plans.parse_plan`), stored with their
charges and charge filters.

Every domain error becomes a 422 whose field is the JSON path of the bad value
(`charges[1].properties.amount`). Changing a plan's charges re-computes the usage aggregates of
its subscriptions from the raw events in the same transaction, so usage always reflects the
plan as it is now.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import replace
from typing import Any, TypeVar
from uuid import UUID

from releve.domain.errors import DomainError
from releve.domain.metering import BillableMetric as DomainMetric
from releve.domain.money import Currency
from releve.domain.plans import Plan, charge_to_lago, parse_plan, plan_to_lago
from releve.services.errors import NotFound, ValidationFailed
from releve.services.pagination import Page, PageRequest
from releve.services.ports import Clock, CurrencyCatalog, UnitOfWork, UnitOfWorkFactory
from releve.services.records import StoredPlan
from releve.services.transactions import retry_on_conflict
from releve.services.usage_recording import UsageRecorder

T = TypeVar("T")


@contextmanager
def domain_errors_as_422() -> Iterator[None]:
    """A `DomainError` from the domain → `ValidationFailed` {field: [code]} (field = JSON path)."""
    try:
        yield
    except DomainError as error:
        if isinstance(error, NotFound | ValidationFailed):
            raise
        raise ValidationFailed.one(error.field or "base", error.code) from error


def new_id() -> str:
    return str(uuid.uuid4())


def unnamed_currency(currencies: CurrencyCatalog) -> Callable[[str], Currency]:
    """The catalog, raising errors without a field: the domain names the field itself."""

    def lookup(code: str) -> Currency:
        try:
            return currencies(code)
        except DomainError as error:
            raise DomainError(str(error), code=error.code) from error

    return lookup


def _charge_payloads(payload: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    charges = payload.get("charges")
    if not isinstance(charges, list):
        return []
    return [c for c in charges if isinstance(c, Mapping)]


def load_metrics(
    uow: UnitOfWork, organization_id: UUID, charges: Sequence[Mapping[str, Any]]
) -> tuple[dict[str, DomainMetric], dict[str, DomainMetric]]:
    """The live metrics the charges name, by lago id (text) and by code (two queries)."""
    ids = set()
    for charge in charges:
        try:
            ids.add(UUID(str(charge.get("billable_metric_id"))))
        except ValueError:
            continue
    codes = {
        c["billable_metric_code"] for c in charges if isinstance(c.get("billable_metric_code"), str)
    }
    by_id = {
        str(metric_id): record.to_domain()
        for metric_id, record in uow.billable_metrics.by_ids(organization_id, ids).items()
        if record.deleted_at is None
    }
    by_code_records = uow.billable_metrics.live_by_codes(organization_id, codes)
    by_code = {code: record.to_domain() for code, record in by_code_records.items()}
    # parse_plan finds a coded metric's lago id through metrics_by_id.
    for record in by_code_records.values():
        by_id.setdefault(str(record.id), record.to_domain())
    return by_id, by_code


def check_tax_codes(uow: UnitOfWork, organization_id: UUID, plan: Plan) -> None:
    """Every tax code named on the plan, its commitment or its charges must exist."""
    errors: dict[str, list[str]] = {}
    named = [("tax_codes", c) for c in plan.tax_codes]
    if plan.minimum_commitment is not None:
        named += [("minimum_commitment.tax_codes", c) for c in plan.minimum_commitment.tax_codes]
    for i, charge in enumerate(plan.charges):
        named += [(f"charges[{i}].tax_codes", c) for c in charge.tax_codes]
    for field, code in named:
        if uow.taxes.get(organization_id, code) is None:
            errors.setdefault(field, []).append("tax_not_found")
    if errors:
        raise ValidationFailed(errors)


class PlanService:
    def __init__(
        self,
        uow: UnitOfWorkFactory,
        clock: Clock,
        currencies: CurrencyCatalog,
        recorder: UsageRecorder | None = None,
    ) -> None:
        self._uow = uow
        self._clock = clock
        self._currencies = unnamed_currency(currencies)
        self._recorder = recorder or UsageRecorder(clock.now)

    def _parse(self, uow: UnitOfWork, organization_id: UUID, payload: Mapping[str, Any]) -> Plan:
        if not isinstance(payload, Mapping):
            raise ValidationFailed.one("plan", "value_is_invalid")
        metrics_by_id, metrics_by_code = load_metrics(
            uow, organization_id, _charge_payloads(payload)
        )
        with domain_errors_as_422():
            plan = parse_plan(
                payload,
                metrics_by_id=metrics_by_id,
                metrics_by_code=metrics_by_code,
                currency=self._currencies,
                new_id=new_id,
            )
        check_tax_codes(uow, organization_id, plan)
        return plan

    def create(self, organization_id: UUID, payload: Mapping[str, Any]) -> StoredPlan:
        def attempt() -> StoredPlan:
            now = self._clock.now()
            with self._uow() as uow:
                plan = self._parse(uow, organization_id, payload)
                if uow.plans.get(organization_id, plan.code) is not None:
                    raise ValidationFailed.one("code", "value_already_exist")
                stored = StoredPlan(plan, organization_id, now, now, public=_public(payload))
                uow.plans.add(stored)
                uow.commit()
            return stored

        return retry_on_conflict(attempt)

    def get(self, organization_id: UUID, code: str) -> StoredPlan:
        with self._uow(read_only=True) as uow:
            stored = uow.plans.get(organization_id, code)
        if stored is None:
            raise NotFound("plan")
        return stored

    def list(self, organization_id: UUID, page: PageRequest) -> Page[StoredPlan]:
        with self._uow(read_only=True) as uow:
            items, total = uow.plans.list(organization_id, page)
        return Page(items, page, total)

    def update(self, organization_id: UUID, code: str, payload: Mapping[str, Any]) -> StoredPlan:
        """Change the given fields (Lago PUT): absent keys keep their value; `charges`, when
        sent, is the whole new list — a charge sent with its `id` keeps it (and its usage),
        others are new, missing ones are removed."""

        def attempt() -> StoredPlan:
            with self._uow() as uow:
                stored = uow.plans.get(organization_id, code)
                if stored is None:
                    raise NotFound("plan")
                merged = _merged_payload(stored.plan, payload)
                plan = replace(self._parse(uow, organization_id, merged), id=stored.plan.id)
                if plan.code != code and uow.plans.get(organization_id, plan.code) is not None:
                    raise ValidationFailed.one("code", "value_already_exist")
                updated = StoredPlan(
                    plan,
                    organization_id,
                    stored.created_at,
                    self._clock.now(),
                    public=_public(payload, stored.public),
                )
                uow.plans.update(updated)
                if _usage_shape(plan) != _usage_shape(stored.plan):
                    for external_id in sorted(
                        {
                            s.external_id
                            for s in uow.subscriptions.on_plans(organization_id, [stored.id])
                        }
                    ):
                        self._recorder.rematch(uow, organization_id, external_id)
                uow.commit()
            return updated

        return retry_on_conflict(attempt)

    def delete(
        self,
        organization_id: UUID,
        code: str,
        terminate: Callable[[UnitOfWork, UUID, UUID], None] | None = None,
    ) -> StoredPlan:
        """Soft delete. `terminate(uow, organization_id, plan_id)` ends its subscriptions
        (wired by the container to `SubscriptionService.terminate_plan_subscriptions`)."""
        with self._uow() as uow:
            stored = uow.plans.get(organization_id, code)
            if stored is None:
                raise NotFound("plan")
            if terminate is not None:
                for plan_id in [stored.id, *uow.plans.children_ids(organization_id, stored.id)]:
                    terminate(uow, organization_id, plan_id)
            stored.deleted_at = self._clock.now()
            stored.updated_at = stored.deleted_at
            uow.plans.update(stored)
            uow.commit()
        return stored


def _public(payload: Mapping[str, Any], current: bool = False) -> bool:
    """Relevé's `public` flag (the portal compares customers' usage against public plans):
    a JSON boolean; absent keeps the current value."""
    value = payload.get("public", current)
    if value is None:
        return current
    if not isinstance(value, bool):
        raise ValidationFailed.one("public", "value_is_invalid")
    return value


def _usage_shape(plan: Plan) -> list[tuple[Any, ...]]:
    """What the aggregates depend on: charge ids, metrics, filters (by position), groups."""
    return [
        (c.id, c.metric.code, tuple(f.spec() for f in c.filters), c.pricing_group_keys)
        for c in plan.charges
    ]


def _merged_payload(plan: Plan, payload: Mapping[str, Any]) -> dict[str, Any]:
    """The stored plan as Lago JSON with the sent keys on top; sent charges keep an `id` only
    when it names one of this plan's charges."""
    current = plan_to_lago(plan)
    echo: dict[str, Any] = {
        k: v for k, v in current.items() if k not in ("lago_id", "lago_parent_id", "charges")
    }
    echo["charges"] = [
        {
            **{
                k: v for k, v in charge_to_lago(c).items() if k not in ("lago_id", "lago_parent_id")
            },
            "id": c.id,
            "billable_metric_id": c.billable_metric_id,
        }
        for c in plan.charges
    ]
    merged = {**echo, **payload}
    if "charges" in payload and isinstance(payload["charges"], list):
        own = {c.id for c in plan.charges}
        merged["charges"] = [
            {k: v for k, v in c.items() if k != "id" or v in own} if isinstance(c, Mapping) else c
            for c in payload["charges"]
        ]
    return merged
