"""Operator dashboard over HTTP: sign-in, session cookie, CSRF, pages, forms, validation."""

from __future__ import annotations

import html
from datetime import timedelta
from uuid import UUID

import pytest
from fastapi.testclient import TestClient

from releve.bootstrap import Container
from releve.entrypoints.web.security import SESSION_COOKIE
from tests.integration.support import FakeClock
from tests.integration.web_support import csrf_of, seed, seed_billing, sign_in

pytestmark = pytest.mark.store

PAGES = (
    "/",
    "/?days=90",
    "/customers",
    "/customers?q=first",
    "/customers/acme_1",
    "/customers/new",
    "/customers/acme_1/edit",
    "/metrics",
    "/metrics/new",
    "/metrics/calls",
    "/metrics/calls/edit",
    "/events",
    "/events?status=unmatched",
    "/events/tail.json",
)


@pytest.fixture
def signed_in(client: TestClient, container: Container, org: tuple[UUID, str]) -> TestClient:
    seed(container, org[0], "acme")
    return sign_in(client, org[1])


def test_pages_require_a_session(client: TestClient) -> None:
    for path in PAGES:
        r = client.get(path, follow_redirects=False)
        if path.endswith(".json"):
            assert r.status_code == 401, path
        else:
            assert r.status_code == 303, path
            assert r.headers["location"].startswith("/sign-in?next="), path


def test_sign_in_sets_a_hardened_cookie_and_every_page_renders(signed_in: TestClient) -> None:
    cookie = signed_in.cookies.get(SESSION_COOKIE)
    assert cookie and "rlv_" not in cookie  # the key itself never goes into the cookie
    for path in PAGES:
        r = signed_in.get(path)
        assert r.status_code == 200, (path, r.text[:500])
    page = signed_in.get("/")
    assert "Content-Security-Policy" in page.headers
    assert page.headers["Referrer-Policy"] == "no-referrer"
    assert "No invoices yet" in page.text
    assert 'href="/events?status=unmatched"' in page.text


def test_session_cookie_flags(client: TestClient, org: tuple[UUID, str]) -> None:
    form = client.get("/sign-in")
    r = client.post(
        "/sign-in",
        data={"csrf_token": csrf_of(form.text), "api_key": org[1]},
        follow_redirects=False,
    )
    header = next(
        v for k, v in r.headers.multi_items() if k == "set-cookie" and SESSION_COOKIE in v
    )
    assert "HttpOnly" in header and "SameSite=lax" in header and "Path=/" in header


def test_wrong_key_and_missing_sign_in_token_are_refused(
    client: TestClient, org: tuple[UUID, str]
) -> None:
    form = client.get("/sign-in")
    wrong = client.post(
        "/sign-in", data={"csrf_token": csrf_of(form.text), "api_key": "rlv_" + "x" * 40}
    )
    assert wrong.status_code == 401 and "not valid" in wrong.text
    no_token = client.post("/sign-in", data={"api_key": org[1]}, follow_redirects=False)
    assert no_token.status_code == 403
    assert SESSION_COOKIE not in client.cookies


def test_next_is_never_an_open_redirect(client: TestClient, org: tuple[UUID, str]) -> None:
    form = client.get("/sign-in")
    r = client.post(
        "/sign-in",
        data={"csrf_token": csrf_of(form.text), "api_key": org[1], "next": "//evil.example/"},
        follow_redirects=False,
    )
    assert r.headers["location"] == "/"


def test_posts_without_the_session_csrf_token_are_rejected(
    signed_in: TestClient, container: Container, org: tuple[UUID, str]
) -> None:
    for path, data in (
        ("/customers/new", {"external_id": "x"}),
        ("/customers/acme_1/edit", {"name": "Hacked"}),
        ("/customers/acme_1/portal-link", {}),
        ("/metrics/new", {"name": "X", "code": "x", "aggregation_type": "count_agg"}),
        ("/sign-out", {}),
    ):
        for token in (None, "forged"):
            body = dict(data) if token is None else {**data, "csrf_token": token}
            r = signed_in.post(path, data=body, follow_redirects=False)
            assert r.status_code == 403, (path, token)
    assert container.customers.get(org[0], "acme_1").name == "acme First"
    assert signed_in.get("/customers/x").status_code == 404


