"""One way to read usage: current usage and billing both go through
`services.usage.usage_for_period` (no private helpers imported across modules)."""

from __future__ import annotations

import ast
import inspect
from datetime import UTC, datetime

import pytest
from fastapi.testclient import TestClient

from releve.bootstrap import Container
from releve.services import billing_usage
from releve.services.usage import usage_for_period
from tests.integration.billing_support import catalog, fees_by_code, list_invoices, subscribe, usage
from tests.integration.support import FakeClock

pytestmark = pytest.mark.store


def at(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=UTC)  # type: ignore[arg-type, misc]


def test_billing_reads_usage_through_the_public_reader_only() -> None:
    tree = ast.parse(inspect.getsource(billing_usage))
    private = [
        alias.name
        for node in ast.walk(tree)
        if isinstance(node, ast.ImportFrom)
        for alias in node.names
        if alias.name.startswith("_")
    ]
    assert private == []
    assert callable(usage_for_period)


def test_current_usage_and_the_final_invoice_agree(
    api: TestClient, clock: FakeClock, container: Container
) -> None:
    catalog(api, vat=None)
    subscribe(api, clock, at(2024, 3, 1))
    usage(api, clock, at(2024, 3, 5, 9), "api_calls", {"value": 300})
    usage(api, clock, at(2024, 3, 5, 10), "storage", {"gb": 12})
    clock.set(at(2024, 3, 15, 10))
    current = api.get(
        "/api/v1/customers/cus_1/current_usage?external_subscription_id=sub_1"
    ).json()["customer_usage"]
    by_metric = {c["billable_metric"]["code"]: c["amount_cents"] for c in current["charges_usage"]}
    assert by_metric == {"api_calls": 1500, "storage": 1100}
    assert api.delete("/api/v1/subscriptions/sub_1").status_code == 200
    (final,) = list_invoices(api)
    fees = {code: f["amount_cents"] for code, f in fees_by_code(final).items() if code != "pro"}
    assert fees == by_metric
