"""The money pages over HTTP: portal credit notes, wallet and movements, named invoice credits;
dashboard wallets (top up), credit notes (estimate, issue, void), coupons (apply), webhooks
(endpoints, delivery log, retry). Isolation: another customer's or organization's ids are 404.

History (money_web_support): Acme's `cus_a` and Globex's `cus_b` (another organization) each
have a wallet of 25 granted credits, a January invoice paid by it (18.00), a credit note CN1
of 6.00 used by the February invoice, and 1.00 left in the wallet on March 15, with 0.60 of
usage (taxes included) this period: ongoing balance 0.40. Acme's `cus_c` has the same history
(a second customer of the same organization).
"""

from __future__ import annotations

import re
from uuid import UUID

import pytest
from fastapi.testclient import TestClient

from releve.adapters.sql.uow import SqlUnitOfWorkFactory
from releve.bootstrap import Container
from releve.services.pagination import PageRequest
from releve.services.webhook_delivery import RetryPolicy
from releve.services.webhook_ports import SendResult
from releve.services.webhooks import WebhookService
from tests.integration.money_web_support import History, build
from tests.integration.support import FakeClock
from tests.integration.web_support import csrf_of, sign_in

pytestmark = pytest.mark.store


@pytest.fixture
def people(
    container: Container, clock: FakeClock, org: tuple[UUID, str], other_org: tuple[UUID, str]
) -> dict[str, History]:
    found = {
        "a": History(org[0], "cus_a"),
        "c": History(org[0], "cus_c"),
        "b": History(other_org[0], "cus_b"),
    }
    build(container, clock, list(found.values()), "Prepaid")
    return found


@pytest.fixture
def portal_a(container: Container, people: dict[str, History]) -> str:
    return "/portal/" + container.portal.issue_token(people["a"].organization_id, "cus_a")


@pytest.fixture
def dashboard(client: TestClient, org: tuple[UUID, str], people: dict[str, History]) -> TestClient:
    return sign_in(client, org[1])


def _text(html: str) -> str:
    """The page's words without tags, spaces collapsed (what a reader sees)."""
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html)).replace(" .", ".")


# --- portal -----------------------------------------------------------------------------------


def test_portal_lists_credit_notes_with_the_invoices_that_used_them(
    client: TestClient, portal_a: str, people: dict[str, History]
) -> None:
    a = people["a"]
    r = client.get(portal_a)
    assert r.status_code == 200
    section = r.text[r.text.index('id="credit-notes"') : r.text.index('id="wallets"')]
    words = _text(section)
    # CN1: 6.00 credited, nothing refunded, 0.00 left (used by February), reason in words.
    assert a.credit_note_number in words and "product unsatisfactory" in words
    assert "€6.00 €0.00 €0.00 used" in words
    assert f"{a.february_number} (€6.00)" in words
    assert f'href="{portal_a}/invoices/{a.february_id}"' in section
    assert f'href="{portal_a}/invoices/{a.january_id}"' in section


def test_portal_wallet_balance_ongoing_balance_in_words_and_movements(
    client: TestClient, portal_a: str, people: dict[str, History]
) -> None:
    a = people["a"]
    r = client.get(portal_a)
    section = r.text[r.text.index('id="wallets"') :]
    words = _text(section)
    assert "Prepaid cus_a" in words
    # 2500 − 1800 − 600 = 100 cents; usage 0.60 incl. taxes → ongoing 0.40.
    assert "Balance €1.00 (1 credits" in words
    assert "Ongoing balance €0.40" in words
    assert (
        "Ongoing balance = balance − usage so far this period, taxes included (€0.60) − "
        "invoices awaiting finalization (€0.00)" in words
    )
    # Newest first: two invoices paid (6.00 then 18.00), the grant of 25.00.
    assert words.index("Paid an invoice") < words.index("Credits granted")
    assert "−€6.00" in words and "−€18.00" in words and "+€25.00" in words
    assert f'href="{portal_a}/invoices/{a.january_id}">invoice {a.january_number}' in section
    page = client.get(f"{portal_a}/wallets/{a.wallet_id}")
    assert page.status_code == 200
    assert _text(page.text).count("Paid an invoice") == 2


