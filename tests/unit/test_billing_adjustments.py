"""Late-event adjustments (domain): price of the period now − already invoiced, per bucket.

Charge `ch_units` (metric `units`, sum): graduated 0–100 at 1.00 EUR, above at 0.50 EUR, or
volume with the same tiers (a cliff at 100). The period is January 2026, invoice INV-000012.
"""

from __future__ import annotations

from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from releve.domain.billing.adjustments import (
    AdjustmentKey,
    Invoiced,
    OriginalInvoice,
    invoice_lines,
    late_adjustments,
    period_text,
)
from releve.domain.billing.period_invoice import InvoiceKind, assemble_period_invoice
from releve.domain.charge_models.properties import ChargeModel, parse_properties
from releve.domain.errors import DomainError
from releve.domain.fee_lines import FeeType, TaxRate
from releve.domain.filters import BucketKey
from releve.domain.metering import AggregationType, BillableMetric
from releve.domain.periods import BillingTime, Period
from releve.domain.plans import Plan
from releve.domain.subscriptions import Subscription
from releve.domain.usage import UsageFacts
from tests.unit.test_billing_factories import charge, plan, utc

UTC_ZONE = ZoneInfo("UTC")
VAT = TaxRate("vat", "VAT", Decimal(20))
UNITS = BillableMetric("units", "Units", AggregationType.SUM, field_name="value")
RANGES = [
    {"from_value": 0, "to_value": 100, "per_unit_amount": "1", "flat_amount": "0"},
    {"from_value": 101, "to_value": None, "per_unit_amount": "0.5", "flat_amount": "0"},
]
JANUARY = Period(utc(2026, 1, 1), utc(2026, 2, 1))
ORIGINAL = OriginalInvoice("inv-1", "INV-000012", JANUARY, UTC_ZONE)
KEY = AdjustmentKey("ch_units", None, ())


def units_plan(model: str = "graduated", min_amount_cents: int = 0) -> Plan:
    properties = parse_properties(model, {f"{model}_ranges": RANGES})
    return plan(
        0,
        charges=(
            charge(
                "ch_units",
                metric=UNITS,
                model=ChargeModel(model),
                properties=properties,
                min_amount_cents=min_amount_cents,
            ),
        ),
        tax_codes=("vat",),
    )


def january_price(p: Plan, units: Decimal) -> int:
    """What January's invoice charges for `units` (the period invoice's own path)."""
    return sum(
        f.line.amount_cents for f in _repriced(p, units).fees if f.line.fee_type is FeeType.CHARGE
    )


def _repriced(p: Plan, units: Decimal):  # type: ignore[no-untyped-def]
    sub = Subscription("sub1", "ext1", p, BillingTime.CALENDAR, UTC_ZONE, utc(2026, 1, 1))
    usage = {"ch_units": {BucketKey(): UsageFacts(units, 1)}} if units else {}
    return assemble_period_invoice(
        sub,
        InvoiceKind.PERIOD_END,
        JANUARY.end,
        usage=usage,
        finalizing=False,
        taxes={"vat": VAT},
    )


@pytest.mark.parametrize(
    ("model", "invoiced_units", "now_units", "expected"),
    [
        # graduated: 110 = 100 × 1 + 10 × 0.5 = 105.00; invoiced 90.00 → +15.00
        ("graduated", 90, 110, 1500),
        # tier edge: 100 = 100.00 vs 99.00 → +1.00; 101 = 100.50 vs 100.00 → +0.50
        ("graduated", 99, 100, 100),
        ("graduated", 100, 101, 50),
        # volume cliff: 110 × 0.5 = 55.00; invoiced 90.00 → −35.00
        ("volume", 90, 110, -3500),
        # volume edge: 100 × 1 = 100.00 vs 101 × 0.5 = 50.50 → −49.50
        ("volume", 100, 101, -4950),
        # negative late event (a correction): 80 × 1 = 80.00 vs 90.00 → −10.00
        ("graduated", 90, 80, -1000),
    ],
)
def test_adjustment_is_period_price_now_minus_invoiced(
    model: str, invoiced_units: int, now_units: int, expected: int
) -> None:
    p = units_plan(model)
    invoiced = {KEY: Invoiced(january_price(p, Decimal(invoiced_units)), taxes=(VAT,))}
    (adjustment,) = late_adjustments(_repriced(p, Decimal(now_units)), p, invoiced, ORIGINAL)
    assert adjustment.key == KEY
    assert adjustment.amount_cents == expected
    assert adjustment.taxes == (VAT,)


def test_the_line_names_the_original_period_and_invoice() -> None:
    p = units_plan()
    (adjustment,) = late_adjustments(
        _repriced(p, Decimal(110)), p, {KEY: Invoiced(9000, taxes=(VAT,))}, ORIGINAL
    )
    assert adjustment.explanation == (
        "Units, 1–31 Jan 2026 (invoice INV-000012): now 110 units = 105.00 EUR,"
        " invoiced 90.00 EUR → +15.00 EUR"
    )
    (fee,) = invoice_lines([adjustment], "sub1", "pro")
    assert (fee.line.fee_type, fee.line.amount_cents, fee.period) == (
        FeeType.ADJUSTMENT, 1500, JANUARY,
    )  # fmt: skip
    assert fee.line.taxes == (VAT,)
    assert fee.amount_details["original_invoice_number"] == "INV-000012"
    assert AdjustmentKey.parse(str(fee.amount_details["bucket"])) == KEY


