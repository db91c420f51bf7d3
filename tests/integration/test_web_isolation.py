"""Tenancy on every dashboard route: organization A never sees or changes anything of B.

Both organizations use the same metric code and similar customers, so a missing
`organization_id` in any query would show up as the other tenant's name or events.
"""

from __future__ import annotations

import base64
from uuid import UUID

import pytest
from fastapi.testclient import TestClient

from releve.bootstrap import Container
from releve.entrypoints.web.security import SESSION_COOKIE
from releve.services.pagination import PageRequest
from tests.integration.web_support import csrf_of, seed, seed_billing, sign_in

pytestmark = pytest.mark.store
GLOBEX_DATA = ("globex First", "globex Second", "globex_t", "globex calls", "@globex", "Globex")


@pytest.fixture
def as_acme(
    client: TestClient, container: Container, org: tuple[UUID, str], other_org: tuple[UUID, str]
) -> TestClient:
    seed(container, org[0], "acme")
    seed(container, other_org[0], "globex")
    # Same external id in both organizations: pages must show their own one.
    container.customers.upsert(org[0], {"external_id": "shared", "name": "Acme's shared"})
    container.customers.upsert(other_org[0], {"external_id": "shared", "name": "Globex's shared"})
    return sign_in(client, org[1])


@pytest.mark.parametrize(
    "path",
    [
        "/customers/globex_1",
        "/customers/globex_1/edit",
        "/metrics/nope",
        "/metrics/nope/edit",
    ],
)
def test_other_organizations_resources_are_not_found(as_acme: TestClient, path: str) -> None:
    r = as_acme.get(path)
    assert r.status_code == 404
    assert "globex" not in r.text.lower()


def test_posts_to_other_organizations_resources_are_not_found(
    as_acme: TestClient, container: Container, other_org: tuple[UUID, str]
) -> None:
    token = csrf_of(as_acme.get("/").text)
    for path, data in (
        ("/customers/globex_1/edit", {"name": "Pwned"}),
        ("/customers/globex_1/portal-link", {}),
        ("/metrics/nope/edit", {"name": "Pwned", "code": "x", "aggregation_type": "count_agg"}),
    ):
        r = as_acme.post(path, data={"csrf_token": token, **data})
        assert r.status_code == 404, path
        assert "/portal/" not in r.text
    assert container.customers.get(other_org[0], "globex_1").name == "globex First"


def test_same_identifiers_resolve_to_ones_own_organization(
    as_acme: TestClient, container: Container, other_org: tuple[UUID, str]
) -> None:
    assert "Acme&#39;s shared" in as_acme.get("/customers/shared").text
    assert "Globex" not in as_acme.get("/customers/shared").text
    metric = as_acme.get("/metrics/calls").text
    assert "acme calls" in metric and "globex calls" not in metric
    token = csrf_of(as_acme.get("/").text)
    as_acme.post("/customers/shared/edit", data={"csrf_token": token, "name": "Acme renamed"})
    assert container.customers.get(other_org[0], "shared").name == "Globex's shared"
    as_acme.post(
        "/metrics/calls/edit",
        data={
            "csrf_token": token,
            "name": "Renamed",
            "code": "calls",
            "aggregation_type": "count_agg",
        },
    )
    assert container.billable_metrics.get(other_org[0], "calls").name == "globex calls"


@pytest.mark.parametrize(
    "path",
    [
        "/",
        "/?days=90",
        "/customers",
        "/customers?q=globex",
        "/customers/shared",
        "/metrics",
        "/metrics/calls",
        "/events",
        "/events?subscription=globex_1",
        "/events?status=unmatched",
        "/events?code=calls",
        "/events/tail.json",
    ],
)
def test_lists_and_reads_show_only_ones_own_organization(as_acme: TestClient, path: str) -> None:
    r = as_acme.get(path)
    assert r.status_code == 200
    # The query may echo "globex" back; none of Globex's data may appear.
    for theirs in GLOBEX_DATA:
        assert theirs not in r.text, (path, theirs)


def test_overview_counts_only_ones_own_organization(
    as_acme: TestClient, container: Container, org: tuple[UUID, str]
) -> None:
    counts = container.analytics.counts(org[0])
    assert (counts.customers, counts.metrics, counts.events) == (3, 1, 4)
    assert (
        container.analytics.search_customers(org[0], "globex", PageRequest(1, 10)).total_count == 0
    )


