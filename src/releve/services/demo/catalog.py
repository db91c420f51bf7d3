"""The demo catalog: billable metrics and plans of the three verticals we serve, as the same
Lago payloads the API takes.

- telecom: call minutes (`ceil(duration / 60)` per call, filtered by zone and destination) and
  SMS (a count, filtered by zone);
- utility: kWh meter readings (`increase_agg`, one register per tariff) and peak demand (kW);
- cloud: API calls (a count per region), storage (GB, a time-weighted running total) and seats
  (a recurring unique count).

Three metrics carry a carbon factor (`footprint_per_unit`, gCO2e per unit: kWh, API call, GB)
for the portal's footprint page. The two cloud plans are `public`: the portal compares a cloud
customer's own usage priced on the other one ("on Cloud Starter you would have paid…").

Plans are written in EUR; `localized_plan` derives the same plan in another currency (scaled
prices, a currency suffix on the code), since a subscription's plan bills in its customer's
currency.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from releve.domain.money import Currency

TELECOM, UTILITY, CLOUD = "telecom", "utility", "cloud"

METRICS: tuple[dict[str, Any], ...] = (
    {
        "code": "call_minutes",
        "name": "Call minutes",
        "description": "Every started minute of a call.",
        "aggregation_type": "sum_agg",
        "field_name": "minutes",
        "expression": "ceil(event.properties.duration / 60)",
        "filters": [
            {"key": "zone", "values": ["domestic", "roaming"]},
            {"key": "destination", "values": ["national", "international", "mobile"]},
        ],
    },
    {
        "code": "sms",
        "name": "SMS",
        "aggregation_type": "count_agg",
        "filters": [{"key": "zone", "values": ["domestic", "roaming"]}],
    },
    {
        "code": "energy_kwh",
        "name": "Energy",
        "description": "Meter readings in kWh; one register per tariff.",
        "aggregation_type": "increase_agg",
        "field_name": "reading",
        "filters": [{"key": "tariff", "values": ["peak", "off_peak"]}],
        # Grid electricity, a rounded European average: 230 gCO2e per kWh.
        "footprint_per_unit": Decimal("230"),
        "footprint_unit": "gCO2e",
    },
    {
        "code": "peak_demand_kw",
        "name": "Peak demand",
        "aggregation_type": "max_agg",
        "field_name": "kw",
    },
    {
        "code": "api_calls",
        "name": "API calls",
        "aggregation_type": "count_agg",
        "filters": [{"key": "region", "values": ["eu", "us", "ap"]}],
        # 2 gCO2e per 1,000 calls (data-centre energy and network per request, rounded up).
        "footprint_per_unit": Decimal("0.002"),
        "footprint_unit": "gCO2e",
    },
    {
        "code": "storage_gb",
        "name": "Storage",
        "description": "GB stored, weighted by time (events carry +/- GB).",
        "aggregation_type": "weighted_sum_agg",
        "field_name": "gb",
        "recurring": True,
        # A GB kept for a period, on replicated disks: 2.1 gCO2e.
        "footprint_per_unit": Decimal("2.1"),
        "footprint_unit": "gCO2e",
    },
    {
        "code": "seats",
        "name": "Seats",
        "aggregation_type": "unique_count_agg",
        "field_name": "user_id",
        "recurring": True,
    },
)
VERTICAL_OF_METRIC = {
    "call_minutes": TELECOM,
    "sms": TELECOM,
    "energy_kwh": UTILITY,
    "peak_demand_kw": UTILITY,
    "api_calls": CLOUD,
    "storage_gb": CLOUD,
    "seats": CLOUD,
}


def _ranges(key: str, *rows: tuple[int, int | None, str, str]) -> dict[str, Any]:
    return {
        key: [
            {"from_value": a, "to_value": b, "per_unit_amount": unit, "flat_amount": flat}
            for a, b, unit, flat in rows
        ]
    }


PLANS: tuple[dict[str, Any], ...] = (
    {
        "name": "Mobile Business",
        "code": "mobile_business",
        "description": "Telecom: the line fee in advance, minutes and SMS in arrears.",
        "interval": "monthly",
        "amount_cents": 2900,
        "amount_currency": "EUR",
        "pay_in_advance": True,
        "charges": [
            {
                "billable_metric_code": "call_minutes",
                "charge_model": "standard",
                "invoice_display_name": "Call minutes",
                "properties": {"amount": "0.02"},
                "filters": [
                    {
                        "invoice_display_name": "Roaming minutes",
                        "values": {"zone": ["roaming"]},
                        "properties": {"amount": "0.25"},
                    },
                    {
                        "invoice_display_name": "International minutes",
                        "values": {"zone": ["domestic"], "destination": ["international"]},
                        "properties": {"amount": "0.09"},
                    },
                ],
            },
            {
                "billable_metric_code": "sms",
                "charge_model": "package",
                "properties": {"amount": "4", "package_size": 100, "free_units": 100},
            },
        ],
    },
    {
        "name": "Smart Energy",
        "code": "smart_energy",
        "description": "Utility: peak and off-peak kWh, a monthly minimum, demand by volume.",
        "interval": "monthly",
        "amount_cents": 990,
        "amount_currency": "EUR",
        "charges": [
            {
                "billable_metric_code": "energy_kwh",
                "charge_model": "standard",
                "min_amount_cents": 3000,
                "properties": {"amount": "0.20"},
                "filters": [
                    {
                        "invoice_display_name": "Peak kWh",
                        "values": {"tariff": ["peak"]},
                        "properties": {"amount": "0.28"},
                    },
                    {
                        "invoice_display_name": "Off-peak kWh",
                        "values": {"tariff": ["off_peak"]},
                        "properties": {"amount": "0.16"},
                    },
                ],
            },
            {
                "billable_metric_code": "peak_demand_kw",
                "charge_model": "volume",
                "properties": _ranges(
                    "volume_ranges", (0, 6, "1.00", "0"), (7, 12, "1.50", "0"), (13, None, "2", "5")
                ),
            },
        ],
    },
    {
        "name": "Cloud Pro",
        "code": "cloud_pro",
        "description": "Cloud: tiered API calls, storage by volume, seats by packs of 5.",
        "interval": "monthly",
        "public": True,
        "amount_cents": 4900,
        "amount_currency": "EUR",
        "minimum_commitment": {"amount_cents": 15000, "invoice_display_name": "Minimum spend"},
        "charges": [
            {
                "billable_metric_code": "api_calls",
                "charge_model": "graduated",
                "properties": _ranges(
                    "graduated_ranges",
                    (0, 500, "0", "0"),
                    (501, 2000, "0.02", "2"),
                    (2001, None, "0.01", "5"),
                ),
            },
            {
                "billable_metric_code": "storage_gb",
                "charge_model": "volume",
                "properties": _ranges(
                    "volume_ranges", (0, 100, "0.10", "0"), (101, None, "0.08", "0")
                ),
            },
            {
                "billable_metric_code": "seats",
                "charge_model": "package",
                "properties": {"amount": "25", "package_size": 5, "free_units": 0},
            },
        ],
    },
    {
        "name": "Cloud Starter",
        "code": "cloud_starter",
        "description": "Cloud: API calls priced per region, storage per GB, seats each.",
        "interval": "monthly",
        "public": True,
        "amount_cents": 1900,
        "amount_currency": "EUR",
        "pay_in_advance": True,
        "charges": [
            {
                "billable_metric_code": "api_calls",
                "charge_model": "standard",
                "properties": {"amount": "0.01"},
                "filters": [
                    {"values": {"region": ["eu"]}, "properties": {"amount": "0.012"}},
                    {"values": {"region": ["ap"]}, "properties": {"amount": "0.015"}},
                ],
            },
            {
                "billable_metric_code": "storage_gb",
                "charge_model": "standard",
                "properties": {"amount": "0.12"},
            },
            {
                "billable_metric_code": "seats",
                "charge_model": "standard",
                "properties": {"amount": "6"},
            },
        ],
    },
)
PLAN_VERTICAL = {
    "mobile_business": TELECOM,
    "smart_energy": UTILITY,
    "cloud_pro": CLOUD,
    "cloud_starter": CLOUD,
}

# Rough, rounded rates: the demo wants plausible prices, not a currency feed.
EUR_RATE = {"EUR": Decimal(1), "USD": Decimal("1.10"), "JPY": Decimal(160), "NZD": Decimal("1.80")}
AMOUNT_KEYS = {"amount", "per_unit_amount", "flat_amount", "fixed_amount"}


def plan_code(code: str, currency: str) -> str:
    return code if currency == "EUR" else f"{code}_{currency.lower()}"


def localized_plan(plan: dict[str, Any], currency: Currency) -> dict[str, Any]:
    """`plan` (in EUR) priced in `currency`: every amount scaled by a rough exchange rate."""
    rate = EUR_RATE[currency.code]

    def scale(value: Any, key: str) -> Any:
        if isinstance(value, dict):
            return {k: scale(v, k) for k, v in value.items()}
        if isinstance(value, list):
            return [scale(v, key) for v in value]
        if key.endswith("_cents") and isinstance(value, int):
            minor = Decimal(value) / 100 * rate * 10**currency.exponent
            return int(minor.quantize(Decimal(1), ROUND_HALF_UP))
        if key in AMOUNT_KEYS and isinstance(value, str):
            return f"{(Decimal(value) * rate).quantize(Decimal('0.0001')).normalize():f}"
        return value

    result: dict[str, Any] = scale(plan, "")
    result["code"] = plan_code(plan["code"], currency.code)
    result["amount_currency"] = currency.code
    if currency.code != "EUR":
        result["name"] = f"{plan['name']} ({currency.code})"
    return result
