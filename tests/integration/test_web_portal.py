"""Customer portal: what a link shows, to whom, in which language; bad links get a clear page."""

from __future__ import annotations

import base64
import hashlib
import hmac
import html
from datetime import timedelta
from uuid import UUID

import pytest
from fastapi.testclient import TestClient

from releve.bootstrap import Container
from releve.entrypoints.web.formatting import Formatter
from releve.services.pagination import PageRequest
from tests.integration.support import FakeClock
from tests.integration.web_support import seed, seed_billing

pytestmark = pytest.mark.store


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


@pytest.fixture
def data(container: Container, org: tuple[UUID, str], other_org: tuple[UUID, str]) -> None:
    seed(container, org[0], "acme")
    seed(container, other_org[0], "globex")
    seed_billing(container, org[0], "acme")
    seed_billing(container, other_org[0], "globex")
    # A second customer of the same organization, with its own events and code.
    container.events.ingest_batch(
        org[0],
        [
            {"transaction_id": f"second_{n}", "external_subscription_id": "acme_2", "code": "calls"}
            for n in range(3)
        ]
        + [{"transaction_id": "secret_x", "external_subscription_id": "acme_2", "code": "secret"}],
    )


def _path(container: Container, organization_id: UUID, external_id: str) -> str:
    return "/portal/" + container.portal.issue_token(organization_id, external_id)


FR = Formatter("fr_FR", "UTC")


def test_portal_shows_each_subscriptions_usage_and_cost_in_the_customers_language(
    client: TestClient, container: Container, org: tuple[UUID, str], data: None
) -> None:
    r = client.get(_path(container, org[0], "acme_1"), headers={"accept-language": "en-US"})
    assert r.status_code == 200
    text = html.unescape(r.text)
    assert "acme First" in text and "Acme" in text  # customer and organization
    assert "acme Growth" in text and "acme_sub1" in text  # plan and subscription
    # Country FR → babel's fr_FR dates and money (FakeClock: 15 March 2024 12:00 UTC).
    assert "1 mars 2024" in text and "31 mars 2024" in text and "17 days left" in text
    assert FR.money(150, "EUR") in text  # 2 free calls, then 3 × 0.50 EUR
    assert FR.money(30, "EUR") in text and FR.money(180, "EUR") in text  # VAT 20 %, total
    # Projection: 1.80 € after 14.5 of 31 days → 1.80 × 31 / 14.5 = 3.848… → 3.85 €.
    assert FR.money(385, "EUR") in text and "at the same pace" in text
    assert "5 units" in text  # the fee's explanation sentence
    assert "Unit price" in text and "First 2 units" in text  # the graduated tiers as a table
    assert "No invoices yet" in text
    assert r.headers["Referrer-Policy"] == "no-referrer"
    assert r.headers["Cache-Control"] == "no-store"


def test_every_line_expands_into_its_events_paged(
    client: TestClient, container: Container, org: tuple[UUID, str], data: None
) -> None:
    path = _path(container, org[0], "acme_1")
    r = client.get(path, params={"sub": "acme_sub1", "metric": "calls"})
    assert "<details open" in r.text and "acme_s1_0" in r.text and "acme_s1_4" in r.text
    assert "acme_t0" not in r.text  # sent to another subscription id: not behind this line
    r = client.get(path, params={"sub": "acme_sub1", "metric": "calls", "page": 2})
    assert "Page 2 of 1" in r.text and "acme_s1_0" not in r.text


def test_a_link_for_customer_a_never_shows_customer_b(
    client: TestClient, container: Container, org: tuple[UUID, str], data: None
) -> None:
    path = _path(container, org[0], "acme_1")
    for params in (
        {},
        {"metric": "calls"},
        {"sub": "acme_sub2", "metric": "calls"},
        {"sub": "acme_2", "metric": "secret"},
        {"sub": "globex_sub1", "metric": "calls"},
        {"sub": "acme_sub2", "metric": "calls", "page": 2},
    ):
        r = client.get(path, params=params)
        assert r.status_code == 200
        assert "<details open" not in r.text, params  # not one of theirs: nothing opens
        for theirs in ("acme Second", "acme_sub2", "acme_s2_", "second_", "secret", "globex"):
            assert theirs not in r.text, (params, theirs)


