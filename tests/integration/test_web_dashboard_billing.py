"""Dashboard billing pages: subscribe and terminate from a customer, invoices and their
lifecycle actions, plans in the catalog. Amounts are computed by hand in each test.

`seed_billing` (FakeClock 2024-03-15 12:00 UTC): plan `growth` (graduated: 2 calls free, then
0.50 EUR), 20 % VAT; `acme_sub1` sent 5 calls in March, `acme_sub2` 7 calls.
"""

from __future__ import annotations

import html
import re
from datetime import UTC, datetime
from uuid import UUID

import pytest
from fastapi.testclient import TestClient

from releve.bootstrap import Container
from releve.services.pagination import PageRequest
from tests.integration.support import FakeClock
from tests.integration.web_support import csrf_of, seed, seed_billing, sign_in

pytestmark = pytest.mark.store
INVOICE_LINK = re.compile(r'href="/invoices/([0-9a-f-]{36})"')


@pytest.fixture
def billed(client: TestClient, container: Container, org: tuple[UUID, str]) -> TestClient:
    seed(container, org[0], "acme")
    seed_billing(container, org[0], "acme")
    return sign_in(client, org[1])


def _terminate(client: TestClient, customer: str, subscription: str) -> str:
    confirm = client.get(f"/customers/{customer}/subscriptions/{subscription}/terminate")
    assert confirm.status_code == 200
    assert "This cannot be undone." in confirm.text
    r = client.post(
        f"/customers/{customer}/subscriptions/{subscription}/terminate",
        data={"csrf_token": csrf_of(confirm.text)},
    )
    assert r.status_code == 200
    return r.text


def test_terminating_shows_the_final_invoice_on_the_customer_page(billed: TestClient) -> None:
    page = _terminate(billed, "acme_1", "acme_sub1")
    assert "Subscription acme_sub1 is terminated." in html.unescape(page)
    # 5 calls: 2 free + 3 × 0.50 € = 1.50 €; VAT 20 % = 0.30 €; total 1.80 €.
    assert "€1.80" in page
    invoice_id = INVOICE_LINK.search(page)
    assert invoice_id, "the final invoice is linked from the customer page"
    detail = billed.get(f"/invoices/{invoice_id.group(1)}").text
    for text in ("€1.50", "€0.30", "€1.80", "Subtotal excluding taxes", "VAT (20 % of €1.50)"):
        assert text in html.unescape(detail), text
    assert "How this amount is computed" in detail  # the graduated tiers, explained
    # Terminated: no second confirmation page.
    assert billed.get("/customers/acme_1/subscriptions/acme_sub1/terminate").status_code == 404
    # Start and end times say which zone they are shown in (the organization's).
    assert "Started (UTC)" in page and "Ended (UTC)" in page


def test_an_unending_unit_price_is_shown_to_six_digits(billed: TestClient) -> None:
    page = _terminate(billed, "acme_2", "acme_sub2")
    invoice_id = INVOICE_LINK.search(page)
    assert invoice_id
    detail = html.unescape(billed.get(f"/invoices/{invoice_id.group(1)}").text)
    # 7 calls: 2 free + 5 × 0.50 € = 2.50 €, i.e. 2.50 / 7 = 0.357142857… € a call.
    assert "≈ €0.357143" in detail
    assert "0.3571428571" not in detail


def test_finalized_invoice_is_voided_and_a_second_void_is_explained(billed: TestClient) -> None:
    page = _terminate(billed, "acme_1", "acme_sub1")
    invoice_id = INVOICE_LINK.search(page).group(1)  # type: ignore[union-attr]
    detail = billed.get(f"/invoices/{invoice_id}").text
    assert "Finalize</button>" not in detail and "Void</button>" in detail
    token = csrf_of(detail)
    r = billed.post(f"/invoices/{invoice_id}/void", data={"csrf_token": token})
    assert r.status_code == 200 and "Voided: the invoice no longer counts" in r.text
    again = billed.post(f"/invoices/{invoice_id}/void", data={"csrf_token": token})
    assert again.status_code == 409
    assert "Only a finalized invoice that is not paid can be voided; this one is voided" in (
        html.unescape(again.text)
    )
    finalize = billed.post(f"/invoices/{invoice_id}/finalize", data={"csrf_token": token})
    assert finalize.status_code == 409
    assert "Only a draft invoice can be finalized; this one is voided." in finalize.text


def test_mark_paid_then_void_is_refused(billed: TestClient) -> None:
    page = _terminate(billed, "acme_2", "acme_sub2")
    invoice_id = INVOICE_LINK.search(page).group(1)  # type: ignore[union-attr]
    token = csrf_of(page)
    r = billed.post(f"/invoices/{invoice_id}/mark-paid", data={"csrf_token": token})
    assert r.status_code == 200 and "Marked paid." in r.text
    assert "succeeded" in r.text
    void = billed.post(f"/invoices/{invoice_id}/void", data={"csrf_token": token})
    assert void.status_code == 409 and "(payment succeeded)" in void.text


