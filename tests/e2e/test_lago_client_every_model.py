"""The official lago-python-client, unpatched, drives every aggregation type and charge model.

One plan with a charge per model on metrics of every Lago aggregation type; batched events;
current usage and the final invoice after termination, each checked against amounts computed
here by hand. The subscription starts on the 1st of the current month (UTC) and every event is
timestamped a few minutes after that, so all figures are independent of the day the test runs,
except the prorated plan fee, computed from the termination date.
"""

from __future__ import annotations

import calendar
import warnings
from datetime import UTC, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal

import pytest

from tests.e2e.conftest import Server

with warnings.catch_warnings():
    # The client imports pydantic.v1, which warns on import under pydantic 2; not our code.
    warnings.simplefilter("ignore")
    from lago_python_client.client import Client
    from lago_python_client.models import BillableMetric, Customer, Plan, Subscription, Tax
    from lago_python_client.models.charge import Charge, Charges
    from lago_python_client.models.event import BatchEvent, Event

pytestmark = [pytest.mark.e2e, pytest.mark.store]

METRICS = [
    # code, aggregation_type, field_name
    ("calls", "count_agg", None),
    ("storage", "sum_agg", "gb"),
    ("peak", "max_agg", "cpus"),
    ("seats", "unique_count_agg", "user"),
    ("balance", "latest_agg", "value"),
    ("gb_hours", "weighted_sum_agg", "gb"),
    ("payments", "sum_agg", "amount"),
    ("transfers", "sum_agg", "amount"),
    ("spend", "sum_agg", "units"),
]


def _ranges(key: str, rows: list[tuple[int, int | None, str, str]]) -> dict[str, object]:
    price_key = "rate" if key == "graduated_percentage_ranges" else "per_unit_amount"
    return {
        key: [
            {"from_value": a, "to_value": b, price_key: price, "flat_amount": flat}
            for a, b, price, flat in rows
        ]
    }


CHARGES = {
    "calls": ("standard", {"amount": "0.10"}),
    "storage": (
        "graduated",
        _ranges("graduated_ranges", [(0, 10, "1", "0"), (11, None, "0.5", "0")]),
    ),
    "peak": ("volume", _ranges("volume_ranges", [(0, 10, "1", "0"), (11, None, "0.5", "2")])),
    "seats": ("package", {"amount": "5", "package_size": 2, "free_units": 0}),
    "balance": ("standard", {"amount": "0.01"}),
    "gb_hours": ("standard", {"amount": "1"}),
    "payments": (
        "percentage",
        {"rate": "1", "fixed_amount": "0.10", "free_units_per_events": 1},
    ),
    "transfers": (
        "graduated_percentage",
        _ranges("graduated_percentage_ranges", [(0, 1000, "1", "2"), (1001, None, "0.5", "0")]),
    ),
    "spend": ("dynamic", {}),
}

# Hand-computed charge amounts, in cents:
EXPECTED = {
    "calls": ("6", 60),  # 6 calls × 0.10
    "storage": ("15", 1250),  # 10 × 1 + 5 × 0.5
    "peak": ("12", 800),  # max 12 → tier 11+: 12 × 0.5 + 2 flat
    "seats": ("3", 1000),  # a, b, c → ceil(3 / 2) = 2 packages × 5
    "balance": ("50", 50),  # latest value 50 × 0.01
    "gb_hours": ("10", 1000),  # +10 GB from the period's first second: average level 10 × 1
    "payments": ("600", 520),  # first event (100) free; (600 − 100) × 1 % + 2 paid events × 0.10
    "transfers": ("1500", 1450),  # 1000 × 1 % + 2 flat + 500 × 0.5 % = 10 + 2 + 2.50
    "spend": ("12", 125),  # Σ precise_total_amount_cents 70 + 55
}


def _cents(value: Decimal) -> int:
    return int(value.quantize(Decimal(1), rounding=ROUND_HALF_UP))


