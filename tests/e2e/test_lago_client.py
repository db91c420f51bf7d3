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
