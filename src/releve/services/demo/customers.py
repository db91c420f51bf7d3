"""The demo's customers: a dozen companies across the three verticals, four currencies and time
zones on both sides of the date line, each with its plan, billing time and size (a multiplier
of its usage)."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from releve.services.demo.catalog import CLOUD, TELECOM, UTILITY


@dataclass(frozen=True, slots=True)
class DemoCustomer:
    external_id: str
    name: str
    vertical: str
    plan: str  # the EUR plan code; `catalog.plan_code` gives the customer's currency variant
    currency: str
    timezone: str
    country: str
    billing_time: str = "calendar"
    size: Decimal = Decimal(1)

    def payload(self) -> dict[str, object]:
        return {
            "external_id": self.external_id,
            "name": self.name,
            "currency": self.currency,
            "timezone": self.timezone,
            "country": self.country,
            "email": f"billing@{self.external_id.replace('_', '-')}.example",
            # B2B terms: invoices fall due 30 days after issue (the demo pays them then).
            "net_payment_term": 30,
        }


CUSTOMERS: tuple[DemoCustomer, ...] = (
    # The portal link printed by `releve demo` is the first customer's.
    DemoCustomer(
        "acme", "Acme Corp", CLOUD, "cloud_pro", "EUR", "Europe/Paris", "FR", size=Decimal("1.4")
    ),
    DemoCustomer(
        "globex", "Globex", CLOUD, "cloud_pro", "USD", "America/New_York", "US", "anniversary"
    ),
    DemoCustomer("initech", "Initech", CLOUD, "cloud_starter", "EUR", "Europe/Berlin", "DE"),
    DemoCustomer(
        "umbrella",
        "Umbrella Labs",
        CLOUD,
        "cloud_starter",
        "USD",
        "America/Los_Angeles",
        "US",
        "anniversary",
        Decimal("0.6"),
    ),
    DemoCustomer("hooli_jp", "Hooli Japan", CLOUD, "cloud_pro", "JPY", "Asia/Tokyo", "JP"),
    DemoCustomer(
        "bistro_lyon",
        "Bistro Lyon",
        TELECOM,
        "mobile_business",
        "EUR",
        "Europe/Paris",
        "FR",
        size=Decimal("0.7"),
    ),
    DemoCustomer(
        "harbor_logistics",
        "Harbor Logistics",
        TELECOM,
        "mobile_business",
        "USD",
        "America/New_York",
        "US",
        "anniversary",
        Decimal("1.5"),
    ),
    DemoCustomer(
        "sakura_trading", "Sakura Trading", TELECOM, "mobile_business", "JPY", "Asia/Tokyo", "JP"
    ),
    DemoCustomer(
        "kiwi_outfitters",
        "Kiwi Outfitters",
        TELECOM,
        "mobile_business",
        "NZD",
        "Pacific/Auckland",
        "NZ",
        "anniversary",
    ),
    DemoCustomer(
        "maison_dupont",
        "Maison Dupont",
        UTILITY,
        "smart_energy",
        "EUR",
        "Europe/Paris",
        "FR",
        size=Decimal("0.5"),
    ),
    DemoCustomer(
        "brooklyn_bakery",
        "Brooklyn Bakery",
        UTILITY,
        "smart_energy",
        "USD",
        "America/New_York",
        "US",
        "anniversary",
        Decimal("1.2"),
    ),
    DemoCustomer(
        "tokyo_ramen",
        "Tokyo Ramen",
        UTILITY,
        "smart_energy",
        "JPY",
        "Asia/Tokyo",
        "JP",
        size=Decimal("0.8"),
    ),
    DemoCustomer(
        "auckland_dairy",
        "Auckland Dairy Co-op",
        UTILITY,
        "smart_energy",
        "NZD",
        "Pacific/Auckland",
        "NZ",
        size=Decimal("2.0"),
    ),
)
