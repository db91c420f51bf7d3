"""The official lago-python-client terminates a subscription and reads its final invoice.

Plan: 31.00 EUR a month in arrears, api_calls standard 0.10 EUR/call, storage graduated
(1 EUR for 0–10 GB, 0.5 after), VAT 20 % applied to the organization. The subscription starts
on the 1st of the current month (UTC) and is terminated now: the final invoice bills the days
used (the termination day counts), the usage so far and VAT — computed here by hand.
"""

from __future__ import annotations

import calendar
import warnings
from datetime import UTC, datetime
from decimal import ROUND_HALF_UP, Decimal
from urllib.parse import urlsplit

import httpx
import pytest

from tests.e2e.conftest import Server

with warnings.catch_warnings():
    # The client imports pydantic.v1, which warns on import under pydantic 2; not our code.
    warnings.simplefilter("ignore")
    from lago_python_client.client import Client
    from lago_python_client.exceptions import LagoApiError
    from lago_python_client.models import BillableMetric, Customer, Plan, Subscription, Tax
    from lago_python_client.models.charge import Charge, Charges
    from lago_python_client.models.customer import CustomerBillingConfiguration
    from lago_python_client.models.event import BatchEvent, Event
    from lago_python_client.models.invoice import Invoice

pytestmark = [pytest.mark.e2e, pytest.mark.store]


def _cents(value: Decimal) -> int:
    return int(value.quantize(Decimal(1), rounding=ROUND_HALF_UP))


def test_destroy_issues_the_final_invoice_read_back_by_the_client(server: Server) -> None:
    client = Client(api_key=server.api_key, api_url=server.url)
    client.taxes.create(Tax(name="VAT", code="vat", rate=20.0, applied_to_organization=True))
    calls = client.billable_metrics.create(
        BillableMetric(name="API calls", code="api_calls", aggregation_type="count_agg")
    )
    storage = client.billable_metrics.create(
        BillableMetric(name="Storage", code="storage", aggregation_type="sum_agg", field_name="gb")
    )
    assert calls is not None and storage is not None
    graduated = {
        "graduated_ranges": [
            {"from_value": 0, "to_value": 10, "per_unit_amount": "1", "flat_amount": "0"},
            {"from_value": 11, "to_value": None, "per_unit_amount": "0.5", "flat_amount": "0"},
        ]
    }
    client.plans.create(
        Plan(
            name="Team",
            code="team",
            interval="monthly",
            amount_cents=3100,
            amount_currency="EUR",
            pay_in_advance=False,
            charges=Charges(
                __root__=[
                    Charge(
                        billable_metric_id=calls.lago_id,
                        charge_model="standard",
                        properties={"amount": "0.10"},
                    ),
                    Charge(
                        billable_metric_id=storage.lago_id,
                        charge_model="graduated",
                        properties=graduated,
                    ),
                ]
            ),
        )
    )
    client.customers.create(Customer(external_id="cus_t", name="Term", currency="EUR"))
    month_start = datetime.now(UTC).replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    client.subscriptions.create(
        Subscription(
            external_customer_id="cus_t",
            plan_code="team",
            external_id="sub_t",
            subscription_at=month_start.isoformat(),
        )
    )
    events = [
        *(
            Event(transaction_id=f"c{i}", external_subscription_id="sub_t", code="api_calls")
            for i in range(3)
        ),
        Event(
            transaction_id="s1",
            external_subscription_id="sub_t",
            code="storage",
            properties={"gb": "12"},
        ),
    ]
    assert client.events.batch_create(BatchEvent(events=events)) is None

    terminated = client.subscriptions.destroy("sub_t")
    assert terminated is not None and terminated.status == "terminated"
    assert terminated.terminated_at is not None
    ended = datetime.fromisoformat(terminated.terminated_at.replace("Z", "+00:00"))
    used_days = ended.day  # from the 1st, the termination day included
    month_days = calendar.monthrange(ended.year, ended.month)[1]

    listing = client.invoices.find_all({"external_customer_id": "cus_t"})
    assert listing["meta"]["total_count"] == 1
    (summary,) = listing["invoices"]
    invoice = client.invoices.find(summary.lago_id)
    assert invoice is not None and invoice.status == "finalized"
    assert invoice.invoice_type == "subscription" and invoice.currency == "EUR"
    assert invoice.number.endswith("-000001") and invoice.version_number == 4

    plan_fee = _cents(Decimal(3100) * used_days / month_days)  # 31.00 × used/month days
    calls_fee = 30  # 3 calls × 0.10
    storage_fee = 1100  # 10 × 1 + 2 × 0.5
    fees_total = plan_fee + calls_fee + storage_fee
    vat = _cents(Decimal(fees_total) * Decimal("0.2"))
    assert invoice.fees_amount_cents == fees_total
    assert invoice.sub_total_excluding_taxes_amount_cents == fees_total
    assert invoice.taxes_amount_cents == vat
    assert invoice.total_amount_cents == fees_total + vat
    assert invoice.total_due_amount_cents == fees_total + vat

    assert invoice.fees is not None
    by_code = {f.item.code: f for f in invoice.fees.__root__ if f.item is not None}
    assert {code: f.amount_cents for code, f in by_code.items()} == {
        "team": plan_fee,
        "api_calls": calls_fee,
        "storage": storage_fee,
    }
    assert by_code["api_calls"].units == "3" and by_code["storage"].units == "12"
    assert by_code["team"].item.type == "subscription"
    assert by_code["storage"].external_subscription_id == "sub_t"
    assert sum(f.taxes_amount_cents or 0 for f in by_code.values()) == vat
    assert invoice.applied_taxes is not None
    (applied,) = invoice.applied_taxes.__root__
    assert (applied.tax_code, applied.amount_cents, applied.fees_amount_cents) == (
        "vat",
        vat,
        fees_total,
    )
    assert invoice.billing_periods is not None
    assert invoice.billing_periods.__root__[0].invoicing_reason == "subscription_terminating"

    paid = client.invoices.update(Invoice(payment_status="succeeded"), invoice.lago_id)
    assert paid is not None and paid.payment_status == "succeeded"
    with pytest.raises(LagoApiError) as err:
        client.invoices.find("00000000-0000-0000-0000-000000000000")
    assert err.value.status_code == 404