def test_portal_wallet_movements_are_paged(
    client: TestClient, container: Container, portal_a: str, people: dict[str, History]
) -> None:
    a = people["a"]
    for n in range(25):  # 25 grants + the 3 rows of the history = 28 rows, 25 per page
        container.wallets.create_transactions(
            a.organization_id, {"wallet_id": a.wallet_id, "granted_credits": str(n + 1)}
        )
    first = client.get(f"{portal_a}/wallets/{a.wallet_id}")
    assert "Page 1 of 2" in first.text and _text(first.text).count("Credits granted") == 25
    second = client.get(f"{portal_a}/wallets/{a.wallet_id}?page=2")
    words = _text(second.text)
    assert words.count("Paid an invoice") == 2 and words.count("Credits granted") == 1
    assert "+€25.00" in words  # the first grant, the oldest row


def test_portal_invoice_shows_named_credit_note_and_prepaid_lines(
    client: TestClient, portal_a: str, people: dict[str, History]
) -> None:
    a = people["a"]
    words = _text(client.get(f"{portal_a}/invoices/{a.february_id}").text)
    # 12.00 incl. taxes − CN1 6.00 − prepaid 6.00 = 0.00.
    assert f"Credit note {a.credit_note_number} −€6.00" in words
    assert "Prepaid credits: Prepaid cus_a −€6.00" in words
    assert "Total €0.00" in words
    january = _text(client.get(f"{portal_a}/invoices/{a.january_id}").text)
    assert "Prepaid credits: Prepaid cus_a −€18.00" in january


def test_portal_never_shows_another_customers_money(
    client: TestClient, portal_a: str, people: dict[str, History]
) -> None:
    page = client.get(portal_a).text
    for other in (people["b"], people["c"]):
        assert other.wallet_id not in page and f"Prepaid {other.customer}" not in page
        r = client.get(f"{portal_a}/wallets/{other.wallet_id}")
        assert r.status_code == 404 and f"Prepaid {other.customer}" not in r.text
        r = client.get(f"{portal_a}/invoices/{other.february_id}")
        assert r.status_code == 404
    assert people["c"].credit_note_number not in page
    assert client.get(f"{portal_a}/wallets/not-a-uuid").status_code == 404
    notes = client.get(f"{portal_a}/credit-notes").text
    assert people["a"].credit_note_number in notes
    assert people["b"].credit_note_id not in notes and people["c"].credit_note_id not in notes


def test_portal_money_pages_need_a_valid_link(
    client: TestClient, people: dict[str, History]
) -> None:
    a = people["a"]
    assert client.get(f"/portal/forged.token/wallets/{a.wallet_id}").status_code == 403
    assert client.get("/portal/forged.token/credit-notes").status_code == 403


# --- dashboard: customer page, wallets ----------------------------------------------------------


def test_customer_page_shows_wallets_credit_notes_and_coupons(
    dashboard: TestClient, people: dict[str, History]
) -> None:
    a = people["a"]
    r = dashboard.get("/customers/cus_a")
    assert r.status_code == 200
    words = _text(r.text[r.text.index('id="wallets"') :])
    assert "Prepaid cus_a EUR · priority 50 €1.00 1 €0.40 Never active Top up" in words
    assert f'href="/wallets/{a.wallet_id}#top-up"' in r.text
    assert f'href="/credit-notes/{a.credit_note_id}"' in r.text
    assert "No coupon applied." in words and "Apply coupon" in words


