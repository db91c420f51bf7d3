"""Budgets: spend vs budget, 80 % / 100 % alerts once per period, the portal form and the API.

Fixture (hand-computed): plan `metered`, 1.00 EUR per call, no base fee, VAT 20 % applied to
the organization; calendar-monthly subscription from 2024-03-01; FakeClock 2024-03-15 12:00 UTC.
Spend = calls × 1.20 EUR (taxes included). Budget 100 EUR: 80 % = 80.00 EUR, reached at
67 calls (80.40 EUR; 66 calls = 79.20 EUR is not); 100 % at 84 calls (100.80 EUR; 83 = 99.60).
"""

from __future__ import annotations

import html
import re
from datetime import UTC, datetime
from decimal import Decimal
from uuid import UUID

import pytest
from fastapi.testclient import TestClient

from releve.bootstrap import Container
from releve.entrypoints import scheduler
from tests.integration.support import FakeClock

pytestmark = pytest.mark.store
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def seed_metered(container: Container, organization_id: UUID, prefix: str) -> None:
    container.taxes.create(
        organization_id,
        {"code": "vat", "name": "VAT", "rate": Decimal("20"), "applied_to_organization": True},
    )
    container.billable_metrics.create(
        organization_id, {"name": "Calls", "code": "calls", "aggregation_type": "count_agg"}
    )
    container.plans.create(
        organization_id,
        {
            "name": f"{prefix} Metered",
            "code": "metered",
            "interval": "monthly",
            "amount_cents": 0,
            "amount_currency": "EUR",
            "charges": [
                {
                    "billable_metric_code": "calls",
                    "charge_model": "standard",
                    "properties": {"amount": "1.00"},
                }
            ],
        },
    )
    for n in (1, 2):
        container.customers.upsert(
            organization_id,
            {"external_id": f"{prefix}_{n}", "name": f"{prefix} customer {n}", "country": "FR"},
        )
        container.subscriptions.create(
            organization_id,
            {
                "external_customer_id": f"{prefix}_{n}",
                "plan_code": "metered",
                "external_id": f"{prefix}_sub{n}",
                "subscription_at": "2024-03-01T00:00:00Z",
            },
        )


_sent = {"n": 0}


def calls(container: Container, organization_id: UUID, sub: str, count: int, day: str) -> None:
    if not count:
        return
    start = _sent["n"]
    _sent["n"] += count
    container.events.ingest_batch(
        organization_id,
        [
            {
                "transaction_id": f"{sub}_{start + k}",
                "external_subscription_id": sub,
                "code": "calls",
                "timestamp": f"{day}T10:00:00Z",
            }
            for k in range(count)
        ],
    )


@pytest.fixture
def acme(container: Container, org: tuple[UUID, str], other_org: tuple[UUID, str]) -> UUID:
    seed_metered(container, org[0], "acme")
    seed_metered(container, other_org[0], "globex")
    return org[0]


def _customer_id(container: Container, organization_id: UUID, external_id: str) -> UUID:
    return container.customers.get(organization_id, external_id).id


@pytest.mark.parametrize(
    ("count", "spend_cents", "thresholds"),
    [(0, 0, []), (66, 7920, []), (67, 8040, [80]), (83, 9960, [80]), (84, 10080, [80, 100])],
)
def test_thresholds_at_their_edges_taxes_included(
    container: Container, acme: UUID, count: int, spend_cents: int, thresholds: list[int]
) -> None:
    container.budgets.set(acme, "acme_1", 10000)
    calls(container, acme, "acme_sub1", count, "2024-03-10")
    new = container.budgets.check(acme, _customer_id(container, acme, "acme_1"))
    assert [a.threshold for a in new] == thresholds
    status = container.budgets.status(acme, "acme_1")
    assert status is not None and status.spend_cents == spend_cents
    assert status.percent == spend_cents // 100
    assert [a.threshold for a in status.alerts] == thresholds


