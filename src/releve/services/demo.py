"""The demo seed behind `releve demo` and `make run`: one organization with a few metrics,
customers and a month of events, through the same services as the API.

The full multi-vertical demo (plans, subscriptions, invoices) comes with those features.
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
from releve.services.ports import Clock

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
    ) -> None:
        self._organizations = organizations
        self._metrics = metrics
        self._customers = customers
        self._events = events
        self._clock = clock

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
