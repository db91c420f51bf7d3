"""The demo seed behind `releve demo` and `make run`: one organization with a few metrics,
customers and a month of events, through the same services as the API.

Each customer subscribes (from the first day of the events) to the "Starter" plan, which prices
the three metrics with standard, graduated and package charges, so current usage has amounts.
The full multi-vertical demo (invoices, wallets) comes with those features.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal
from uuid import UUID

from releve.services.billable_metrics import BillableMetricService
from releve.services.customers import CustomerService
from releve.services.events import EventService
from releve.services.organizations import OrganizationService
from releve.services.plans import PlanService
from releve.services.ports import Clock
from releve.services.subscriptions import SubscriptionService

DEMO_ORGANIZATION = "Relevé Demo"
METRICS = (
    {"code": "api_calls", "name": "API calls", "aggregation_type": "count_agg"},
    {
        "code": "storage_gb",
        "name": "Storage",
        "aggregation_type": "sum_agg",
        "field_name": "gb",
        "footprint_per_unit": Decimal("0.0021"),
        "footprint_unit": "kgCO2e",
    },
    {
        "code": "seats",
        "name": "Seats",
        "aggregation_type": "unique_count_agg",
        "field_name": "user_id",
        "recurring": True,
    },
)
CUSTOMERS = (
    {"external_id": "acme", "name": "Acme Corp", "currency": "EUR", "country": "FR"},
    {"external_id": "globex", "name": "Globex", "currency": "USD", "country": "US"},
    {"external_id": "initech", "name": "Initech", "currency": "EUR", "timezone": "Europe/Paris"},
)


PLAN = {
    "name": "Starter",
    "code": "starter",
    "interval": "monthly",
    "amount_cents": 4900,
    "amount_currency": "EUR",
    "charges": [
        {
            "billable_metric_code": "api_calls",
            "charge_model": "graduated",
            "properties": {
                "graduated_ranges": [
                    {"from_value": 0, "to_value": 50, "per_unit_amount": "0", "flat_amount": "0"},
                    {
                        "from_value": 51,
                        "to_value": None,
                        "per_unit_amount": "0.02",
                        "flat_amount": "0",
                    },
                ]
            },
        },
        {
            "billable_metric_code": "storage_gb",
            "charge_model": "standard",
            "properties": {"amount": "0.10"},
        },
        {
            "billable_metric_code": "seats",
            "charge_model": "package",
            "properties": {"amount": "20", "package_size": 5, "free_units": 0},
        },
    ],
}


@dataclass(frozen=True, slots=True)
class DemoSeed:
    organization_id: UUID
    api_key: str
    customer_external_id: str
    events: int


class DemoService:
    def __init__(
        self,
        organizations: OrganizationService,
        metrics: BillableMetricService,
        customers: CustomerService,
        events: EventService,
        clock: Clock,
        plans: PlanService | None = None,
        subscriptions: SubscriptionService | None = None,
    ) -> None:
        self._organizations = organizations
        self._metrics = metrics
        self._customers = customers
        self._events = events
        self._clock = clock
        self._plans = plans
        self._subscriptions = subscriptions

    def seed(self, *, api_key: str | None = None, days: int = 30, seed: int = 7) -> DemoSeed:
        """Create the demo organization and its data; deterministic for a given `seed`."""
        created = self._organizations.create(
            DEMO_ORGANIZATION, default_currency="EUR", api_key=api_key
        )
        org = created.organization_id
        for metric in METRICS:
            self._metrics.create(org, metric)
        for customer in CUSTOMERS:
            self._customers.upsert(org, customer)
        rng = random.Random(seed)
        now = self._clock.now()
        if self._plans is not None and self._subscriptions is not None:
            self._plans.create(org, PLAN)
            for customer in CUSTOMERS:
                self._subscriptions.create(
                    org,
                    {
                        "external_customer_id": customer["external_id"],
                        "external_id": customer["external_id"],
                        "plan_code": PLAN["code"],
                        "subscription_at": (now - timedelta(days=days)).isoformat(),
                    },
                )
        batch: list[dict[str, object]] = []
        total = 0
        for customer in CUSTOMERS:
            external_id = customer["external_id"]
            for n in range(days * 4):
                at = now - timedelta(days=days) + timedelta(hours=6 * n, minutes=rng.randint(0, 59))
                code = rng.choice(("api_calls", "api_calls", "storage_gb", "seats"))
                properties: dict[str, object] = {}
                if code == "storage_gb":
                    properties["gb"] = Decimal(rng.randint(1, 5000)) / 100
                elif code == "seats":
                    properties["user_id"] = f"user_{rng.randint(1, 12)}"
                batch.append(
                    {
                        "transaction_id": f"demo_{external_id}_{n}",
                        "external_subscription_id": external_id,
                        "code": code,
                        "timestamp": at.isoformat(),
                        "properties": properties,
                    }
                )
                if len(batch) == self._events.max_batch:
                    total += self._events.ingest_batch(org, batch).inserted
                    batch = []
        if batch:
            total += self._events.ingest_batch(org, batch).inserted
        return DemoSeed(org, created.api_key, CUSTOMERS[0]["external_id"], total)