def test_alerts_fire_once_per_threshold_per_period_and_again_next_period(
    container: Container, acme: UUID, clock: FakeClock
) -> None:
    customer_id = _customer_id(container, acme, "acme_1")
    container.budgets.set(acme, "acme_1", 10000)
    calls(container, acme, "acme_sub1", 67, "2024-03-10")  # 80.40 EUR
    assert [a.threshold for a in container.budgets.check(acme, customer_id)] == [80]
    assert container.budgets.check(acme, customer_id) == []  # a reload: nothing new
    calls(container, acme, "acme_sub1", 17, "2024-03-11")  # 84 calls: 100.80 EUR
    fired = container.budgets.check(acme, customer_id)
    assert [(a.threshold, a.spend_cents, a.budget_cents) for a in fired] == [(100, 10080, 10000)]
    scheduler.tick(container)  # the next tick does not fire again
    status = container.budgets.status(acme, "acme_1")
    assert status is not None
    assert [(a.threshold, a.spend_cents) for a in status.alerts] == [(80, 8040), (100, 10080)]
    assert status.period is not None
    assert status.period.start == datetime(2024, 3, 1, tzinfo=UTC)

    # April: a new period starts with no alert, and the 80 % fires again when reached.
    clock.set(datetime(2024, 4, 10, 12, tzinfo=UTC))
    scheduler.tick(container)  # closes March
    status = container.budgets.status(acme, "acme_1")
    assert status is not None and status.spend_cents == 0 and status.alerts == ()
    calls(container, acme, "acme_sub1", 70, "2024-04-09")  # 84.00 EUR
    scheduler.tick(container)
    status = container.budgets.status(acme, "acme_1")
    assert status is not None and status.period is not None
    assert status.period.start == datetime(2024, 4, 1, tzinfo=UTC)
    assert [(a.threshold, a.spend_cents) for a in status.alerts] == [(80, 8400)]


def test_changing_the_amount_rearms_this_periods_alerts(container: Container, acme: UUID) -> None:
    customer_id = _customer_id(container, acme, "acme_1")
    container.budgets.set(acme, "acme_1", 10000)
    calls(container, acme, "acme_sub1", 70, "2024-03-10")  # 84.00 EUR
    container.budgets.check(acme, customer_id)
    status = container.budgets.set(acme, "acme_1", 20000)  # 42 %: no alert stands
    assert status.alerts == () and status.percent == 42
    status = container.budgets.set(acme, "acme_1", 10400)  # back under: 80 % fires again
    assert [a.threshold for a in status.alerts] == [80]


@pytest.mark.parametrize(
    ("amount", "code"),
    [
        ("-5", "value_is_invalid"),
        ("0", "value_is_invalid"),
        ("abc", "value_is_invalid"),
        ("NaN", "value_is_invalid"),
        ("10.005", "too_many_decimals"),
        ("1e20", "value_is_too_large"),
    ],
)
def test_bad_amounts_are_refused_naming_the_field_and_nothing_changes(
    container: Container, acme: UUID, amount: str, code: str
) -> None:
    from releve.services.errors import ValidationFailed

    container.budgets.set_amount(acme, "acme_1", "50")
    with pytest.raises(ValidationFailed) as refused:
        container.budgets.set_amount(acme, "acme_1", amount)
    assert refused.value.error_details == {"amount": [code]}
    status = container.budgets.status(acme, "acme_1")
    assert status is not None and status.budget.amount_cents == 5000


# --- API -----------------------------------------------------------------------------------


def test_api_get_put_delete_budget(api: TestClient, container: Container, acme: UUID) -> None:
    assert api.get("/api/v1/customers/acme_1/budget").json()["budget"]["amount_cents"] is None
    calls(container, acme, "acme_sub1", 67, "2024-03-10")
    r = api.put("/api/v1/customers/acme_1/budget", json={"budget": {"amount_cents": 10000}})
    assert r.status_code == 200, r.text
    body = r.json()["budget"]
    assert body["amount_cents"] == 10000 and body["currency"] == "EUR"
    assert body["current_spend_amount_cents"] == 8040 and body["current_percent"] == 80
    assert body["from_datetime"] == "2024-03-01T00:00:00Z"
    assert [a["threshold_percent"] for a in body["alerts"]] == [80]
    assert api.get("/api/v1/customers/acme_1/budget").json()["budget"] == body
    assert api.delete("/api/v1/customers/acme_1/budget").status_code == 200
    assert api.get("/api/v1/customers/acme_1/budget").json()["budget"]["amount_cents"] is None


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"amount_cents": -100}, "amount_cents"),
        ({"amount_cents": "100"}, "amount_cents"),
        ({"amount_cents": 1.5}, "amount_cents"),
        ({"amount_cents": 100, "currency": "USD"}, "currency"),
    ],
)
def test_api_rejects_bad_budgets_with_the_field(
    api: TestClient, acme: UUID, payload: dict[str, object], field: str
) -> None:
    r = api.put("/api/v1/customers/acme_1/budget", json={"budget": payload})
    assert r.status_code == 422 and field in r.json()["error_details"]
    assert api.get("/api/v1/customers/acme_1/budget").json()["budget"]["amount_cents"] is None


def test_api_never_reaches_another_organizations_customer(
    api: TestClient, container: Container, acme: UUID, other_org: tuple[UUID, str]
) -> None:
    container.budgets.set(other_org[0], "globex_1", 777)
    assert api.get("/api/v1/customers/globex_1/budget").status_code == 404
    r = api.put("/api/v1/customers/globex_1/budget", json={"budget": {"amount_cents": 1}})
    assert r.status_code == 404
    assert api.delete("/api/v1/customers/globex_1/budget").status_code == 404
    status = container.budgets.status(other_org[0], "globex_1")
    assert status is not None and status.budget.amount_cents == 777


