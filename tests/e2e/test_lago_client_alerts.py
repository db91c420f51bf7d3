"""The official lago-python-client 1.55 on subscription alerts against `releve serve`."""

from __future__ import annotations

import warnings

import pytest

from tests.e2e.conftest import Server

with warnings.catch_warnings():
    # The client imports pydantic.v1, which warns on import under pydantic 2; not our code.
    warnings.simplefilter("ignore")
    from lago_python_client.client import Client
    from lago_python_client.models import BillableMetric, Customer, Plan, Subscription
    from lago_python_client.models.alert import (
        Alert,
        AlertsList,
        AlertThreshold,
        AlertThresholdList,
    )

pytestmark = [pytest.mark.e2e, pytest.mark.store]


def test_subscription_alerts_through_the_client(server: Server) -> None:
    client = Client(api_key=server.api_key, api_url=server.url)
    client.billable_metrics.create(
        BillableMetric(name="Units", code="units", aggregation_type="sum_agg", field_name="n")
    )
    client.customers.create(Customer(external_id="cus_a", name="Acme", currency="EUR"))
    client.plans.create(
        Plan(
            name="Basic",
            code="basic",
            interval="monthly",
            amount_cents=0,
            amount_currency="EUR",
            pay_in_advance=False,
        )
    )
    client.subscriptions.create(
        Subscription(external_customer_id="cus_a", plan_code="basic", external_id="sub_a")
    )
    alerts = AlertsList(
        alerts=[
            Alert(alert_type="current_usage_amount", code="spend", name="Spend",
                  thresholds=AlertThresholdList(__root__=[
                      AlertThreshold(code="warn", value="5000", recurring=False)])),
            Alert(alert_type="billable_metric_current_usage_units", code="units",
                  billable_metric_code="units",
                  thresholds=AlertThresholdList(__root__=[
                      AlertThreshold(code=None, value="10", recurring=True)])),
        ]
    )  # fmt: skip
    created = client.subscriptions.create_alerts("sub_a", alerts)
    spend, units = created["alerts"]
    assert (spend.code, spend.alert_type, spend.external_subscription_id) == (
        "spend",
        "current_usage_amount",
        "sub_a",
    )
    assert [(t.code, t.value, t.recurring) for t in spend.thresholds.__root__] == [
        ("warn", "5000", False)
    ]
    assert units.billable_metric is not None and units.billable_metric.code == "units"
    assert client.subscriptions.delete_alerts("sub_a") is None