def test_every_aggregation_and_charge_model_through_the_official_client(server: Server) -> None:
    client = Client(api_key=server.api_key, api_url=server.url)
    client.taxes.create(Tax(name="VAT", code="vat", rate=20.0, applied_to_organization=True))
    metric_ids = {}
    for code, aggregation, field in METRICS:
        created = client.billable_metrics.create(
            BillableMetric(
                name=code.title(), code=code, aggregation_type=aggregation, field_name=field
            )
        )
        assert created is not None and created.aggregation_type == aggregation
        metric_ids[code] = created.lago_id
    plan = client.plans.create(
        Plan(
            name="Everything",
            code="everything",
            interval="monthly",
            amount_cents=3100,
            amount_currency="EUR",
            pay_in_advance=False,
            charges=Charges(
                __root__=[
                    Charge(
                        billable_metric_id=metric_ids[code], charge_model=model, properties=props
                    )
                    for code, (model, props) in CHARGES.items()
                ]
            ),
        )
    )
    assert plan is not None
    assert {c.charge_model for c in plan.charges.__root__} == {
        "standard",
        "graduated",
        "volume",
        "package",
        "percentage",
        "graduated_percentage",
        "dynamic",
    }
    client.customers.create(Customer(external_id="cus_all", name="All", currency="EUR"))
    month_start = datetime.now(UTC).replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    subscription = client.subscriptions.create(
        Subscription(
            external_customer_id="cus_all",
            plan_code="everything",
            external_id="sub_all",
            subscription_at=month_start.isoformat(),
        )
    )
    assert subscription is not None and subscription.status == "active"

    minute = iter(range(1, 1000))

    def event(
        code: str, precise: str | None = None, at_start: bool = False, **props: object
    ) -> Event:
        at = month_start if at_start else month_start + timedelta(minutes=next(minute))
        return Event(
            transaction_id=f"{code}-{len(sent)}",
            external_subscription_id="sub_all",
            code=code,
            timestamp=int(at.timestamp()),
            properties=props,
            precise_total_amount_cents=precise,
        )

    sent: list[Event] = []
    for make in (
        *(lambda: event("calls") for _ in range(6)),
        lambda: event("storage", gb="5"),
        lambda: event("storage", gb=10),
        lambda: event("peak", cpus=3),
        lambda: event("peak", cpus="12"),
        lambda: event("peak", cpus=7),
        lambda: event("seats", user="a"),
        lambda: event("seats", user="b"),
        lambda: event("seats", user="a"),
        lambda: event("seats", user="c"),
        lambda: event("balance", value=100),
        lambda: event("balance", value=50),
        lambda: event("gb_hours", at_start=True, gb=10),
        lambda: event("payments", amount=100),
        lambda: event("payments", amount=200),
        lambda: event("payments", amount=300),
        lambda: event("transfers", amount=1500),
        lambda: event("spend", precise="70", units=7),
        lambda: event("spend", precise="55", units=5),
    ):
        sent.append(make())
    for i in range(0, len(sent), 10):  # several batches
        assert client.events.batch_create(BatchEvent(events=sent[i : i + 10])) is None

    usage = client.customers.current_usage("cus_all", "sub_all")
    got = {c.billable_metric.code: (c.units, c.amount_cents) for c in usage.charges_usage}
    assert got == EXPECTED
    charges_total = sum(cents for _, cents in EXPECTED.values())  # 6255
    assert charges_total == 6255
    assert usage.amount_cents == charges_total
    assert usage.taxes_amount_cents == _cents(Decimal(charges_total) * Decimal("0.2"))  # 1251
    assert usage.total_amount_cents == charges_total + 1251

    terminated = client.subscriptions.destroy("sub_all")
    assert terminated is not None and terminated.terminated_at is not None
    ended = datetime.fromisoformat(terminated.terminated_at.replace("Z", "+00:00"))
    month_days = calendar.monthrange(ended.year, ended.month)[1]
    plan_fee = _cents(Decimal(3100) * ended.day / month_days)  # termination day counts
    listing = client.invoices.find_all({"external_customer_id": "cus_all"})
    (summary,) = listing["invoices"]
    invoice = client.invoices.find(summary.lago_id)
    assert invoice is not None and invoice.status == "finalized"
    assert invoice.fees is not None
    fees = {f.item.code: (f.units, f.amount_cents) for f in invoice.fees.__root__ if f.item}
    assert fees.pop("everything")[1] == plan_fee  # 31.00 × days used / days in the month
    assert {code: fees[code] for code in EXPECTED} == EXPECTED
    fees_total = plan_fee + charges_total
    vat = _cents(Decimal(fees_total) * Decimal("0.2"))
    assert (invoice.fees_amount_cents, invoice.taxes_amount_cents) == (fees_total, vat)
    assert invoice.total_amount_cents == fees_total + vat