# --- portal --------------------------------------------------------------------------------


def _portal(container: Container, organization_id: UUID, external_id: str) -> str:
    return "/portal/" + container.portal.issue_token(organization_id, external_id)


def _text(body: str) -> str:
    return re.sub(r"\s+", " ", html.unescape(body))


def test_portal_sets_a_budget_and_shows_the_bar_and_the_banners(
    client: TestClient, container: Container, acme: UUID
) -> None:
    path = _portal(container, acme, "acme_1")
    page = client.get(path)
    assert "Set a budget" in page.text
    token = CSRF.search(page.text)
    assert token
    calls(container, acme, "acme_sub1", 67, "2024-03-10")
    r = client.post(
        f"{path}/budget", data={"csrf_token": token.group(1), "amount": "100"},
        follow_redirects=False,
    )  # fmt: skip
    assert r.status_code == 303 and r.headers["location"].startswith(path)
    text = _text(client.get(path).text)
    assert "80,40 € of your 100,00 € budget (80 %)" in text
    assert 'role="progressbar"' in client.get(path).text
    assert "You have used 80 % of your budget" in text
    calls(container, acme, "acme_sub1", 17, "2024-03-11")
    text = _text(client.get(path).text)
    assert "You have reached your budget" in text and "(100 %)" in text
    status = container.budgets.status(acme, "acme_1")
    assert status is not None and [a.threshold for a in status.alerts] == [80, 100]
    client.get(path)
    status = container.budgets.status(acme, "acme_1")
    assert status is not None and len(status.alerts) == 2  # reloading fires nothing


@pytest.mark.parametrize(
    ("amount", "message"),
    [
        ("-10", "Budget must be an amount above zero, such as 100 or 250.50."),
        ("ten", "Budget must be an amount above zero, such as 100 or 250.50."),
        ("10.001", "Budget can have at most 2 decimals in EUR."),
    ],
)
def test_portal_form_refuses_bad_amounts_with_a_message(
    client: TestClient, container: Container, acme: UUID, amount: str, message: str
) -> None:
    path = _portal(container, acme, "acme_1")
    token = CSRF.search(client.get(path).text)
    assert token
    r = client.post(f"{path}/budget", data={"csrf_token": token.group(1), "amount": amount})
    assert r.status_code == 422
    assert message in _text(r.text)
    assert 'aria-invalid="true"' in r.text
    assert container.budgets.status(acme, "acme_1") is None


def test_portal_budget_post_needs_the_links_csrf_token(
    client: TestClient, container: Container, acme: UUID
) -> None:
    path = _portal(container, acme, "acme_1")
    other = _portal(container, acme, "acme_2")
    stolen = CSRF.search(client.get(other).text)
    assert stolen
    for data in ({"amount": "100"}, {"amount": "100", "csrf_token": stolen.group(1)}):
        assert client.post(f"{path}/budget", data=data).status_code == 403
    assert container.budgets.status(acme, "acme_1") is None


def test_portal_link_never_shows_or_changes_another_customers_budget(
    client: TestClient, container: Container, acme: UUID, other_org: tuple[UUID, str]
) -> None:
    container.budgets.set(acme, "acme_2", 4321)  # same organization, other customer
    container.budgets.set(other_org[0], "globex_1", 8765)  # other organization
    path = _portal(container, acme, "acme_1")
    text = _text(client.get(path).text)
    assert "43,21" not in text and "87,65" not in text and "globex" not in text.lower()
    token = CSRF.search(client.get(path).text)
    assert token
    client.post(f"{path}/budget", data={"csrf_token": token.group(1), "amount": "5"})
    client.post(f"{path}/budget/remove", data={"csrf_token": token.group(1)})
    acme2 = container.budgets.status(acme, "acme_2")
    globex = container.budgets.status(other_org[0], "globex_1")
    assert acme2 is not None and acme2.budget.amount_cents == 4321
    assert globex is not None and globex.budget.amount_cents == 8765
    for suffix in ("/budget", "/budget/remove"):
        bad = client.post(f"/portal/forged.token{suffix}", data={"amount": "1"})
        assert bad.status_code == 403


def test_portal_removes_the_budget(client: TestClient, container: Container, acme: UUID) -> None:
    container.budgets.set(acme, "acme_1", 10000)
    path = _portal(container, acme, "acme_1")
    token = CSRF.search(client.get(path).text)
    assert token
    r = client.post(
        f"{path}/budget/remove", data={"csrf_token": token.group(1)}, follow_redirects=False
    )
    assert r.status_code == 303
    assert container.budgets.status(acme, "acme_1") is None