def test_top_up_adds_paid_and_granted_credits_through_the_wallet_service(
    dashboard: TestClient, container: Container, people: dict[str, History]
) -> None:
    a = people["a"]
    page = dashboard.get(f"/wallets/{a.wallet_id}")
    assert page.status_code == 200
    r = dashboard.post(
        f"/wallets/{a.wallet_id}/top-up",
        data={
            "csrf_token": csrf_of(page.text),
            "paid_credits": "3",
            "granted_credits": "5.5",
            "name": "Goodwill",
        },
        follow_redirects=False,
    )
    assert (
        r.status_code == 303 and r.headers["location"] == f"/wallets/{a.wallet_id}?done=topped-up"
    )
    view = container.wallets.get(a.organization_id, a.wallet_id)
    # 100 + 300 paid (settled at once: no payment required) + 550 granted = 950 cents;
    # ongoing 950 − 60 = 890.
    assert (view.balance.balance_cents, view.ongoing_balance_cents) == (950, 890)
    words = _text(dashboard.get(r.headers["location"]).text)
    assert (
        "Credits added." in words and "Balance €9.50" in words and "Ongoing balance €8.90" in words
    )
    assert "Credits purchased · Goodwill" in words and "Credits granted · Goodwill" in words


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({}, "Enter paid credits, granted credits, or both"),
        ({"paid_credits": "0", "granted_credits": "0"}, "Enter paid credits, granted credits"),
        ({"paid_credits": "ten"}, "Paid credits must be a number of credits, 0 or more"),
        ({"granted_credits": "-2"}, "Granted credits must be a number of credits, 0 or more"),
        ({"paid_credits": "1.123456"}, "Paid credits must be a number of credits"),
    ],
)
def test_top_up_form_errors_change_nothing(
    dashboard: TestClient,
    container: Container,
    people: dict[str, History],
    data: dict[str, str],
    message: str,
) -> None:
    a = people["a"]
    token = csrf_of(dashboard.get(f"/wallets/{a.wallet_id}").text)
    r = dashboard.post(f"/wallets/{a.wallet_id}/top-up", data={"csrf_token": token, **data})
    assert r.status_code == 422
    assert message in _text(r.text)
    assert container.wallets.get(a.organization_id, a.wallet_id).balance.balance_cents == 100


def test_top_up_without_csrf_is_refused(
    dashboard: TestClient, container: Container, people: dict[str, History]
) -> None:
    a = people["a"]
    r = dashboard.post(f"/wallets/{a.wallet_id}/top-up", data={"granted_credits": "5"})
    assert r.status_code == 403
    assert container.wallets.get(a.organization_id, a.wallet_id).balance.balance_cents == 100


def test_new_wallet_form(dashboard: TestClient, container: Container) -> None:
    form = dashboard.get("/customers/cus_a/wallets/new")
    token = csrf_of(form.text)
    bad = dashboard.post(
        "/customers/cus_a/wallets/new",
        data={"csrf_token": token, "currency": "USD", "rate_amount": "0"},
    )
    assert bad.status_code == 422
    words = _text(bad.text)
    assert "Value of one credit must be an amount above zero" in words
    r = dashboard.post(
        "/customers/cus_a/wallets/new",
        data={"csrf_token": token, "currency": "EUR", "rate_amount": "0.5", "granted_credits": "4"},
        follow_redirects=False,
    )
    assert r.status_code == 303
    assert "Balance €2.00" in _text(dashboard.get(r.headers["location"]).text)  # 4 × 0.50


# --- dashboard: credit notes --------------------------------------------------------------------


def _fee_field(html: str) -> str:
    match = re.search(r'name="(item_[0-9a-f-]+)"', html)
    assert match
    return match.group(1)


def test_credit_note_estimate_then_issue_then_void(
    dashboard: TestClient, container: Container, people: dict[str, History], clock: FakeClock
) -> None:
    a = people["a"]
    invoice = dashboard.get(f"/invoices/{a.february_id}")
    assert f'href="/invoices/{a.february_id}/credit-notes/new"' in invoice.text
    words = _text(invoice.text)
    assert f"{a.credit_note_number} −€6.00" in words and "Prepaid cus_a −€6.00" in words
    form = dashboard.get(f"/invoices/{a.february_id}/credit-notes/new")
    token, fee = csrf_of(form.text), _fee_field(form.text)
    # The subscription fee 10.00: credit 2.50 → VAT 0.50 → 3.00.
    est = dashboard.post(
        f"/invoices/{a.february_id}/credit-notes",
        data={"csrf_token": token, fee: "2.50", "reason": "order_change", "action": "estimate"},
    )
    assert est.status_code == 200
    words = _text(est.text)
    assert "Subtotal excluding taxes €2.50" in words and "Credit note total €3.00" in words
    assert 'name="credit_amount" type="text" value="3.00"' in est.text
    r = dashboard.post(
        f"/invoices/{a.february_id}/credit-notes",
        data={"csrf_token": token, fee: "2.50", "reason": "order_change", "action": "create"},
        follow_redirects=False,
    )
    assert r.status_code == 303
    note_id = r.headers["location"].split("/")[2].split("?")[0]
    note = container.credit_notes.get(a.organization_id, note_id).note
    assert (note.total_amount_cents, note.credit_amount_cents, note.balance_amount_cents) == (
        300,
        300,
        300,
    )
    page = dashboard.get(r.headers["location"])
    assert "Credit note issued." in page.text and "No invoice has used it yet." in page.text
    void = dashboard.post(
        f"/credit-notes/{note_id}/void", data={"csrf_token": token}, follow_redirects=False
    )
    assert void.status_code == 303
    assert container.credit_notes.get(a.organization_id, note_id).note.credit_status == "voided"
    again = dashboard.post(f"/credit-notes/{note_id}/void", data={"csrf_token": token})
    assert again.status_code == 409 and "Nothing is left to void" in again.text