def test_nothing_when_already_invoiced_and_negative_is_not_a_line() -> None:
    p = units_plan("volume")
    assert late_adjustments(_repriced(p, Decimal(90)), p, {KEY: Invoiced(9000)}, ORIGINAL) == []
    negative = late_adjustments(_repriced(p, Decimal(110)), p, {KEY: Invoiced(9000)}, ORIGINAL)
    assert invoice_lines(negative, "sub1", "pro") == ()
    with pytest.raises(ValueError):
        negative[0].invoice_fee("sub1", "pro")


def test_a_charge_with_a_spending_minimum_is_compared_as_a_whole() -> None:
    # minimum 100.00: 60 units → 60.00 + true-up 40.00 = 100.00 invoiced; now 150 units
    # = 100 + 25 = 125.00 (no true-up) → +25.00, one line for the charge.
    p = units_plan(min_amount_cents=10000)
    whole = AdjustmentKey("ch_units", whole_charge=True)
    (adjustment,) = late_adjustments(
        _repriced(p, Decimal(150)), p, {whole: Invoiced(10000)}, ORIGINAL
    )
    assert (adjustment.key, adjustment.amount_cents) == (whole, 2500)
    assert late_adjustments(_repriced(p, Decimal(70)), p, {whole: Invoiced(10000)}, ORIGINAL) == []


def test_assembly_carries_adjustments_into_totals_and_refuses_other_types() -> None:
    p = units_plan()
    (adjustment,) = late_adjustments(
        _repriced(p, Decimal(110)), p, {KEY: Invoiced(9000, taxes=(VAT,))}, ORIGINAL
    )
    lines = invoice_lines([adjustment], "sub1", "pro")
    sub = Subscription("sub1", "ext1", p, BillingTime.CALENDAR, UTC_ZONE, utc(2026, 1, 1))
    feb = assemble_period_invoice(
        sub,
        InvoiceKind.PERIOD_END,
        utc(2026, 3, 1),
        usage={"ch_units": {BucketKey(): UsageFacts(Decimal(10), 1)}},
        finalizing=True,
        taxes={"vat": VAT},
        adjustments=lines,
    )
    # 10 × 1.00 + 15.00 = 25.00; VAT 5.00 → 30.00
    assert (feb.totals.fees_amount_cents, feb.totals.total_amount_cents) == (2500, 3000)
    with pytest.raises(DomainError):
        assemble_period_invoice(
            sub,
            InvoiceKind.PERIOD_END,
            utc(2026, 3, 1),
            usage={},
            finalizing=True,
            taxes={"vat": VAT},
            adjustments=[f for f in feb.fees if f.line.fee_type is FeeType.CHARGE],
        )


@pytest.mark.parametrize(
    ("start", "end", "text"),
    [
        (utc(2026, 1, 1), utc(2026, 2, 1), "1–31 Jan 2026"),
        (utc(2026, 1, 15), utc(2026, 2, 15), "15 Jan – 14 Feb 2026"),
        (utc(2025, 12, 15), utc(2026, 1, 15), "15 Dec 2025 – 14 Jan 2026"),
        (utc(2026, 1, 10), utc(2026, 1, 10, 12), "10 Jan 2026"),
    ],
)
def test_period_text_on_the_customer_calendar(start, end, text) -> None:  # type: ignore[no-untyped-def]
    assert period_text(OriginalInvoice("i", "N", Period(start, end), UTC_ZONE)) == text


@settings(max_examples=60, deadline=None)
@given(
    model=st.sampled_from(["graduated", "volume"]),
    original=st.integers(0, 300),
    late=st.lists(st.integers(-40, 120), min_size=1, max_size=6),
)
def test_invoiced_plus_adjustments_equals_the_period_priced_on_all_events(
    model: str, original: int, late: list[int]
) -> None:
    """Σ invoiced (original + every adjustment, credits negative) == price on all events."""
    p = units_plan(model)
    invoiced = january_price(p, Decimal(original))
    units = original
    for batch in late:
        units = max(0, units + batch)  # a sum metric's corrections never go below 0 here
        for adjustment in late_adjustments(
            _repriced(p, Decimal(units)), p, {KEY: Invoiced(invoiced)}, ORIGINAL
        ):
            invoiced += adjustment.amount_cents
        assert invoiced == january_price(p, Decimal(units))
        # Settled: pricing again adjusts nothing (idempotent).
        assert late_adjustments(_repriced(p, Decimal(units)), p, {KEY: Invoiced(invoiced)},
                                ORIGINAL) == []  # fmt: skip
