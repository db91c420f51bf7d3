"""Test data shared by the billing tests (no tests here): metrics, plans, charges in code."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from releve.domain.charge_models.properties import ChargeModel, Properties, StandardProperties
from releve.domain.filters import MetricFilter
from releve.domain.metering import AggregationType, BillableMetric
from releve.domain.money import Currency
from releve.domain.periods import Interval
from releve.domain.plans import Charge, ChargeFilterPrice, MinimumCommitment, Plan

EUR = Currency("EUR", 2)
USD = Currency("USD", 2)
PARIS = ZoneInfo("Europe/Paris")

CALLS = BillableMetric(
    "calls",
    "Calls",
    AggregationType.SUM,
    field_name="minutes",
    filters=(MetricFilter("zone", ("home", "roaming")),),
)
API = BillableMetric("api", "API calls", AggregationType.COUNT)


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)  # type: ignore[arg-type,misc]


def standard(amount: str, *group_keys: str) -> StandardProperties:
    return StandardProperties(Decimal(amount), tuple(group_keys))


def charge(
    id: str = "ch_api",
    *,
    metric: BillableMetric = API,
    model: ChargeModel = ChargeModel.STANDARD,
    properties: Properties | None = None,
    filters: tuple[ChargeFilterPrice, ...] = (),
    **options: Any,
) -> Charge:
    return Charge(
        id=id,
        code=id,
        metric=metric,
        charge_model=model,
        properties=properties if properties is not None else standard("0.10"),
        filters=filters,
        **options,
    )


def plan(
    amount_cents: int = 10000,
    *,
    interval: Interval = Interval.MONTHLY,
    code: str = "pro",
    name: str = "Pro",
    charges: tuple[Charge, ...] = (),
    commitment: int | None = None,
    currency: Currency = EUR,
    **options: Any,
) -> Plan:
    return Plan(
        id=f"plan_{code}",
        code=code,
        name=name,
        interval=interval,
        amount_cents=amount_cents,
        currency=currency,
        charges=charges,
        minimum_commitment=None if commitment is None else MinimumCommitment(commitment),
        **options,
    )