def test_csrf_token_of_another_session_is_rejected(
    signed_in: TestClient, container: Container, other_org: tuple[UUID, str]
) -> None:
    with TestClient(signed_in.app) as other:
        sign_in(other, other_org[1])
        foreign = csrf_of(other.get("/customers/new").text)
    r = signed_in.post("/customers/new", data={"csrf_token": foreign, "external_id": "x"})
    assert r.status_code == 403


def test_sign_out_ends_the_session(signed_in: TestClient) -> None:
    token = csrf_of(signed_in.get("/").text)
    r = signed_in.post("/sign-out", data={"csrf_token": token}, follow_redirects=False)
    assert r.status_code == 303
    assert signed_in.get("/", follow_redirects=False).status_code == 303


def test_revoked_key_and_expiry_end_the_session(
    signed_in: TestClient, container: Container, org: tuple[UUID, str], clock: FakeClock
) -> None:
    cookie = signed_in.cookies[SESSION_COOKIE]
    assert container.dashboard_auth.session(cookie) is not None
    clock.advance(timedelta(hours=12, seconds=1))
    assert container.dashboard_auth.session(cookie) is None
    clock.advance(-timedelta(hours=12, seconds=1))
    container.organizations.revoke_api_key(org[1])
    assert signed_in.get("/", follow_redirects=False).status_code == 303


def test_tampered_session_cookie_is_no_session(signed_in: TestClient, container: Container) -> None:
    cookie = signed_in.cookies[SESSION_COOKIE]
    payload, signature = cookie.split(".")
    flipped = payload[:-2] + ("A" if payload[-2] != "A" else "B") + payload[-1]
    for forged in (f"{flipped}.{signature}", cookie + "x", "garbage", ""):
        assert container.dashboard_auth.session(forged) is None


def test_customer_search_matches_name_external_id_and_email(signed_in: TestClient) -> None:
    assert "acme Second" in signed_in.get("/customers?q=SECOND").text
    assert "acme First" not in signed_in.get("/customers?q=acme_2").text
    assert "acme First" in signed_in.get("/customers?q=1@acme").text
    assert "No customer matches" in signed_in.get("/customers?q=%25").text


def test_customer_create_edit_with_validation_messages(
    signed_in: TestClient, container: Container, org: tuple[UUID, str]
) -> None:
    token = csrf_of(signed_in.get("/customers/new").text)
    bad = signed_in.post(
        "/customers/new",
        data={
            "csrf_token": token,
            "external_id": "",
            "currency": "EURO",
            "country": "France",
            "net_payment_term": "ten",
            "metadata": "no separator here",
        },
    )
    assert bad.status_code == 422
    assert "Metadata needs one line per entry" in bad.text
    bad = signed_in.post(
        "/customers/new",
        data={"csrf_token": token, "external_id": "", "currency": "EURO", "country": "France"},
    )
    assert "External ID is required." in bad.text
    assert "Currency must be an ISO 4217 currency code" in bad.text
    assert "Country must be a two-letter ISO 3166 country code" in bad.text
    assert 'aria-invalid="true"' in bad.text
    dup = signed_in.post("/customers/new", data={"csrf_token": token, "external_id": "acme_1"})
    assert "External ID is already used" in dup.text

    created = signed_in.post(
        "/customers/new",
        data={
            "csrf_token": token,
            "external_id": "new_co",
            "name": "New Co",
            "currency": "jpy",
            "metadata": "plan = pro\nregion = eu",
        },
        follow_redirects=False,
    )
    assert created.status_code == 303 and created.headers["location"] == "/customers/new_co"
    customer = container.customers.get(org[0], "new_co")
    assert customer.currency == "JPY"
    assert [(m["key"], m["value"]) for m in customer.metadata] == [
        ("plan", "pro"),
        ("region", "eu"),
    ]

    edited = signed_in.post(
        "/customers/new_co/edit",
        data={
            "csrf_token": token,
            "name": "Renamed",
            "timezone": "Europe/Paris",
            "net_payment_term": "15",
        },
        follow_redirects=False,
    )
    assert edited.status_code == 303
    customer = container.customers.get(org[0], "new_co")
    assert (customer.name, customer.timezone, customer.net_payment_term) == (
        "Renamed",
        "Europe/Paris",
        15,
    )
    bad_tz = signed_in.post(
        "/customers/new_co/edit", data={"csrf_token": token, "timezone": "Mars"}
    )
    assert bad_tz.status_code == 422 and "Time zone is not a known IANA time zone" in bad_tz.text


