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
from tests.integration.web_support import csrf_of, seed, sign_in

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
