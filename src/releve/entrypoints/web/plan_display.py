"""A plan's charges for reading: model names in words, properties as pairs and tier tables.

Presentation only (no rule): the values are the plan's own Lago JSON (`charge_to_lago`), so the
page shows exactly what the API returns, laid out for people.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from releve.domain.plans import Charge, Plan, charge_to_lago
from releve.services import exact_json
from releve.services.portal_view import DetailTable

MODEL_LABELS = {
    "standard": "Standard: one price per unit",
    "graduated": "Graduated: each tier prices the units that fall in it",
    "graduated_percentage": "Graduated percentage: a rate per tier of the amount",
    "volume": "Volume: every unit at the price of the tier reached",
    "package": "Package: a price per started package of units",
    "percentage": "Percentage of the transaction amount",
    "dynamic": "Dynamic: the price comes with each event",
}


@dataclass(frozen=True, slots=True)
class PropertiesView:
    pairs: tuple[tuple[str, object], ...]
    tables: tuple[tuple[str, DetailTable], ...]


@dataclass(frozen=True, slots=True)
class FilterView:
    name: str | None
    values: tuple[tuple[str, str], ...]
    properties: PropertiesView


@dataclass(frozen=True, slots=True)
class ChargeView:
    charge: Charge
    model_label: str
    properties: PropertiesView
    filters: tuple[FilterView, ...]


def _label(key: str) -> str:
    return key.replace("_", " ").capitalize()


def properties_view(properties: Mapping[str, Any]) -> PropertiesView:
    """Scalars as (label, value) pairs; lists of objects (tiers) as tables in their order."""
    pairs: list[tuple[str, object]] = []
    tables: list[tuple[str, DetailTable]] = []
    for key, value in properties.items():
        if isinstance(value, list) and value and all(isinstance(v, Mapping) for v in value):
            columns = list(dict.fromkeys(k for row in value for k in row))
            rows = tuple(tuple(row.get(k) for k in columns) for row in value)
            tables.append((_label(key), DetailTable(tuple(_label(k) for k in columns), rows)))
        elif isinstance(value, list | Mapping):
            pairs.append((_label(key), exact_json.dumps(value)))
        else:
            pairs.append((_label(key), value))
    return PropertiesView(tuple(pairs), tuple(tables))


def charge_views(plan: Plan) -> list[ChargeView]:
    views = []
    for charge in plan.charges:
        lago: dict[str, Any] = dict(charge_to_lago(charge))
        filters = tuple(
            FilterView(
                f.get("invoice_display_name"),
                tuple((k, ", ".join(v)) for k, v in (f.get("values") or {}).items()),
                properties_view(f.get("properties") or {}),
            )
            for f in lago.get("filters") or []
        )
        views.append(
            ChargeView(
                charge,
                MODEL_LABELS.get(lago["charge_model"], lago["charge_model"]),
                properties_view(lago.get("properties") or {}),
                filters,
            )
        )
    return views


def pretty_json(value: Any, indent: int = 0) -> str:
    """Indented JSON whose numbers stay exact (Decimal written as is, never through float)."""
    pad, inner = "  " * indent, "  " * (indent + 1)
    if isinstance(value, Mapping) and value:
        items = [
            f"{inner}{exact_json.dumps(str(k))}: {pretty_json(v, indent + 1)}"
            for k, v in value.items()
        ]
        return "{\n" + ",\n".join(items) + f"\n{pad}}}"
    if isinstance(value, list) and value:
        items = [f"{inner}{pretty_json(v, indent + 1)}" for v in value]
        return "[\n" + ",\n".join(items) + f"\n{pad}]"
    return exact_json.dumps(value)