def test_another_organizations_session_cookie_cannot_be_rewritten(
    as_acme: TestClient, container: Container, other_org: tuple[UUID, str]
) -> None:
    """Swapping the organization id inside a signed session breaks its signature."""
    cookie = as_acme.cookies[SESSION_COOKIE]
    payload_b64, signature = cookie.split(".")
    payload = base64.urlsafe_b64decode(payload_b64 + "=" * (-len(payload_b64) % 4))
    forged = other_org[0].bytes + payload[16:]
    forged_b64 = base64.urlsafe_b64encode(forged).rstrip(b"=").decode()
    assert container.dashboard_auth.session(f"{forged_b64}.{signature}") is None


@pytest.fixture
def billed_pair(
    as_acme: TestClient, container: Container, org: tuple[UUID, str], other_org: tuple[UUID, str]
) -> str:
    """Both organizations billed the same way; Globex's final invoice id is returned."""
    seed_billing(container, org[0], "acme")
    seed_billing(container, other_org[0], "globex")
    container.plans.create(
        other_org[0],
        {
            "name": "Theirs",
            "code": "globex-only",
            "interval": "monthly",
            "amount_cents": 0,
            "amount_currency": "EUR",
        },
    )
    container.subscriptions.terminate(org[0], "acme_sub1")
    container.subscriptions.terminate(other_org[0], "globex_sub1")
    theirs = container.invoices.list(other_org[0], PageRequest(1, 10)).items
    assert len(theirs) == 1
    return str(theirs[0].invoice.id)


def test_new_routes_answer_404_for_another_organizations_ids(
    as_acme: TestClient, billed_pair: str
) -> None:
    for path in (
        f"/invoices/{billed_pair}",
        "/invoices/not-a-uuid",
        "/plans/globex-only",
        "/plans/globex-only/edit",
        "/customers/globex_1/subscriptions/globex_sub2/terminate",
        "/customers/acme_2/subscriptions/globex_sub2/terminate",  # their subscription id
        "/customers/acme_1/subscriptions/acme_sub2/terminate",  # another customer's
    ):
        r = as_acme.get(path)
        assert r.status_code == 404, path
        assert "globex" not in r.text.lower(), path


def test_new_posts_answer_404_and_change_nothing(
    as_acme: TestClient, container: Container, other_org: tuple[UUID, str], billed_pair: str
) -> None:
    token = csrf_of(as_acme.get("/").text)
    for path, data in (
        (f"/invoices/{billed_pair}/void", {}),
        (f"/invoices/{billed_pair}/finalize", {}),
        (f"/invoices/{billed_pair}/mark-paid", {}),
        ("/plans/globex-only/edit", {"name": "Pwned", "code": "x", "amount_currency": "EUR"}),
        ("/customers/globex_1/subscriptions", {"plan_code": "growth", "external_id": "x"}),
        ("/customers/globex_2/subscriptions/globex_sub2/terminate", {}),
        ("/customers/acme_2/subscriptions/globex_sub2/terminate", {}),
    ):
        r = as_acme.post(path, data={"csrf_token": token, **data})
        assert r.status_code == 404, path
        assert "globex" not in r.text.lower(), path
    invoice = container.invoices.get(other_org[0], billed_pair).invoice
    assert (invoice.status, invoice.payment_status) == ("finalized", "pending")
    assert container.subscriptions.get(other_org[0], "globex_sub2").subscription.status == "active"
    assert container.plans.get(other_org[0], "globex-only").plan.name == "Theirs"


@pytest.mark.parametrize(
    "path",
    ["/invoices", "/invoices?customer=globex_1", "/plans", "/plans/growth", "/customers/acme_1"],
)
def test_new_lists_show_only_ones_own_organization(
    as_acme: TestClient, billed_pair: str, path: str
) -> None:
    r = as_acme.get(path)
    assert r.status_code == 200
    assert billed_pair not in r.text
    for theirs in (*GLOBEX_DATA, "globex Growth", "globex_sub"):
        assert theirs not in r.text, (path, theirs)


def test_overview_revenue_is_ones_own(
    as_acme: TestClient, container: Container, org: tuple[UUID, str], billed_pair: str
) -> None:
    # Acme: 1.80 € (5 calls); Globex's identical invoice is not counted.
    assert container.analytics.revenue_by_month(org[0], timezone="UTC").by_currency == {
        "EUR": [0] * 11 + [180]
    }
    page = as_acme.get("/").text
    assert "€1.80" in page and "€3.60" not in page and "globex" not in page.lower()
