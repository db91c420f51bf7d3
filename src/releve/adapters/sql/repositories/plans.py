"""Plans with their charges and charge filters, stored as rows and read back as domain `Plan`s.

Reading rebuilds the domain values through their constructors (`Plan`, `Charge`,
`parse_properties`), so a stored plan is re-checked by the same rules as a new one. Charge
properties are stored exactly as the operator sent them (the API echoes them unchanged).
"""

from __future__ import annotations

import uuid
from collections.abc import Collection, Iterable, Sequence
from typing import Any
from uuid import UUID

import sqlalchemy as sa

from releve.adapters.currency_catalog import currency
from releve.adapters.sql.repositories.base import count_and_page, to_record
from releve.adapters.sql.tables import billable_metrics, charge_filters, charges, plans
from releve.domain.charge_models.properties import parse_properties
from releve.domain.metering import BillableMetric as DomainMetric
from releve.domain.periods import Interval
from releve.domain.plans import (
    Charge,
    ChargeFilterPrice,
    MinimumCommitment,
    Plan,
    UsageThreshold,
    charge_to_lago,
)
from releve.services.pagination import PageRequest
from releve.services.records import BillableMetric, StoredPlan

_live_parent = sa.and_(plans.c.deleted_at.is_(None), plans.c.parent_id.is_(None))


def _uuid(value: str | None) -> UUID | None:
    return None if value is None else UUID(value)


def _plan_values(stored: StoredPlan) -> dict[str, Any]:
    plan = stored.plan
    commitment = plan.minimum_commitment
    return {
        "organization_id": stored.organization_id,
        "code": plan.code,
        "name": plan.name,
        "interval": plan.interval.value,
        "amount_cents": plan.amount_cents,
        "amount_currency": plan.currency.code,
        "pay_in_advance": plan.pay_in_advance,
        "trial_period": plan.trial_period_days,
        "bill_charges_monthly": plan.bill_charges_monthly,
        "invoice_display_name": plan.invoice_display_name,
        "description": plan.description,
        "tax_codes": list(plan.tax_codes),
        "minimum_commitment": None
        if commitment is None
        else {
            "amount_cents": commitment.amount_cents,
            "invoice_display_name": commitment.invoice_display_name,
            "tax_codes": list(commitment.tax_codes),
        },
        "usage_thresholds": [
            {
                "amount_cents": t.amount_cents,
                "recurring": t.recurring,
                "threshold_display_name": t.threshold_display_name,
            }
            for t in plan.usage_thresholds
        ],
        "parent_id": _uuid(plan.parent_id),
        "public": stored.public,
        "created_at": stored.created_at,
        "updated_at": stored.updated_at,
        "deleted_at": stored.deleted_at,
    }


def _charge_values(stored: StoredPlan, charge: Charge, position: int) -> dict[str, Any]:
    echo = charge_to_lago(charge)
    return {
        "organization_id": stored.organization_id,
        "plan_id": stored.id,
        "billable_metric_id": UUID(str(charge.billable_metric_id)),
        "position": position,
        "code": charge.code,
        "charge_model": charge.charge_model.value,
        "properties": echo["properties"],
        "pay_in_advance": charge.pay_in_advance,
        "invoiceable": charge.invoiceable,
        "regroup_paid_fees": None,
        "prorated": charge.prorated,
        "min_amount_cents": charge.min_amount_cents,
        "invoice_display_name": charge.invoice_display_name,
        "tax_codes": list(charge.tax_codes),
        "parent_id": _uuid(charge.parent_id),
        "updated_at": stored.updated_at,
    }


def _filter_rows(stored: StoredPlan, charge: Charge) -> list[dict[str, Any]]:
    echo = charge_to_lago(charge)["filters"]
    assert isinstance(echo, list)
    return [
        {
            "id": uuid.uuid4(),
            "organization_id": stored.organization_id,
            "charge_id": UUID(charge.id),
            "position": index,
            "values": {k: list(v) for k, v in f.values.items()},
            "properties": echo[index]["properties"],
            "invoice_display_name": f.invoice_display_name,
            "created_at": stored.updated_at,
        }
        for index, f in enumerate(charge.filters)
    ]