def test_metric_create_edit_with_validation_messages(
    signed_in: TestClient, container: Container, org: tuple[UUID, str]
) -> None:
    token = csrf_of(signed_in.get("/metrics/new").text)
    bad = signed_in.post(
        "/metrics/new",
        data={"csrf_token": token, "name": "", "code": "calls", "aggregation_type": "sum_agg"},
    )
    assert bad.status_code == 422
    assert "Name is required." in bad.text and "Property to aggregate is required." in bad.text
    dup = signed_in.post(
        "/metrics/new",
        data={
            "csrf_token": token,
            "name": "Calls",
            "code": "calls",
            "aggregation_type": "count_agg",
        },
    )
    assert "Code is already used by another metric" in dup.text
    recurring = signed_in.post(
        "/metrics/new",
        data={
            "csrf_token": token,
            "name": "M",
            "code": "m",
            "aggregation_type": "max_agg",
            "field_name": "v",
            "recurring": "on",
        },
    )
    assert "Recurring can only be set for Sum" in recurring.text
    created = signed_in.post(
        "/metrics/new",
        data={
            "csrf_token": token,
            "name": "Mystery",
            "code": "mystery",
            "aggregation_type": "sum_agg",
            "field_name": "gb",
            "filters": "region: eu, us",
            "footprint_per_unit": "0.0021",
        },
        follow_redirects=False,
    )
    assert created.status_code == 303 and created.headers["location"] == "/metrics/mystery"
    metric = container.billable_metrics.get(org[0], "mystery")
    assert metric.filters == [{"key": "region", "values": ["eu", "us"]}]
    assert str(metric.footprint_per_unit) == "0.0021"
    # The unmatched "mystery" event is matched now that its metric exists.
    assert "unknown_metric_code" not in container.analytics.unmatched_by_reason(org[0])
    edited = signed_in.post(
        "/metrics/mystery/edit",
        data={
            "csrf_token": token,
            "name": "Mystery 2",
            "code": "mystery",
            "aggregation_type": "sum_agg",
            "field_name": "gb",
            "percentile": "abc",
        },
    )
    assert edited.status_code == 422 and "Percentile must be a number" in edited.text


def test_portal_link_is_issued_on_post_and_opens_the_portal(
    signed_in: TestClient, container: Container
) -> None:
    page = signed_in.get("/customers/acme_1")
    assert "tier" in page.text and "acme_t0" in page.text
    r = signed_in.post("/customers/acme_1/portal-link", data={"csrf_token": csrf_of(page.text)})
    assert r.status_code == 200
    url = r.text.split('id="portal-url" type="text" readonly value="')[1].split('"')[0]
    assert url.startswith(container.settings.public_url + "/portal/")
    portal = signed_in.get(url.removeprefix(container.settings.public_url))
    assert portal.status_code == 200 and "acme First" in portal.text