@pytest.mark.parametrize(
    ("data", "status", "message"),
    [
        ({"reason": "other"}, 422, "Items need an amount on at least one fee."),
        ({"FEE": "abc", "reason": "other"}, 422, "must be a number, such as 10 or 12.50."),
        ({"FEE": "1.001", "reason": "other"}, 422, "has more decimals than the currency allows."),
        ({"FEE": "10.01", "reason": "other"}, 422, "more than what is left to credit on that fee"),
        (
            {"FEE": "1", "reason": "other", "credit_amount": "1", "refund_amount": "0"},
            422,
            "credit + refund + offset must equal the credit note's total",
        ),
        ({"FEE": "1", "reason": "whim"}, 422, "Reason is not valid."),
    ],
)
def test_credit_note_form_errors_change_nothing(
    dashboard: TestClient,
    container: Container,
    people: dict[str, History],
    data: dict[str, str],
    status: int,
    message: str,
) -> None:
    a = people["a"]
    form = dashboard.get(f"/invoices/{a.february_id}/credit-notes/new")
    token, fee = csrf_of(form.text), _fee_field(form.text)
    body = {(fee if k == "FEE" else k): v for k, v in data.items()}
    r = dashboard.post(
        f"/invoices/{a.february_id}/credit-notes",
        data={"csrf_token": token, "action": "create", **body},
    )
    assert r.status_code == status, r.text
    assert message in _text(r.text).replace("&#39;", "'")
    notes = container.credit_notes.list_notes(
        a.organization_id, PageRequest(1, 10), external_customer_id="cus_a"
    )
    assert notes.total_count == 1  # CN1 only


# --- dashboard: coupons -------------------------------------------------------------------------


def test_apply_coupon_through_the_coupon_service(
    dashboard: TestClient, container: Container, people: dict[str, History]
) -> None:
    a = people["a"]
    container.coupons.create(
        a.organization_id,
        {
            "name": "Launch",
            "code": "launch",
            "coupon_type": "fixed_amount",
            "amount_cents": 500,
            "amount_currency": "EUR",
            "frequency": "once",
            "reusable": False,
            "expiration": "no_expiration",
        },
    )
    form = dashboard.get("/customers/cus_a/coupons/apply")
    token = csrf_of(form.text)
    empty = dashboard.post("/customers/cus_a/coupons/apply", data={"csrf_token": token})
    assert empty.status_code == 422 and "Coupon is required: choose a coupon." in empty.text
    r = dashboard.post(
        "/customers/cus_a/coupons/apply",
        data={"csrf_token": token, "coupon_code": "launch"},
        follow_redirects=False,
    )
    assert r.status_code == 303
    words = _text(dashboard.get(r.headers["location"]).text)
    assert "Coupon applied." in words and "Launch launch €5.00 once €5.00 active" in words
    twice = dashboard.post(
        "/customers/cus_a/coupons/apply", data={"csrf_token": token, "coupon_code": "launch"}
    )
    assert twice.status_code == 422 and "is not reusable" in twice.text
    unknown = dashboard.post(
        "/customers/cus_a/coupons/apply", data={"csrf_token": token, "coupon_code": "nope"}
    )
    assert unknown.status_code == 422 and "Coupon does not exist" in unknown.text


# --- dashboard: webhooks ------------------------------------------------------------------------


