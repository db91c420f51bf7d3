"""The official lago-python-client drives a real `releve serve` unchanged."""

from __future__ import annotations

import warnings

import pytest

from tests.e2e.conftest import Server

with warnings.catch_warnings():
    # The client imports pydantic.v1, which warns on import under pydantic 2; not our code.
    warnings.simplefilter("ignore")
    from lago_python_client.client import Client
    from lago_python_client.exceptions import LagoApiError
    from lago_python_client.models import BillableMetric, Customer, Tax
    from lago_python_client.models.event import BatchEvent, Event

pytestmark = [pytest.mark.e2e, pytest.mark.store]


def test_lago_client_round_trip(server: Server) -> None:
    client = Client(api_key=server.api_key, api_url=server.url)
    tax = client.taxes.create(Tax(name="VAT", code="vat", rate=20.0))
    assert tax is not None and tax.code == "vat" and tax.rate == 20.0
    metric = client.billable_metrics.create(
        BillableMetric(name="Storage", code="storage", aggregation_type="sum_agg", field_name="gb")
    )
    assert metric is not None and metric.code == "storage" and metric.lago_id
    customer = client.customers.create(Customer(external_id="cus_1", name="Acme", currency="EUR"))
    assert customer is not None and customer.external_id == "cus_1"
    assert customer.applicable_timezone == "UTC"
    events = [
        Event(
            transaction_id=f"tx_{i}",
            external_subscription_id="sub_1",
            code="storage",
            timestamp=1_700_000_000 + i,
            properties={"gb": "1.5"},
        )
        for i in range(10)
    ]
    assert client.events.batch_create(BatchEvent(events=events)) is None
    found = client.events.find("tx_3")
    assert found is not None and found.code == "storage" and found.properties == {"gb": "1.5"}
    single = client.events.create(
        Event(transaction_id="tx_single", external_subscription_id="sub_1", code="storage")
    )
    assert single is not None and single.transaction_id == "tx_single"
    listing = client.customers.find_all({"per_page": 1})
    assert listing["meta"]["total_count"] == 1
    with pytest.raises(LagoApiError) as err:
        client.customers.find("nobody")
    assert err.value.status_code == 404
    assert err.value.response["code"] == "customer_not_found"
    bad = Client(api_key="rlv_nope", api_url=server.url)
    with pytest.raises(LagoApiError) as err:
        bad.taxes.find("vat")
    assert err.value.status_code == 401


def test_lago_client_plan_subscription_events_and_current_usage(server: Server) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from lago_python_client.models import BillableMetricFilter, Plan, Subscription
        from lago_python_client.models.billable_metric import BillableMetricFilters
        from lago_python_client.models.charge import Charge, ChargeFilter, ChargeFilters, Charges

    client = Client(api_key=server.api_key, api_url=server.url)
    calls = client.billable_metrics.create(
        BillableMetric(
            name="API calls",
            code="api_calls",
            aggregation_type="count_agg",
            filters=BillableMetricFilters(
                __root__=[BillableMetricFilter(key="region", values=["eu", "us"])]
            ),
        )
    )
    storage = client.billable_metrics.create(
        BillableMetric(name="Storage", code="storage", aggregation_type="sum_agg", field_name="gb")
    )
    messages = client.billable_metrics.create(
        BillableMetric(name="Messages", code="messages", aggregation_type="sum_agg", field_name="n")
    )
    assert calls is not None and storage is not None and messages is not None
    charges = [
        Charge(
            billable_metric_id=calls.lago_id,
            charge_model="standard",
            properties={"amount": "0.10"},
            filters=ChargeFilters(
                __root__=[
                    ChargeFilter(
                        invoice_display_name="EU",
                        values={"region": ["eu"]},
                        properties={"amount": "0.05"},
                    )
                ]
            ),
        ),
        Charge(
            billable_metric_id=storage.lago_id,
            charge_model="graduated",
            properties={
                "graduated_ranges": [
                    {"from_value": 0, "to_value": 10, "per_unit_amount": "1", "flat_amount": "0"},
                    {
                        "from_value": 11,
                        "to_value": None,
                        "per_unit_amount": "0.5",
                        "flat_amount": "0",
                    },
                ]
            },
        ),
        Charge(
            billable_metric_id=messages.lago_id,
            charge_model="package",
            properties={"amount": "2", "package_size": 10, "free_units": 0},
        ),
    ]
    plan = client.plans.create(
        Plan(
            name="Startup",
            code="startup",
            interval="monthly",
            amount_cents=1000,
            amount_currency="EUR",
            pay_in_advance=False,
            charges=Charges(__root__=charges),
        )
    )
    assert plan is not None and plan.code == "startup"
    assert [c.charge_model for c in plan.charges.__root__] == ["standard", "graduated", "package"]
    subscription = client.subscriptions.create(
        Subscription(external_customer_id="cus_9", plan_code="startup", external_id="sub_9")
    )
    assert subscription is not None and subscription.status == "active"
    assert subscription.current_billing_period_started_at is not None

    def event(tx: str, code: str, **properties: object) -> Event:
        return Event(
            transaction_id=tx, external_subscription_id="sub_9", code=code, properties=properties
        )

    batch = [
        *(event(f"eu{i}", "api_calls", region="eu") for i in range(4)),
        *(event(f"us{i}", "api_calls", region="us") for i in range(2)),
        event("s1", "storage", gb="5"),
        event("s2", "storage", gb=10),
        event("m1", "messages", n=20),
        event("m2", "messages", n="5"),
    ]
    assert client.events.batch_create(BatchEvent(events=batch)) is None
    usage = client.customers.current_usage("cus_9", "sub_9")
    by_code = {c.billable_metric.code: c for c in usage.charges_usage}
    # api_calls: EU 4 × 0.05 + default 2 × 0.10 = 0.40
    assert (by_code["api_calls"].units, by_code["api_calls"].amount_cents) == ("6", 40)
    eu, default = by_code["api_calls"].filters
    assert (eu.invoice_display_name, eu.units, eu.amount_cents) == ("EU", "4", 20)
    assert (default.values, default.units, default.amount_cents) == (None, "2", 20)
    # storage 15 GB: 10 × 1 + 5 × 0.5 = 12.50
    assert (by_code["storage"].units, by_code["storage"].amount_cents) == ("15", 1250)
    # messages 25: 3 packages of 10 × 2 = 6.00
    assert (by_code["messages"].units, by_code["messages"].amount_cents) == ("25", 600)
    assert (usage.amount_cents, usage.taxes_amount_cents, usage.total_amount_cents) == (
        1890,
        0,
        1890,
    )
    assert usage.currency == "EUR"
