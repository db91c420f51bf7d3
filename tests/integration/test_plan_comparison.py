"""Plan comparison: the customer's own usage priced on each public plan, hand-computed.

Customer on `starter` (fee 10.00 EUR in arrears + 0.10 EUR per call), VAT 20 % on the
organization; subscription from 2024-02-01 (calendar monthly), FakeClock 2024-03-15 12:00 UTC.
February: 300 calls; March so far: 150 calls.

| plan            | March so far                     | February                        |
| starter (yours) | (10 + 15.00) × 1.2 = 30.00       | (10 + 30.00) × 1.2 = 48.00      |
| pro (graduated) | (20 + 50 × 0.05) × 1.2 = 27.00   | (20 + 200 × 0.05) × 1.2 = 36.00 |
| flat (per unit) | 150 × 0.12 × 1.2 = 21.60         | 300 × 0.12 × 1.2 = 43.20        |

`pro`: first 100 calls free, then 0.05 EUR. `hidden` is not public; `dollar` is public but in
USD; `yearly` is public but yearly: none of them is ever shown.
"""

from __future__ import annotations

import html
import re
from decimal import Decimal
from typing import Any
from uuid import UUID

import pytest
from fastapi.testclient import TestClient

from releve.bootstrap import Container

pytestmark = pytest.mark.store


def _plan(code: str, name: str, fee: int, charge: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {
        "name": name,
        "code": code,
        "interval": extra.pop("interval", "monthly"),
        "amount_cents": fee,
        "amount_currency": extra.pop("currency", "EUR"),
        "charges": [{"billable_metric_code": "calls", **charge}],
        **extra,
    }


def seed(container: Container, org: UUID, prefix: str) -> None:
    container.taxes.create(
        org, {"code": "vat", "name": "VAT", "rate": Decimal("20"), "applied_to_organization": True}
    )
    container.billable_metrics.create(
        org, {"name": "API calls", "code": "calls", "aggregation_type": "count_agg"}
    )
    per_unit = {"charge_model": "standard", "properties": {"amount": "0.10"}}
    container.plans.create(org, _plan("starter", f"{prefix} Starter", 1000, per_unit))
    graduated = {
        "charge_model": "graduated",
        "properties": {
            "graduated_ranges": [
                {"from_value": 0, "to_value": 100, "per_unit_amount": "0", "flat_amount": "0"},
                {"from_value": 101, "to_value": None, "per_unit_amount": "0.05",
                 "flat_amount": "0"},
            ]
        },
    }  # fmt: skip
    container.plans.create(org, _plan("pro", f"{prefix} Pro", 2000, graduated, public=True))
    flat = {"charge_model": "standard", "properties": {"amount": "0.12"}}
    container.plans.create(org, _plan("flat", f"{prefix} Flat", 0, flat, public=True))
    container.plans.create(org, _plan("hidden", f"{prefix} Hidden", 0, flat))
    container.plans.create(org, _plan("dollar", "Dollar", 0, flat, public=True, currency="USD"))
    container.plans.create(org, _plan("yearly", "Yearly", 0, flat, public=True, interval="yearly"))
    container.customers.upsert(org, {"external_id": f"{prefix}_1", "name": f"{prefix} One"})
    container.subscriptions.create(
        org,
        {
            "external_customer_id": f"{prefix}_1",
            "plan_code": "starter",
            "external_id": f"{prefix}_sub",
            "subscription_at": "2024-02-01T00:00:00Z",
        },
    )
    for day, count in (("2024-02-10", 300), ("2024-03-10", 150)):
        for batch in range(0, count, 100):
            container.events.ingest_batch(
                org,
                [
                    {
                        "transaction_id": f"{prefix}_{day}_{n}",
                        "external_subscription_id": f"{prefix}_sub",
                        "code": "calls",
                        "timestamp": f"{day}T10:00:00Z",
                    }
                    for n in range(batch, min(batch + 100, count))
                ],
            )


@pytest.fixture
def acme(container: Container, org: tuple[UUID, str], other_org: tuple[UUID, str]) -> UUID:
    seed(container, org[0], "acme")
    seed(container, other_org[0], "globex")
    return org[0]


def test_public_plans_priced_on_current_and_previous_usage(
    container: Container, acme: UUID
) -> None:
    [comparison] = container.plan_comparison.compare(acme, "acme_1")
    assert comparison.currency == "EUR" and comparison.external_subscription_id == "acme_sub"
    yours = comparison.yours
    assert yours.plan_code == "starter"
    assert yours.previous is not None
    assert (yours.current.total_cents, yours.previous.total_cents) == (3000, 4800)
    assert (yours.current.subscription_fee_cents, yours.current.charges_cents) == (1000, 1500)
    assert yours.current.taxes_cents == 500
    got = {
        o.plan_code: (o.current.total_cents, o.previous.total_cents if o.previous else None)
        for o in comparison.options
    }
    assert got == {"pro": (2700, 3600), "flat": (2160, 4320)}  # no hidden, dollar, yearly
    pro = next(o for o in comparison.options if o.plan_code == "pro")
    assert comparison.difference(pro.current, yours.current) == -300
    assert str(yours.current.first_day) == "2024-03-01"
    assert str(yours.current.last_day) == "2024-03-31"


def test_no_public_plan_means_no_comparison(container: Container, acme: UUID) -> None:
    for code in ("pro", "flat", "dollar", "yearly"):
        container.plans.update(acme, code, {"public": False})
    assert container.plan_comparison.compare(acme, "acme_1") == []


def test_api_accepts_and_returns_the_public_flag(api: TestClient, acme: UUID) -> None:
    assert api.get("/api/v1/plans/pro").json()["plan"]["public"] is True
    assert api.get("/api/v1/plans/starter").json()["plan"]["public"] is False
    r = api.put("/api/v1/plans/starter", json={"plan": {"public": True}})
    assert r.status_code == 200 and r.json()["plan"]["public"] is True
    r = api.put("/api/v1/plans/starter", json={"plan": {"name": "Renamed"}})
    assert r.json()["plan"]["public"] is True  # absent keeps the value
    r = api.put("/api/v1/plans/starter", json={"plan": {"public": "yes"}})
    assert r.status_code == 422 and "public" in r.json()["error_details"]
    assert api.get("/api/v1/plans/starter").json()["plan"]["name"] == "Renamed"


def test_portal_shows_the_comparison_and_the_rule(
    client: TestClient, container: Container, acme: UUID
) -> None:
    path = "/portal/" + container.portal.issue_token(acme, "acme_1")
    text = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", "", html.unescape(client.get(path).text)))
    assert "On plan acme Pro you would have paid €27.00 (you paid €30.00)" in text
    assert "€3.00 less" in text
    assert "On plan acme Flat you would have paid €43.20 (you paid €48.00)" in text
    assert "then taxes" in text and "previous period" in text
    assert "Hidden" not in text and "Dollar" not in text and "Yearly" not in text
    assert "globex" not in text.lower()