def test_a_draft_is_finalized_from_its_page(
    billed: TestClient, container: Container, org: tuple[UUID, str]
) -> None:
    container.customers.upsert(org[0], {"external_id": "acme_1", "invoice_grace_period": 3})
    page = _terminate(billed, "acme_1", "acme_sub1")
    invoice_id = INVOICE_LINK.search(page).group(1)  # type: ignore[union-attr]
    detail = billed.get(f"/invoices/{invoice_id}").text
    assert "Invoice (draft)" in detail and "Finalize</button>" in detail
    r = billed.post(f"/invoices/{invoice_id}/finalize", data={"csrf_token": csrf_of(detail)})
    assert r.status_code == 200 and "Finalized:" in r.text
    view = container.invoices.get(org[0], invoice_id)
    assert view.invoice.status == "finalized" and view.invoice.number
    assert view.invoice.total_amount_cents == 180


def test_actions_need_the_csrf_token(billed: TestClient, container: Container) -> None:
    page = _terminate(billed, "acme_1", "acme_sub1")
    invoice_id = INVOICE_LINK.search(page).group(1)  # type: ignore[union-attr]
    for action in ("finalize", "void", "mark-paid"):
        r = billed.post(f"/invoices/{invoice_id}/{action}", data={"csrf_token": "forged"})
        assert r.status_code == 403, action
    assert "finalized" in billed.get(f"/invoices/{invoice_id}").text


def test_invoice_list_filters_and_reports_bad_filters(billed: TestClient) -> None:
    _terminate(billed, "acme_1", "acme_sub1")
    _terminate(billed, "acme_2", "acme_sub2")
    everything = billed.get("/invoices").text
    assert "2 invoices" in everything
    only_2 = billed.get("/invoices?customer=acme_2").text
    # 7 calls: 5 × 0.50 € = 2.50 € + 0.50 € VAT = 3.00 €.
    assert "1 invoice" in only_2 and "€3.00" in only_2 and "€1.80" not in only_2
    assert "0 invoices" in billed.get("/invoices?status=voided").text
    assert "2 invoices" in billed.get("/invoices?issuing_date_from=2024-03-15").text
    assert "0 invoices" in billed.get("/invoices?issuing_date_from=2024-03-16").text
    bad = billed.get("/invoices?status=paid&issuing_date_to=yesterday")
    assert bad.status_code == 422
    assert "Status must be draft, finalized or voided." in bad.text
    assert "Issued to must be a date (YYYY-MM-DD)." in bad.text


def test_subscribe_from_the_customer_page_and_field_errors(
    billed: TestClient, container: Container, org: tuple[UUID, str]
) -> None:
    page = billed.get("/customers/acme_1").text
    token = csrf_of(page)
    bad = billed.post(
        "/customers/acme_1/subscriptions",
        data={"csrf_token": token, "plan_code": "", "external_id": "", "subscription_at": "soon"},
    )
    assert bad.status_code == 422
    text = html.unescape(bad.text)
    assert "Choose a plan." in text
    assert "Subscription ID is required" in text
    assert "Start must be a date and time" in text
    taken = billed.post(
        "/customers/acme_1/subscriptions",
        data={"csrf_token": token, "plan_code": "growth", "external_id": "acme_sub2"},
    )
    assert taken.status_code == 422
    assert "already used by another customer" in html.unescape(taken.text)
    ok = billed.post(
        "/customers/acme_1/subscriptions",
        data={
            "csrf_token": token,
            "plan_code": "growth",
            "external_id": "acme_new",
            "billing_time": "anniversary",
            "subscription_at": "2024-03-10T09:30",
        },
    )
    assert ok.status_code == 200 and "Subscription acme_new is active." in ok.text
    view = container.subscriptions.get(org[0], "acme_new")
    assert view.subscription.billing_time == "anniversary"
    # Read in the organization's time zone (UTC here).
    assert view.subscription.subscription_at.isoformat() == "2024-03-10T09:30:00+00:00"


PLAN_BODY = """{"charges": [{"billable_metric_code": "calls", "charge_model": "graduated",
 "properties": {"graduated_ranges": [
   {"from_value": 0, "to_value": 10, "per_unit_amount": "0", "flat_amount": "0"},
   {"from_value": 11, "to_value": null, "per_unit_amount": "0.0005", "flat_amount": "1.5"}]}}]}"""


def _plan_form(token: str, **changes: str) -> dict[str, str]:
    form = {
        "csrf_token": token,
        "name": "Scale",
        "code": "scale",
        "interval": "monthly",
        "amount": "49.90",
        "amount_currency": "EUR",
        "body": PLAN_BODY,
    }
    form.update(changes)
    return form