class SqlPlanRepository:
    def __init__(self, connection: sa.Connection) -> None:
        self._c = connection

    # --- reads -------------------------------------------------------------------------------

    def get(self, organization_id: UUID, code: str) -> StoredPlan | None:
        row = self._c.execute(
            plans.select().where(
                plans.c.organization_id == organization_id, plans.c.code == code, _live_parent
            )
        ).first()
        return self._load([row])[0] if row else None

    def get_by_id(self, organization_id: UUID, plan_id: UUID) -> StoredPlan | None:
        row = self._c.execute(
            plans.select().where(plans.c.organization_id == organization_id, plans.c.id == plan_id)
        ).first()
        return self._load([row])[0] if row else None

    def by_ids(self, organization_id: UUID, plan_ids: Collection[UUID]) -> dict[UUID, StoredPlan]:
        """id → any plan (children and deleted ones included), loaded together (`_load`)."""
        ids = sorted(set(plan_ids))
        found: dict[UUID, StoredPlan] = {}
        for start in range(0, len(ids), 500):
            rows = self._c.execute(
                plans.select().where(
                    plans.c.organization_id == organization_id,
                    plans.c.id.in_(ids[start : start + 500]),
                )
            ).all()
            found.update(
                (row.id, stored) for row, stored in zip(rows, self._load(rows), strict=True)
            )
        return found

    def codes_by_ids(self, organization_id: UUID, plan_ids: Collection[UUID]) -> dict[UUID, str]:
        """id → code of any plan (children and deleted ones included), one query per 500 ids:
        what an invoice shows of a plan, without loading its charges, filters and metrics."""
        ids = sorted(set(plan_ids))
        found: dict[UUID, str] = {}
        for start in range(0, len(ids), 500):
            rows = self._c.execute(
                sa.select(plans.c.id, plans.c.code).where(
                    plans.c.organization_id == organization_id,
                    plans.c.id.in_(ids[start : start + 500]),
                )
            )
            found.update((row.id, row.code) for row in rows)
        return found

    def list(self, organization_id: UUID, page: PageRequest) -> tuple[list[StoredPlan], int]:
        query = (
            plans.select()
            .where(plans.c.organization_id == organization_id, _live_parent)
            .order_by(plans.c.created_at.desc(), plans.c.code)
        )
        rows, total = count_and_page(self._c, query, page.offset, page.per_page)
        return list(self._load(rows)), total

    def children_ids(self, organization_id: UUID, plan_id: UUID) -> Sequence[UUID]:
        return list(
            self._c.execute(
                sa.select(plans.c.id).where(
                    plans.c.organization_id == organization_id, plans.c.parent_id == plan_id
                )
            ).scalars()
        )

    def _load(self, plan_rows: Sequence[sa.Row[Any]]) -> Sequence[StoredPlan]:
        """Plans with charges, filters and metrics in three queries, whatever their number."""
        ids = [r.id for r in plan_rows]
        charge_rows = (
            list(
                self._c.execute(
                    charges.select()
                    .where(charges.c.plan_id.in_(ids))
                    .order_by(charges.c.plan_id, charges.c.position)
                )
            )
            if ids
            else []
        )
        filter_rows = (
            list(
                self._c.execute(
                    charge_filters.select()
                    .where(charge_filters.c.charge_id.in_([c.id for c in charge_rows]))
                    .order_by(charge_filters.c.charge_id, charge_filters.c.position)
                )
            )
            if charge_rows
            else []
        )
        metric_ids = {c.billable_metric_id for c in charge_rows}
        metrics: dict[UUID, DomainMetric] = (
            {
                row.id: to_record(BillableMetric, row).to_domain()
                for row in self._c.execute(
                    billable_metrics.select().where(billable_metrics.c.id.in_(list(metric_ids)))
                )
            }
            if metric_ids
            else {}
        )
        filters_of: dict[UUID, list[sa.Row[Any]]] = {}
        for f in filter_rows:
            filters_of.setdefault(f.charge_id, []).append(f)
        charges_of: dict[UUID, list[Charge]] = {}
        for c in charge_rows:
            charges_of.setdefault(c.plan_id, []).append(
                _charge(c, metrics[c.billable_metric_id], filters_of.get(c.id, ()))
            )
        return [_stored(r, charges_of.get(r.id, [])) for r in plan_rows]

    # --- writes ------------------------------------------------------------------------------

    def add(self, stored: StoredPlan) -> None:
        self._c.execute(plans.insert().values(id=stored.id, **_plan_values(stored)))
        self._insert_charges(stored, list(enumerate(stored.plan.charges)))

    def update(self, stored: StoredPlan) -> None:
        self._c.execute(
            plans.update()
            .where(plans.c.id == stored.id)
            .values(**{k: v for k, v in _plan_values(stored).items() if k != "created_at"})
        )
        existing = set(
            self._c.execute(sa.select(charges.c.id).where(charges.c.plan_id == stored.id)).scalars()
        )
        kept = {UUID(c.id) for c in stored.plan.charges} & existing
        removed = sorted(existing - kept)
        if removed:
            self._c.execute(charges.delete().where(charges.c.id.in_(removed)))
        if kept:
            self._c.execute(charge_filters.delete().where(charge_filters.c.charge_id.in_(kept)))
        fresh = []
        for position, charge in enumerate(stored.plan.charges):
            if UUID(charge.id) in kept:
                self._c.execute(
                    charges.update()
                    .where(charges.c.id == UUID(charge.id))
                    .values(**_charge_values(stored, charge, position))
                )
                self._insert_filters(stored, [charge])
            else:
                fresh.append((position, charge))
        self._insert_charges(stored, fresh)

    def _insert_charges(self, stored: StoredPlan, items: Iterable[tuple[int, Charge]]) -> None:
        items = list(items)
        if not items:
            return
        self._c.execute(
            charges.insert().values(
                [
                    {
                        "id": UUID(charge.id),
                        "created_at": stored.updated_at,
                        **_charge_values(stored, charge, position),
                    }
                    for position, charge in items
                ]
            )
        )
        self._insert_filters(stored, [charge for _, charge in items])

    def _insert_filters(self, stored: StoredPlan, items: Sequence[Charge]) -> None:
        rows = [row for charge in items for row in _filter_rows(stored, charge)]
        if rows:
            self._c.execute(charge_filters.insert().values(rows))