def test_finalized_invoices_are_listed_with_their_explanations_and_only_the_customers(
    client: TestClient,
    container: Container,
    org: tuple[UUID, str],
    clock: FakeClock,
    data: None,
) -> None:
    clock.advance(timedelta(days=17, hours=1))  # 1 April 2024, 13:00 UTC: March is billed
    container.billing.bill_due()
    mine = container.invoices.list(org[0], PageRequest(1, 10), external_customer_id="acme_1")
    theirs = container.invoices.list(org[0], PageRequest(1, 10), external_customer_id="acme_2")
    finalized = [v for v in mine.items if v.invoice.status == "finalized"]
    if not finalized:
        pytest.skip("billing leaves March's invoice as a draft (grace period)")
    path = _path(container, org[0], "acme_1")
    r = client.get(path)
    invoice = finalized[0].invoice
    assert invoice.number and invoice.number in r.text
    assert f"{path}/invoices/{invoice.id}" in r.text
    detail = client.get(f"{path}/invoices/{invoice.id}")
    assert detail.status_code == 200 and "5 units" in html.unescape(detail.text)
    assert "How this amount is computed" in detail.text and "Unit price" in detail.text
    for other in theirs.items:  # the other customer's invoice through A's link: not found
        r = client.get(f"{path}/invoices/{other.invoice.id}")
        assert r.status_code == 404 and "acme Second" not in r.text
    assert client.get(f"{path}/invoices/not-a-uuid").status_code == 404


def test_a_link_is_bound_to_its_customer_and_organization(
    client: TestClient,
    container: Container,
    org: tuple[UUID, str],
    other_org: tuple[UUID, str],
    data: None,
) -> None:
    token = container.portal.issue_token(org[0], "acme_1")
    payload_b64, signature = token.split(".")
    payload = base64.urlsafe_b64decode(payload_b64 + "=" * (-len(payload_b64) % 4))
    b = container.customers.get(org[0], "acme_2")
    other = container.customers.get(other_org[0], "globex_1")
    # Customer id swapped, signature kept → 403.
    for victim in (b, other):
        forged = _b64(victim.id.bytes + payload[16:]) + "." + signature
        r = client.get(f"/portal/{forged}")
        assert r.status_code == 403 and "This link is not valid" in r.text
        assert victim.name is not None and victim.name not in r.text
    # Signed with organization A's secret for organization B's customer → 403.
    secret = container.organizations.get(org[0]).portal_secret  # type: ignore[union-attr]
    cross = other.id.bytes + payload[16:]
    sig = hmac.new(secret.encode(), cross, hashlib.sha256).digest()[:20]
    assert client.get(f"/portal/{_b64(cross)}.{_b64(sig)}").status_code == 403


@pytest.mark.parametrize("token", ["garbage", "a.b", "....", "%00", "x" * 500, "AAAA.AAAA", "é.é"])
def test_malformed_links_get_a_clear_403_page(client: TestClient, token: str, data: None) -> None:
    r = client.get(f"/portal/{token}")
    assert r.status_code == 403
    assert "This link is not valid" in r.text and "Traceback" not in r.text


def test_expired_link_gets_a_clear_410_page(
    client: TestClient, container: Container, org: tuple[UUID, str], clock: FakeClock, data: None
) -> None:
    path = _path(container, org[0], "acme_1")
    clock.advance(timedelta(days=30, seconds=1))
    r = client.get(path)
    assert r.status_code == 410 and "This link has expired" in r.text
    assert "acme" not in r.text.lower()


def test_deleted_customer_link_is_not_valid(
    client: TestClient, container: Container, org: tuple[UUID, str], data: None
) -> None:
    path = _path(container, org[0], "acme_1")
    container.customers.delete(org[0], "acme_1")
    assert client.get(path).status_code == 403


def test_a_portal_token_is_not_a_dashboard_session(
    client: TestClient, container: Container, org: tuple[UUID, str], data: None
) -> None:
    """A portal token is not a dashboard session and the other way round (separate keys)."""
    token = container.portal.issue_token(org[0], "acme_1")
    assert container.dashboard_auth.session(token) is None
    client.cookies.set("releve_session", token)
    assert client.get("/", follow_redirects=False).status_code == 303


def test_the_events_chart_says_which_codes_are_not_on_the_plan(
    client: TestClient, container: Container, org: tuple[UUID, str], data: None
) -> None:
    container.events.ingest_batch(
        org[0],
        [{"transaction_id": "typo_1", "external_subscription_id": "acme_sub1", "code": "cals"}],
    )
    body = html.unescape(client.get(_path(container, org[0], "acme_1")).text)
    assert '"name": "cals (not on your plan)"' in body
    assert '"name": "cals"' not in body


def test_no_credit_notes_at_all_is_not_an_empty_page(
    client: TestClient, container: Container, org: tuple[UUID, str], data: None
) -> None:
    body = client.get(_path(container, org[0], "acme_1") + "/credit-notes").text
    assert "No credit notes yet." in body
    assert "on this page" not in body