def test_events_explorer_filters(signed_in: TestClient) -> None:
    unmatched = signed_in.get("/events?status=unmatched").text
    assert "acme_t3" in unmatched  # (acme_t0 may be unmatched too once subscriptions match)
    assert "No billable metric has this code" in unmatched
    by_code = signed_in.get("/events?code=calls").text
    assert "acme_t0" in by_code and "acme_t3" not in by_code
    assert "No events match" in signed_in.get("/events?subscription=nobody").text
    assert "No events match" in signed_in.get("/events?since=2999-01-01T00:00").text
    assert "From is not a date" in signed_in.get("/events?since=yesterday").text
    assert signed_in.get("/events?status=bogus").status_code == 200


def test_live_tail_returns_only_newer_events(
    signed_in: TestClient, container: Container, org: tuple[UUID, str], clock: FakeClock
) -> None:
    first = signed_in.get("/events/tail.json").json()["events"]
    assert {e["transaction_id"] for e in first} == {f"acme_t{n}" for n in range(4)}
    after = first[0]["received_at"]
    assert signed_in.get("/events/tail.json", params={"after": after}).json()["events"] == []
    clock.advance(timedelta(seconds=5))
    container.events.ingest_one(
        org[0], {"transaction_id": "late", "external_subscription_id": "acme_1", "code": "calls"}
    )
    newer = signed_in.get("/events/tail.json", params={"after": after}).json()["events"]
    assert [e["transaction_id"] for e in newer] == ["late"]


def test_assets_are_served_locally(client: TestClient) -> None:
    plotly = client.get("/static/vendor/plotly.min.js")
    assert plotly.status_code == 200 and len(plotly.content) > 1_000_000
    assert "javascript" in plotly.headers["content-type"]
    assert client.get("/static/app.css").status_code == 200
    assert client.get("/static/app.js").status_code == 200
    assert client.get("/static/..%2Fsecurity.py").status_code == 404
    assert client.get("/static/security.py").status_code == 404


def test_customer_page_shows_the_same_usage_summary_as_the_portal(
    signed_in: TestClient, container: Container, org: tuple[UUID, str], other_org: tuple[UUID, str]
) -> None:
    seed_billing(container, org[0], "acme")
    seed(container, other_org[0], "globex")
    seed_billing(container, other_org[0], "globex")
    text = html.unescape(signed_in.get("/customers/acme_1").text)
    assert "Current usage" in text and "acme Growth" in text and "acme_sub1" in text
    assert "17 days left" in text and "Unit price" in text and "5 units" in text
    assert "/events?subscription=acme_sub1&code=calls" in text
    for theirs in ("acme_sub2", "globex"):  # another customer's, another organization's
        assert theirs not in text
    other = signed_in.get("/customers/acme_2").text
    assert "acme_sub2" in other and "acme_sub1" not in other


def test_a_wrong_address_gets_a_page_in_a_browser_and_json_elsewhere(client: TestClient) -> None:
    browser = {"accept": "text/html,application/xhtml+xml,*/*;q=0.8"}
    page = client.get("/no-such-page", headers=browser)
    assert page.status_code == 404 and "text/html" in page.headers["content-type"]
    assert "There is no page at this address." in page.text
    portal = client.get("/portal/abc/no-such-page", headers=browser)
    assert portal.status_code == 404 and "Open the link again" in portal.text
    assert "Back to the overview" not in portal.text
    for path, headers in (("/no-such-page", {}), ("/api/v1/no-such-thing", browser)):
        r = client.get(path, headers=headers)
        assert r.status_code == 404
        assert r.json() == {"status": 404, "error": "Not Found", "code": "not_found"}


def test_an_empty_sign_in_form_says_what_to_fill(client: TestClient) -> None:
    form = client.get("/sign-in")
    empty = client.post("/sign-in", data={"csrf_token": csrf_of(form.text)})
    assert empty.status_code == 422
    assert "Enter your email and password, or an API key." in empty.text
    assert "do not match" not in empty.text
    no_password = client.post(
        "/sign-in", data={"csrf_token": csrf_of(form.text), "email": "a@example.com"}
    )
    assert no_password.status_code == 422 and "Enter your password." in no_password.text