def _charge(row: sa.Row[Any], metric: DomainMetric, filter_rows: Iterable[sa.Row[Any]]) -> Charge:
    model = row.charge_model
    return Charge(
        id=str(row.id),
        code=row.code,
        metric=metric,
        charge_model=model,
        properties=parse_properties(model, row.properties),
        filters=tuple(
            ChargeFilterPrice(
                values={k: tuple(v) for k, v in f.values.items()},
                properties=parse_properties(model, f.properties),
                invoice_display_name=f.invoice_display_name,
                properties_json=dict(f.properties),
            )
            for f in filter_rows
        ),
        pay_in_advance=row.pay_in_advance,
        invoiceable=row.invoiceable,
        prorated=row.prorated,
        min_amount_cents=int(row.min_amount_cents),
        invoice_display_name=row.invoice_display_name,
        tax_codes=tuple(row.tax_codes),
        properties_json=dict(row.properties),
        parent_id=None if row.parent_id is None else str(row.parent_id),
        billable_metric_id=str(row.billable_metric_id),
    )


def _stored(row: sa.Row[Any], plan_charges: Sequence[Charge]) -> StoredPlan:
    commitment = row.minimum_commitment
    plan = Plan(
        id=str(row.id),
        code=row.code,
        name=row.name,
        interval=Interval(row.interval),
        amount_cents=int(row.amount_cents),
        currency=currency(row.amount_currency),
        pay_in_advance=row.pay_in_advance,
        trial_period_days=int(row.trial_period or 0),
        bill_charges_monthly=bool(row.bill_charges_monthly),
        charges=tuple(plan_charges),
        minimum_commitment=None
        if commitment is None
        else MinimumCommitment(
            amount_cents=int(commitment["amount_cents"]),
            invoice_display_name=commitment.get("invoice_display_name"),
            tax_codes=tuple(commitment.get("tax_codes") or ()),
        ),
        usage_thresholds=tuple(
            UsageThreshold(
                amount_cents=int(t["amount_cents"]),
                recurring=bool(t.get("recurring")),
                threshold_display_name=t.get("threshold_display_name"),
            )
            for t in row.usage_thresholds
        ),
        tax_codes=tuple(row.tax_codes),
        invoice_display_name=row.invoice_display_name,
        description=row.description,
        parent_id=None if row.parent_id is None else str(row.parent_id),
    )
    return StoredPlan(
        plan=plan,
        organization_id=row.organization_id,
        created_at=row.created_at,
        updated_at=row.updated_at,
        deleted_at=row.deleted_at,
        public=bool(row.public),
    )