def test_webhook_endpoints_log_and_retry(
    dashboard: TestClient, container: Container, people: dict[str, History], clock: FakeClock
) -> None:
    a = people["a"]
    page = dashboard.get("/webhooks")
    assert page.status_code == 200 and "No endpoint yet" in page.text
    token = csrf_of(page.text)
    bad = dashboard.post("/webhooks", data={"csrf_token": token, "webhook_url": "ftp://x"})
    assert bad.status_code == 422
    assert "URL must be an absolute http:// or https:// address." in bad.text
    r = dashboard.post(
        "/webhooks",
        data={"csrf_token": token, "webhook_url": "https://hooks.example/releve", "name": "Ops"},
        follow_redirects=False,
    )
    assert r.status_code == 303
    endpoint_id = r.headers["location"].split("/")[2].split("?")[0]
    # A change after the endpoint exists emits one webhook; the receiver answers 500.
    container.wallets.create_transactions(
        a.organization_id, {"wallet_id": a.wallet_id, "granted_credits": "1"}
    )

    class Failing:
        def send(self, url: str, body: bytes, headers: object) -> SendResult:
            return SendResult(500, "boom", None, 12)

    sender = WebhookService(
        SqlUnitOfWorkFactory(container.engine), clock, Failing(), RetryPolicy(max_attempts=1)
    )
    sender.deliver_due(lambda w: {"id": w.object_id})
    log = dashboard.get(f"/webhooks/{endpoint_id}")
    words = _text(log.text)
    assert "wallet_transaction.created" in words and "HTTP 500" in words and "failed" in words
    retry = re.search(r'action="/webhooks/deliveries/([0-9a-f-]+)/retry"', log.text)
    assert retry
    r = dashboard.post(
        f"/webhooks/deliveries/{retry.group(1)}/retry",
        data={"csrf_token": token},
        follow_redirects=False,
    )
    assert r.status_code == 303
    assert container.webhooks.get_webhook(a.organization_id, retry.group(1)).status == "pending"
    # Pending again: its attempts are the ones so far, not "1 of 1" as if none were left.
    assert re.search(r"\b1 of 1 so far\b", _text(dashboard.get(f"/webhooks/{endpoint_id}").text))
    deleted = dashboard.post(
        f"/webhooks/{endpoint_id}/delete", data={"csrf_token": token}, follow_redirects=False
    )
    assert deleted.status_code == 303 and "No endpoint yet" in dashboard.get("/webhooks").text


# --- dashboard isolation ------------------------------------------------------------------------


def test_another_organizations_money_is_not_found(
    dashboard: TestClient, container: Container, people: dict[str, History]
) -> None:
    b = people["b"]
    token = csrf_of(dashboard.get("/webhooks").text)
    endpoint = container.webhooks.create_endpoint(
        b.organization_id, {"webhook_url": "https://globex.example/hooks"}
    )
    for path in (
        f"/wallets/{b.wallet_id}",
        f"/credit-notes/{b.credit_note_id}",
        f"/invoices/{b.january_id}/credit-notes/new",
        "/customers/cus_b/wallets/new",
        "/customers/cus_b/coupons/apply",
        f"/webhooks/{endpoint.id}",
        "/wallets/not-a-uuid",
    ):
        r = dashboard.get(path)
        assert r.status_code == 404, path
        assert "cus_b" not in r.text and "globex" not in r.text.lower()
    for path, data in (
        (f"/wallets/{b.wallet_id}/top-up", {"granted_credits": "5"}),
        (f"/credit-notes/{b.credit_note_id}/void", {}),
        (f"/invoices/{b.january_id}/credit-notes", {"reason": "other", "action": "create"}),
        ("/customers/cus_b/coupons/apply", {"coupon_code": "x"}),
        ("/customers/cus_b/wallets/new", {"currency": "EUR", "rate_amount": "1"}),
        (f"/webhooks/{endpoint.id}/delete", {}),
    ):
        assert dashboard.post(path, data={"csrf_token": token, **data}).status_code == 404, path
    assert container.wallets.get(b.organization_id, b.wallet_id).balance.balance_cents == 100
    assert container.webhooks.get_endpoint(b.organization_id, str(endpoint.id))
    customer_page = dashboard.get("/customers/cus_a").text
    assert b.wallet_id not in customer_page and b.credit_note_number not in customer_page


def test_a_wallet_named_prepaid_credits_is_not_named_twice(
    client: TestClient, container: Container, portal_a: str, people: dict[str, History]
) -> None:
    a = people["a"]
    container.wallets.update(a.organization_id, a.wallet_id, {"name": "Prepaid credits"})
    words = _text(client.get(f"{portal_a}/invoices/{a.february_id}").text)
    assert "Prepaid credits −€6.00" in words
    assert "Prepaid credits: Prepaid credits" not in words
