"""The official lago-python-client reads projected usage and past usage.

Plan: 0 EUR a month in arrears, api_calls standard 0.10 EUR/call, seats max_agg standard
2 EUR/seat, VAT 20 % applied to the organization. The subscription starts on the 1st of the
current month (UTC). Projected usage: 3 calls so far, projected as ``3 ÷ elapsed share`` of
the month (bounded by the share just before and just after the request) and re-priced; 4 seats
are a level and stay 4. Then the subscription is terminated: its final invoice is the one past
usage period, read back as invoiced.
"""

from __future__ import annotations

import calendar
import warnings
from datetime import UTC, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction

import pytest

from tests.e2e.conftest import Server

with warnings.catch_warnings():
    # The client imports pydantic.v1, which warns on import under pydantic 2; not our code.
    warnings.simplefilter("ignore")
    from lago_python_client.client import Client
    from lago_python_client.exceptions import LagoApiError
    from lago_python_client.models import BillableMetric, Customer, Plan, Subscription, Tax
    from lago_python_client.models.charge import Charge, Charges
    from lago_python_client.models.event import BatchEvent, Event

pytestmark = [pytest.mark.e2e, pytest.mark.store]


def _share(month_start: datetime, now: datetime) -> Fraction:
    days = calendar.monthrange(month_start.year, month_start.month)[1]
    micro = timedelta(microseconds=1)
    return Fraction((now - month_start) // micro, timedelta(days=days) // micro)


def _cents(value: Fraction) -> int:
    exact = Decimal(value.numerator) / Decimal(value.denominator)
    return int(exact.quantize(Decimal(1), ROUND_HALF_UP))


def test_projected_and_past_usage_through_the_client(server: Server) -> None:
    client = Client(api_key=server.api_key, api_url=server.url)
    client.taxes.create(Tax(name="VAT", code="vat", rate=20.0, applied_to_organization=True))
    calls = client.billable_metrics.create(
        BillableMetric(name="API calls", code="api_calls", aggregation_type="count_agg")
    )
    seats = client.billable_metrics.create(
        BillableMetric(name="Seats", code="seats", aggregation_type="max_agg", field_name="n")
    )
    assert calls is not None and seats is not None
    client.plans.create(
        Plan(
            name="Team",
            code="team",
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
                    ),
                    Charge(
                        billable_metric_id=seats.lago_id,
                        charge_model="standard",
                        properties={"amount": "2"},
                    ),
                ]
            ),
        )
    )
    client.customers.create(Customer(external_id="cus_h", name="History", currency="EUR"))
    client.customers.create(Customer(external_id="cus_o", name="Other", currency="EUR"))
    month_start = datetime.now(UTC).replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    client.subscriptions.create(
        Subscription(
            external_customer_id="cus_h",
            plan_code="team",
            external_id="sub_h",
            subscription_at=month_start.isoformat(),
        )
    )
    events = [
        *(
            Event(transaction_id=f"c{i}", external_subscription_id="sub_h", code="api_calls")
            for i in range(3)
        ),
        Event(
            transaction_id="s1",
            external_subscription_id="sub_h",
            code="seats",
            properties={"n": "4"},
        ),
    ]
    assert client.events.batch_create(BatchEvent(events=events)) is None

    before = _share(month_start, datetime.now(UTC))
    projected = client.customers.projected_usage("cus_h", "sub_h")
    after = _share(month_start, datetime.now(UTC))
    assert projected.amount_cents == 30 + 800  # 3 × 0.10 + 4 × 2
    assert projected.taxes_amount_cents == 166 and projected.total_amount_cents == 996
    charges = {c.billable_metric.code: c for c in projected.charges_usage}
    assert charges["seats"].projected_units == "4"
    assert charges["seats"].projected_amount_cents == 800
    units = Fraction(Decimal(charges["api_calls"].projected_units))
    assert 3 / after <= units <= 3 / before
    amount = charges["api_calls"].projected_amount_cents
    assert _cents(30 / after) - 1 <= amount <= _cents(30 / before) + 1
    assert projected.projected_amount_cents == amount + 800

    with pytest.raises(LagoApiError) as err:
        client.customers.projected_usage("cus_o", "sub_h")
    assert err.value.status_code == 404

    terminated = client.subscriptions.destroy("sub_h")
    assert terminated is not None and terminated.status == "terminated"
    history = client.customers.past_usage("cus_h", "sub_h")
    assert history["meta"]["total_count"] == 1
    (period,) = history["usage_periods"]
    assert period.currency == "EUR" and period.lago_invoice_id is not None
    assert period.amount_cents == 830 and period.taxes_amount_cents == 166
    assert period.total_amount_cents == 996
    assert period.from_datetime == month_start.isoformat().replace("+00:00", "Z")
    past = {c.billable_metric.code: (c.units, c.amount_cents) for c in period.charges_usage}
    assert past == {"api_calls": ("3", 30), "seats": ("4", 800)}
    invoice = client.invoices.find(period.lago_invoice_id)
    assert invoice is not None and invoice.status == "finalized"

    only_seats = client.customers.past_usage(
        "cus_h", "sub_h", {"billable_metric_code": "seats", "periods_count": 1}
    )
    (seat_period,) = only_seats["usage_periods"]
    assert [c.billable_metric.code for c in seat_period.charges_usage] == ["seats"]
    with pytest.raises(LagoApiError) as err:
        client.customers.past_usage("cus_o", "sub_h")
    assert err.value.status_code == 404
