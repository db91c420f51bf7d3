"""Lago's alert object (`AlertResponse` of lago-python-client 1.55) from an `AlertView`.

Threshold values are decimal strings, as Lago sends them; amounts are minor units.
"""

from __future__ import annotations

from typing import Any

from releve.entrypoints.api.serializers import billable_metric, iso
from releve.services.alert_input import normalized
from releve.services.alerts import AlertView


def alert(view: AlertView) -> dict[str, Any]:
    a = view.alert
    metric = None if view.metric is None else billable_metric(view.metric)
    return {
        "lago_id": str(a.id),
        "lago_organization_id": str(a.organization_id),
        "external_subscription_id": a.external_subscription_id,
        "lago_subscription_id": None if view.subscription is None else str(view.subscription.id),
        "lago_wallet_id": None,
        "wallet_code": None,
        "alert_type": a.alert_type,
        "code": a.code,
        "name": a.name,
        "direction": "increasing",
        "previous_value": None if a.previous_value is None else normalized(a.previous_value),
        "last_processed_at": iso(a.last_processed_at) if a.last_processed_at else None,
        "billable_metric_code": view.metric_code,
        "billable_metric": metric,
        "thresholds": [
            {"code": t["code"], "value": t["value"], "recurring": t["recurring"]}
            for t in a.thresholds
        ],
        "created_at": iso(a.created_at),
    }
