"""Plans: value types with Lago's rules (`model`), parsed from Lago JSON
(`lago_json`) and written back (`lago_echo`).

Import from here: ``from releve.domain.plans import Plan, parse_plan``.
"""

from __future__ import annotations

from releve.domain.plans.lago_echo import charge_to_lago, plan_to_lago
from releve.domain.plans.lago_json import apply_overrides, parse_plan
from releve.domain.plans.model import (
    Charge,
    ChargeFilterPrice,
    MetricNotFound,
    MinimumCommitment,
    Plan,
    UsageThreshold,
)

__all__ = [
    "Charge",
    "ChargeFilterPrice",
    "MetricNotFound",
    "MinimumCommitment",
    "Plan",
    "UsageThreshold",
    "apply_overrides",
    "charge_to_lago",
    "parse_plan",
    "plan_to_lago",
]