def test_draft_refresh_finalize_download_and_void_through_the_client(server: Server) -> None:
    """A 3-day grace period keeps the final invoice a draft: 3 calls × 0.10 EUR = 0.30 EUR.
    Two calls dated before the termination arrive late; `refresh` prices them (5 × 0.10 = 0.50),
    `finalize` numbers it, `download` gives a signed PDF link, `void` voids it. No tax."""
    client = Client(api_key=server.api_key, api_url=server.url)
    calls = client.billable_metrics.create(
        BillableMetric(name="API calls", code="calls", aggregation_type="count_agg")
    )
    assert calls is not None
    client.plans.create(
        Plan(
            name="Calls",
            code="calls_plan",
            interval="monthly",
            amount_cents=0,
            amount_currency="EUR",
            pay_in_advance=False,
            charges=Charges(
                __root__=[
                    Charge(
                        billable_metric_id=calls.lago_id,
                        charge_model="standard",
                        properties={"amount": "0.10"},
                    )
                ]
            ),
        )
    )
    client.customers.create(
        Customer(
            external_id="cus_d",
            name="Draft",
            currency="EUR",
            billing_configuration=CustomerBillingConfiguration(invoice_grace_period=3),
        )
    )
    month_start = datetime.now(UTC).replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    client.subscriptions.create(
        Subscription(
            external_customer_id="cus_d",
            plan_code="calls_plan",
            external_id="sub_d",
            subscription_at=month_start.isoformat(),
        )
    )
    events = [
        Event(transaction_id=f"d{i}", external_subscription_id="sub_d", code="calls")
        for i in range(3)
    ]
    client.events.batch_create(BatchEvent(events=events))
    terminated = client.subscriptions.destroy("sub_d")
    assert terminated is not None and terminated.terminated_at is not None
    ended = datetime.fromisoformat(terminated.terminated_at.replace("Z", "+00:00"))

    (summary,) = client.invoices.find_all({"external_customer_id": "cus_d"})["invoices"]
    assert (summary.status, summary.total_amount_cents) == ("draft", 30)
    assert summary.number.endswith("-DRAFT")  # Lago's draft numbering

    late = [
        Event(
            transaction_id=f"late{i}",
            external_subscription_id="sub_d",
            code="calls",
            timestamp=int(ended.timestamp()) - 1,
        )
        for i in range(2)
    ]
    client.events.batch_create(BatchEvent(events=late))
    refreshed = client.invoices.refresh(summary.lago_id)
    assert (refreshed.status, refreshed.fees_amount_cents, refreshed.total_amount_cents) == (
        "draft",
        50,
        50,
    )

    finalized = client.invoices.finalize(summary.lago_id)
    assert finalized.status == "finalized" and finalized.total_amount_cents == 50
    assert finalized.number is not None and finalized.number.endswith("-000001")

    downloaded = client.invoices.download(summary.lago_id)
    assert downloaded is not None and downloaded.file_url
    # Signed, so no API key. The link's origin is RELEVE_PUBLIC_URL, which this server fixture
    # leaves at its default: the same path and query are asked of the test server.
    link = urlsplit(downloaded.file_url)
    pdf = httpx.get(f"{server.url}{link.path}?{link.query}", timeout=30)
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")

    voided = client.invoices.void(summary.lago_id)
    assert voided.status == "voided" and voided.total_amount_cents == 50
    with pytest.raises(LagoApiError) as err:
        client.invoices.refresh(summary.lago_id)  # only drafts can be refreshed
    assert err.value.status_code in (405, 422)