def test_plan_create_detail_and_edit(
    billed: TestClient, container: Container, org: tuple[UUID, str]
) -> None:
    token = csrf_of(billed.get("/plans/new").text)
    r = billed.post("/plans/new", data=_plan_form(token))
    assert r.status_code == 200, r.text
    plan = container.plans.get(org[0], "scale").plan
    assert plan.amount_cents == 4990  # 49.90 EUR in cents
    assert "€49.90" in r.text and "Graduated: each tier prices" in r.text
    assert "0.0005" in r.text and "Per unit amount" in r.text  # the tiers as a table
    listing = billed.get("/plans").text
    assert "scale" in listing and "growth" in listing
    edit = billed.get("/plans/scale/edit").text
    assert "&#34;id&#34;" in edit or "&quot;id&quot;" in edit  # charges keep their ids
    charge_id = plan.charges[0].id
    form = re.search(r'<textarea id="f-body"[^>]*>(.*?)</textarea>', edit, re.S)
    assert form
    saved = billed.post(
        "/plans/scale/edit",
        data=_plan_form(csrf_of(edit), name="Scale 2", body=html.unescape(form.group(1))),
    )
    assert saved.status_code == 200 and "Saved." in saved.text
    updated = container.plans.get(org[0], "scale").plan
    assert updated.name == "Scale 2" and updated.charges[0].id == charge_id


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        (
            {"body": PLAN_BODY.replace('"from_value": 11', '"from_value": 12')},
            "charges[0].properties.graduated_ranges: range 1 must start at the previous "
            "to_value + 1",
        ),
        ({"body": "{not json"}, "Charges and other settings (JSON) is not valid JSON"),
        ({"body": "[]"}, "must be a JSON object"),
        ({"amount": "49.999"}, "Price per interval must be an amount of 0 or more"),
        ({"amount_currency": "EURO"}, "Currency must be an ISO 4217 currency code"),
        ({"code": "growth"}, "Code is already used by another plan"),
        (
            {"body": PLAN_BODY.replace('"calls"', '"nope"')},
            "charges[0].billable_metric_code: no billable metric with code",
        ),
    ],
)
def test_plan_validation_says_what_is_wrong_and_where(
    billed: TestClient, container: Container, org: tuple[UUID, str], changes: dict, message: str
) -> None:
    token = csrf_of(billed.get("/plans/new").text)
    r = billed.post("/plans/new", data=_plan_form(token, **changes))
    assert r.status_code == 422
    assert message in html.unescape(r.text), re.findall(r"error-text[^<]*", r.text)
    codes = [p.plan.code for p in container.plans.list(org[0], PageRequest(1, 10)).items]
    assert codes == ["growth"]  # nothing changed


def test_overview_revenue_mrr_top_customers_and_statuses(
    billed: TestClient, container: Container, org: tuple[UUID, str], clock: FakeClock
) -> None:
    org_id = org[0]
    _terminate(billed, "acme_1", "acme_sub1")  # 1.80 € (1.50 € usage + 0.30 € VAT)
    _terminate(billed, "acme_2", "acme_sub2")  # 3.00 € (2.50 € usage + 0.50 € VAT)
    for code, interval, cents, currency in (
        ("yearly", "yearly", 12000, "EUR"),
        ("weekly", "weekly", 700, "USD"),
    ):
        container.plans.create(
            org_id,
            {
                "name": code,
                "code": code,
                "interval": interval,
                "amount_cents": cents,
                "amount_currency": currency,
            },
        )
        container.subscriptions.create(
            org_id,
            {"external_customer_id": f"c_{code}", "plan_code": code, "external_id": f"s_{code}"},
        )
    analytics = container.analytics
    revenue = analytics.revenue_by_month(org_id, timezone="UTC")
    assert revenue.months[-1].isoformat() == "2024-03-01" and len(revenue.months) == 12
    assert revenue.by_currency == {"EUR": [0] * 11 + [480]}  # 1.80 € + 3.00 €
    top, growth = analytics.top_customers(org_id, timezone="UTC")
    assert [(t.external_id, t.this_month_cents) for t in top] == [("acme_2", 300), ("acme_1", 180)]
    assert [g.change_cents for g in growth] == [300, 180]  # nothing in February
    statuses = analytics.invoices_by_status(org_id)
    assert [(s.status, s.payment_status, s.invoices, s.amount_cents) for s in statuses] == [
        ("finalized", "pending", 2, 480)
    ]
    # Fixed fees: 120.00 € a year = 10.00 € a month; 7.00 $ a week × 52 / 12 = 30.333… $ →
    # 30.33 $. No usage was invoiced in February.
    mrr = {
        m.currency: (m.recurring_cents, m.usage_cents)
        for m in analytics.mrr(org_id, timezone="UTC")
    }
    assert mrr == {"EUR": (1000, 0), "USD": (3033, 0)}
    page = html.unescape(billed.get("/").text)
    for text in ("Revenue invoiced per month (EUR)", "€4.80", "€10.00", "$30.33", "Acme"):
        assert text in page, text
    # In April, March's charge fees (1.50 € + 2.50 €, before taxes) are the trailing usage.
    clock.set(datetime(2024, 4, 2, 12, tzinfo=UTC))
    mrr = {
        m.currency: (m.recurring_cents, m.usage_cents)
        for m in analytics.mrr(org_id, timezone="UTC")
    }
    assert mrr["EUR"] == (1000, 400)
    top, growth = analytics.top_customers(org_id, timezone="UTC")
    assert top == [] and growth == []
