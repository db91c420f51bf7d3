"""Acceptance (issue 4): the billing lifecycle over three simulated months.

Each scenario builds its catalog through the API, sends events through the API, moves the
injected clock, runs one scheduler tick (`activate_due` + `bill_due`) at each instant that
matters, and reads every invoice back through the API JSON. Every expected amount is computed
by hand in the comments (days counted in the customer's time zone, proration fractions, taxes
rounded half-up once per invoice and rate, then shared between fees by largest remainder).

2024 is the year of every scenario: a leap year (February has 29 days), and the year the US
moves to summer time on Sun Mar 10 and Europe on Sun Mar 31.

Time zones: (a) America/New_York across the March DST change, (b) Asia/Tokyo, (f)
Europe/Paris across its DST change; the others UTC. Taxes: (a) and (g) (VAT 20 %).
"""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from releve.bootstrap import Container
from tests.integration.lifecycle_support import (
    bill,
    charge_fee,
    customer,
    event,
    invoice,
    invoices,
    local,
    metric,
    plan,
    sub_fee,
    subscribe,
    summary,
    utc,
    vat,
)
from tests.integration.support import FakeClock

pytestmark = pytest.mark.store

NY = "America/New_York"
TOKYO = "Asia/Tokyo"
PARIS = "Europe/Paris"


def _check(api: TestClient, expected: list[dict[str, Any]]) -> None:
    """All the organization's visible invoices, in number order, against the expectations."""
    assert [summary(i) for i in invoices(api)] == expected


# --- (a) calendar monthly plan in arrears with a usage charge, New York, VAT ---------------


def test_a_calendar_monthly_in_arrears_with_usage_new_york_and_vat(
    api: TestClient, clock: FakeClock, container: Container
) -> None:
    """Plan `basic`: 29.00 EUR a month in arrears, api_calls at 0.02 EUR; VAT 20 %; the
    customer is in New York with net_payment_term 30 days."""
    vat(api)
    calls = metric(api, "api_calls")
    plan(api, "basic", 2900, per_unit={calls: "0.02"})
    customer(api, timezone=NY, net_payment_term=30)
    subscribe(api, clock, local(NY, 2024, 1, 10, 9), "basic")  # Jan 10 09:00 EST
    event(api, clock, local(NY, 2024, 1, 20, 12), "api_calls", 100)
    event(api, clock, local(NY, 2024, 1, 31, 23, 30), "api_calls", 50)  # Feb 1 04:30 UTC
    # Feb 1 04:59 UTC is still Jan 31 in New York: nothing is due.
    assert bill(container, clock, utc(2024, 2, 1, 4, 59)).issued == []
    bill(container, clock, local(NY, 2024, 2, 1))  # Feb 1 00:00 EST = 05:00 UTC
    event(api, clock, local(NY, 2024, 2, 15, 8), "api_calls", 300)
    event(api, clock, local(NY, 2024, 2, 29, 23, 30), "api_calls", 25)  # Mar 1 04:30 UTC
    bill(container, clock, local(NY, 2024, 3, 1))  # 05:00 UTC
    event(api, clock, local(NY, 2024, 3, 10, 3, 30), "api_calls", 40)  # just after 02:00→03:00
    event(api, clock, local(NY, 2024, 3, 31, 23, 30), "api_calls", 10)  # Apr 1 03:30 UTC
    # Apr 1 03:59 UTC is Mar 31 23:59 EDT: still March.
    assert bill(container, clock, utc(2024, 4, 1, 3, 59)).issued == []
    event(api, clock, local(NY, 2024, 4, 1, 0, 30), "api_calls", 7)  # April: not billed below
    bill(container, clock, local(NY, 2024, 4, 1, 0, 45))  # Apr 1 00:00 EDT = 04:00 UTC
    assert bill(container, clock, local(NY, 2024, 4, 1, 1)).issued == []  # idempotent

    jan10, feb1 = local(NY, 2024, 1, 10), local(NY, 2024, 2, 1)  # 05:00 UTC both
    mar1, apr1 = local(NY, 2024, 3, 1), local(NY, 2024, 4, 1)  # 05:00 UTC, 04:00 UTC (EDT)
    _check(
        api,
        [
            # January, from Jan 10: 22 days (10..31) of 31 → 2900 × 22/31 = 2058.06 → 2058.
            # Usage 100 + 50 = 150 calls × 0.02 = 3.00 → 300 (the 23:30 EST call is January's).
            # VAT 20 % of 2358 = 471.6 → 472; shares 411.6 / 60 → 411 + 60, the leftover
            # cent to the largest remainder (0.6): 412 / 60. Due Feb 1 + 30 days = Mar 2.
            invoice(
                1,
                issued="2024-02-01",
                due="2024-03-02",
                plan_code="basic",
                fees=[
                    sub_fee("basic", 2058, jan10, feb1, taxes=412),
                    charge_fee("api_calls", 150, 300, jan10, feb1, taxes=60),
                ],
                taxes=472,
            ),
            # February (29 days, whole): 2900. Usage 300 + 25 = 325 × 0.02 = 6.50 → 650.
            # VAT 20 % of 3550 = 710 (580 + 130). Due Mar 1 + 30 = Mar 31.
            invoice(
                2,
                issued="2024-03-01",
                due="2024-03-31",
                plan_code="basic",
                fees=[
                    sub_fee("basic", 2900, feb1, mar1, taxes=580),
                    charge_fee("api_calls", 325, 650, feb1, mar1, taxes=130),
                ],
                taxes=710,
            ),
            # March: 31 local days although Mar 10 lasts 23 hours → whole month 2900; the
            # period ends at 04:00 UTC (EDT). Usage 40 + 10 = 50 × 0.02 = 1.00 → 100 (the Apr 1
            # 00:30 EDT call is April's). VAT 600 (580 + 20). Due Apr 1 + 30 = May 1.
            invoice(
                3,
                issued="2024-04-01",
                due="2024-05-01",
                plan_code="basic",
                fees=[
                    sub_fee("basic", 2900, mar1, apr1, taxes=580),
                    charge_fee("api_calls", 50, 100, mar1, apr1, taxes=20),
                ],
                taxes=600,
            ),
        ],
    )


# --- (b) anniversary, paid in advance, from Jan 31 (leap year), Tokyo ----------------------


def test_b_anniversary_in_advance_from_january_31_in_tokyo(
    api: TestClient, clock: FakeClock, container: Container
) -> None:
    """Plan `anniv`: 31.00 EUR a month in advance, anniversary; api_calls 0.10 EUR in arrears.
    Anchor Jan 31 2024 (leap year) → Feb 29 → Mar 31 → Apr 30, midnight in Tokyo (UTC+9)."""
    calls = metric(api, "api_calls")
    plan(api, "anniv", 3100, pay_in_advance=True, per_unit={calls: "0.10"})
    customer(api, timezone=TOKYO)
    created = subscribe(
        api, clock, local(TOKYO, 2024, 1, 31, 10), "anniv", billing_time="anniversary"
    )
    assert created["billing_time"] == "anniversary"
    event(api, clock, local(TOKYO, 2024, 2, 10, 12), "api_calls", 20)
    event(api, clock, local(TOKYO, 2024, 2, 28, 23, 59), "api_calls", 5)
    # Feb 28 14:59 UTC is Feb 28 23:59 in Tokyo: the first period has not ended.
    assert bill(container, clock, utc(2024, 2, 28, 14, 59)).issued == []
    event(
        api, clock, local(TOKYO, 2024, 2, 29), "api_calls", 7
    )  # the second period's first instant
    bill(container, clock, local(TOKYO, 2024, 2, 29))  # = Feb 28 15:00 UTC
    event(api, clock, local(TOKYO, 2024, 3, 30, 23), "api_calls", 3)
    bill(container, clock, local(TOKYO, 2024, 3, 31))  # = Mar 30 15:00 UTC
    assert bill(container, clock, local(TOKYO, 2024, 4, 15)).issued == []

    jan31, feb29 = local(TOKYO, 2024, 1, 31), local(TOKYO, 2024, 2, 29)
    mar31, apr30 = local(TOKYO, 2024, 3, 31), local(TOKYO, 2024, 4, 30)
    _check(
        api,
        [
            # At creation: the first period Jan 31 → Feb 29 (its start day is the anchor: a
            # whole period) paid in advance: 3100. Issued on the start's Tokyo date.
            invoice(
                1,
                issued="2024-01-31",
                plan_code="anniv",
                reason="subscription_starting",
                fees=[sub_fee("anniv", 3100, jan31, feb29)],
            ),
            # Feb 29 (Tokyo): the fee of Feb 29 → Mar 31 in advance, 3100, and the usage of
            # Jan 31 → Feb 29: 20 + 5 = 25 calls × 0.10 = 2.50 → 250.
            invoice(
                2,
                issued="2024-02-29",
                plan_code="anniv",
                fees=[
                    sub_fee("anniv", 3100, feb29, mar31),
                    charge_fee("api_calls", 25, 250, jan31, feb29),
                ],
            ),
            # Mar 31: the fee of Mar 31 → Apr 30, 3100; usage 7 + 3 = 10 × 0.10 = 1.00 → 100.
            invoice(
                3,
                issued="2024-03-31",
                plan_code="anniv",
                fees=[
                    sub_fee("anniv", 3100, mar31, apr30),
                    charge_fee("api_calls", 10, 100, feb29, mar31),
                ],
            ),
        ],
    )


# --- (c) yearly plan with monthly usage invoices ------------------------------------------


def test_c_yearly_plan_with_charges_billed_monthly(
    api: TestClient, clock: FakeClock, container: Container
) -> None:
    """Plan `yearly`: 1,200.00 EUR a year in advance (calendar), api_calls 0.01 EUR billed
    monthly (bill_charges_monthly). UTC customer, subscribed Jan 15 2024 10:00."""
    calls = metric(api, "api_calls")
    plan(
        api,
        "yearly",
        120000,
        interval="yearly",
        pay_in_advance=True,
        bill_charges_monthly=True,
        per_unit={calls: "0.01"},
    )
    customer(api)
    subscribe(api, clock, utc(2024, 1, 15, 10), "yearly")
    event(api, clock, utc(2024, 1, 20), "api_calls", 1000)
    bill(container, clock, utc(2024, 2, 1))
    event(api, clock, utc(2024, 2, 10), "api_calls", 2500)
    bill(container, clock, utc(2024, 3, 1))
    event(api, clock, utc(2024, 3, 5), "api_calls", 400)
    bill(container, clock, utc(2024, 4, 1))

    jan15, feb1, mar1, apr1 = utc(2024, 1, 15), utc(2024, 2, 1), utc(2024, 3, 1), utc(2024, 4, 1)
    _check(
        api,
        [
            # 2024 has 366 days; Jan 15 → Jan 1 2025 is 366 − 14 = 352 days:
            # 120000 × 352/366 = 115409.84 → 115410, in advance at the start.
            invoice(
                1,
                issued="2024-01-15",
                plan_code="yearly",
                reason="subscription_starting",
                fees=[sub_fee("yearly", 115410, jan15, utc(2025, 1, 1))],
            ),
            # Monthly usage invoices, no subscription fee (it was paid for the year):
            # Jan 15 → Feb 1: 1000 × 0.01 = 10.00; February 2500 → 25.00; March 400 → 4.00.
            invoice(
                2,
                issued="2024-02-01",
                plan_code="yearly",
                fees=[charge_fee("api_calls", 1000, 1000, jan15, feb1)],
            ),
            invoice(
                3,
                issued="2024-03-01",
                plan_code="yearly",
                fees=[charge_fee("api_calls", 2500, 2500, feb1, mar1)],
            ),
            invoice(
                4,
                issued="2024-04-01",
                plan_code="yearly",
                fees=[charge_fee("api_calls", 400, 400, mar1, apr1)],
            ),
        ],
    )


# --- (d) upgrades mid-month ----------------------------------------------------------------


def test_d_upgrade_mid_month_in_arrears(
    api: TestClient, clock: FakeClock, container: Container
) -> None:
    """Lago's documented example: `starter` 100 EUR → `premium` 200 EUR (both monthly, in
    arrears, api_calls 0.05 EUR) on Jan 15 12:00 UTC. The change day belongs to the new plan."""
    calls = metric(api, "api_calls")
    plan(api, "starter", 10000, per_unit={calls: "0.05"})
    plan(api, "premium", 20000, per_unit={calls: "0.05"})
    customer(api)
    subscribe(api, clock, utc(2024, 1, 1), "starter")
    event(api, clock, utc(2024, 1, 10), "api_calls", 100)
    event(api, clock, utc(2024, 1, 15, 8), "api_calls", 20)  # change day, before the change
    upgraded = subscribe(api, clock, utc(2024, 1, 15, 12), "premium")
    assert (upgraded["plan_code"], upgraded["status"]) == ("premium", "active")
    assert upgraded["previous_plan_code"] == "starter"
    event(api, clock, utc(2024, 1, 20), "api_calls", 60)
    bill(container, clock, utc(2024, 2, 1))
    event(api, clock, utc(2024, 2, 10), "api_calls", 40)
    bill(container, clock, utc(2024, 3, 1))
    bill(container, clock, utc(2024, 4, 1))

    jan1, jan15, feb1 = utc(2024, 1, 1), utc(2024, 1, 15), utc(2024, 2, 1)
    mar1, apr1 = utc(2024, 3, 1), utc(2024, 4, 1)
    _check(
        api,
        [
            # The old plan's final invoice, at the change: Jan 1–14 = 14/31 × 10000 = 4516.13
            # → 4516 (the change day is the new plan's); usage up to the change instant
            # (Jan 15 12:00): 100 + 20 = 120 × 0.05 = 6.00 → 600. (Regression: the 20 calls
            # of the change day before the change were billed by neither plan.)
            invoice(
                1,
                issued="2024-01-15",
                plan_code="starter",
                reason="subscription_terminating",
                fees=[
                    sub_fee("starter", 4516, jan1, jan15),
                    charge_fee("api_calls", 120, 600, jan1, utc(2024, 1, 15, 12)),
                ],
            ),
            # The new plan's first invoice (arrears: at the period end): Jan 15–31 = 17/31 ×
            # 20000 = 10967.74 → 10968; usage 60 × 0.05 = 3.00 → 300.
            invoice(
                2,
                issued="2024-02-01",
                plan_code="premium",
                fees=[
                    sub_fee("premium", 10968, jan15, feb1),
                    charge_fee("api_calls", 60, 300, jan15, feb1),
                ],
            ),
            # February: 20000 + 40 × 0.05 = 2.00 → 200.
            invoice(
                3,
                issued="2024-03-01",
                plan_code="premium",
                fees=[
                    sub_fee("premium", 20000, feb1, mar1),
                    charge_fee("api_calls", 40, 200, feb1, mar1),
                ],
            ),
            # March: 20000, no usage (a charge with 0 units makes no fee).
            invoice(
                4,
                issued="2024-04-01",
                plan_code="premium",
                fees=[sub_fee("premium", 20000, mar1, apr1)],
            ),
        ],
    )


def test_d_upgrade_mid_month_in_advance_credit_note_pays_the_start_invoice(
    api: TestClient, clock: FakeClock, container: Container
) -> None:
    """`lite` 31.00 EUR → `plus` 62.00 EUR, both monthly in advance, on Jan 11 10:00 UTC."""
    plan(api, "lite", 3100, pay_in_advance=True)
    plan(api, "plus", 6200, pay_in_advance=True)
    customer(api)
    subscribe(api, clock, utc(2024, 1, 1), "lite")
    subscribe(api, clock, utc(2024, 1, 11, 10), "plus")
    bill(container, clock, utc(2024, 2, 1))
    bill(container, clock, utc(2024, 3, 1))

    jan1, jan11, feb1 = utc(2024, 1, 1), utc(2024, 1, 11), utc(2024, 2, 1)
    mar1, apr1 = utc(2024, 3, 1), utc(2024, 4, 1)
    # Credit note for `lite`'s unused days: Jan 11–31 = 21 of the 31 prepaid days →
    # 3100 × 21/31 = 2100, no tax; reason order_change, fully credited.
    notes = api.get("/api/v1/credit_notes").json()["credit_notes"]
    assert [
        (
            n["reason"],
            n["sub_total_excluding_taxes_amount_cents"],
            n["taxes_amount_cents"],
            n["total_amount_cents"],
            n["credit_amount_cents"],
            n["balance_amount_cents"],
            n["credit_status"],
            n["issuing_date"],
        )
        for n in notes
    ] == [("order_change", 2100, 0, 2100, 2100, 0, "consumed", "2024-01-11")]
    _check(
        api,
        [
            # lite, at the start: January in advance, 3100.
            invoice(
                1,
                issued="2024-01-01",
                plan_code="lite",
                reason="subscription_starting",
                fees=[sub_fee("lite", 3100, jan1, feb1)],
            ),
            # (lite's final invoice at the change bills nothing — in advance, no usage — so
            # it is closed, not shown.) plus, at the change: Jan 11–31 = 21/31 × 6200 = 4200,
            # minus the credit note's 2100 → 2100 due.
            invoice(
                2,
                issued="2024-01-11",
                plan_code="plus",
                reason="subscription_starting",
                fees=[sub_fee("plus", 4200, jan11, feb1)],
                credit_notes=2100,
            ),
            invoice(
                3, issued="2024-02-01", plan_code="plus", fees=[sub_fee("plus", 6200, feb1, mar1)]
            ),
            invoice(
                4, issued="2024-03-01", plan_code="plus", fees=[sub_fee("plus", 6200, mar1, apr1)]
            ),
        ],
    )


# --- (e) downgrade at the end of the period ------------------------------------------------


def test_e_downgrade_applies_at_the_period_end(
    api: TestClient, clock: FakeClock, container: Container
) -> None:
    """`premium` 200 EUR → `starter` 100 EUR (monthly, arrears, api_calls 0.05 EUR), asked on
    Jan 15: pending until Feb 1, when `premium` ends with a whole January."""
    calls = metric(api, "api_calls")
    plan(api, "starter", 10000, per_unit={calls: "0.05"})
    plan(api, "premium", 20000, per_unit={calls: "0.05"})
    customer(api)
    subscribe(api, clock, utc(2024, 1, 1), "premium")
    event(api, clock, utc(2024, 1, 10), "api_calls", 10)
    current = subscribe(api, clock, utc(2024, 1, 15, 12), "starter")
    assert (current["plan_code"], current["status"]) == ("premium", "active")
    assert (current["next_plan_code"], current["downgrade_plan_date"]) == ("starter", "2024-02-01")
    assert bill(container, clock, utc(2024, 1, 31, 23, 59)).issued == []
    event(api, clock, utc(2024, 1, 31, 23, 59), "api_calls", 30)
    bill(container, clock, utc(2024, 2, 1))
    event(api, clock, utc(2024, 2, 10), "api_calls", 20)
    bill(container, clock, utc(2024, 3, 1))
    bill(container, clock, utc(2024, 4, 1))

    subs = api.get(
        "/api/v1/subscriptions",
        params={"external_customer_id": "cus_1", "status[]": ["active", "terminated"]},
    ).json()["subscriptions"]
    assert sorted(
        (s["plan_code"], s["status"], s["started_at"], s["terminated_at"]) for s in subs
    ) == [
        ("premium", "terminated", "2024-01-01T00:00:00Z", "2024-02-01T00:00:00Z"),
        ("starter", "active", "2024-02-01T00:00:00Z", None),
    ]
    jan1, feb1, mar1, apr1 = utc(2024, 1, 1), utc(2024, 2, 1), utc(2024, 3, 1), utc(2024, 4, 1)
    _check(
        api,
        [
            # premium keeps all of January: 20000; usage 10 + 30 = 40 × 0.05 = 2.00 → 200.
            invoice(
                1,
                issued="2024-02-01",
                plan_code="premium",
                fees=[
                    sub_fee("premium", 20000, jan1, feb1),
                    charge_fee("api_calls", 40, 200, jan1, feb1),
                ],
            ),
            # starter from Feb 1 (arrears, no start invoice): 10000 + 20 × 0.05 = 1.00 → 100.
            invoice(
                2,
                issued="2024-03-01",
                plan_code="starter",
                fees=[
                    sub_fee("starter", 10000, feb1, mar1),
                    charge_fee("api_calls", 20, 100, feb1, mar1),
                ],
            ),
            invoice(
                3,
                issued="2024-04-01",
                plan_code="starter",
                fees=[sub_fee("starter", 10000, mar1, apr1)],
            ),
        ],
    )


# --- (f) trial ----------------------------------------------------------------------------


def test_f_trial_then_a_fee_prorated_from_the_trial_end_in_paris(
    api: TestClient, clock: FakeClock, container: Container
) -> None:
    """Plan `trial`: 30.00 EUR a month in advance (calendar) with a 14-day trial; api_calls
    0.10 EUR in arrears (usage is billed during the trial). Customer in Paris, subscribed on
    Jan 10 2024 15:00 CET: the trial covers Jan 10–23 and ends at Jan 24 00:00 CET."""
    calls = metric(api, "api_calls")
    plan(api, "trial", 3000, pay_in_advance=True, trial_period=14, per_unit={calls: "0.10"})
    customer(api, timezone=PARIS)
    subscribe(api, clock, local(PARIS, 2024, 1, 10, 15), "trial")
    assert invoices(api) == []  # in trial: no start invoice
    event(api, clock, local(PARIS, 2024, 1, 15), "api_calls", 10)
    assert bill(container, clock, local(PARIS, 2024, 1, 23, 23, 59)).issued == []
    bill(container, clock, local(PARIS, 2024, 1, 24))  # = Jan 23 23:00 UTC
    event(api, clock, local(PARIS, 2024, 1, 31, 23, 30), "api_calls", 5)  # Jan 31 22:30 UTC
    bill(container, clock, local(PARIS, 2024, 2, 1))  # = Jan 31 23:00 UTC
    bill(container, clock, local(PARIS, 2024, 3, 1))
    event(api, clock, local(PARIS, 2024, 3, 31, 12), "api_calls", 20)  # CEST since 02:00
    bill(container, clock, local(PARIS, 2024, 4, 1))  # = Mar 31 22:00 UTC

    jan10, jan24 = local(PARIS, 2024, 1, 10), local(PARIS, 2024, 1, 24)
    feb1, mar1, apr1 = local(PARIS, 2024, 2, 1), local(PARIS, 2024, 3, 1), local(PARIS, 2024, 4, 1)
    may1 = local(PARIS, 2024, 5, 1)
    _check(
        api,
        [
            # Trial end: the rest of January in advance, Jan 24–31 = 8/31 × 3000 = 774.19 → 774.
            invoice(
                1,
                issued="2024-01-24",
                plan_code="trial",
                reason="subscription_trial_ended",
                fees=[sub_fee("trial", 774, jan24, feb1)],
            ),
            # Feb 1: February in advance 3000; January's usage (trial included) 10 + 5 = 15
            # calls × 0.10 = 1.50 → 150.
            invoice(
                2,
                issued="2024-02-01",
                plan_code="trial",
                fees=[
                    sub_fee("trial", 3000, feb1, mar1),
                    charge_fee("api_calls", 15, 150, jan10, feb1),
                ],
            ),
            # Mar 1: March 3000; no usage in February.
            invoice(
                3, issued="2024-03-01", plan_code="trial", fees=[sub_fee("trial", 3000, mar1, apr1)]
            ),
            # Apr 1 (CEST): April 3000; March usage 20 × 0.10 = 2.00 → 200.
            invoice(
                4,
                issued="2024-04-01",
                plan_code="trial",
                fees=[
                    sub_fee("trial", 3000, apr1, may1),
                    charge_fee("api_calls", 20, 200, mar1, apr1),
                ],
            ),
        ],
    )


def test_f_termination_after_the_trial_credits_the_days_actually_billed(
    api: TestClient, clock: FakeClock, container: Container
) -> None:
    """Same plan in UTC: subscribed Jan 10, trial Jan 10–23, January billed from Jan 24
    (8/31 × 3000 = 774.19 → 774), terminated Jan 28 10:00 (Jan 28 counts as used)."""
    plan(api, "trial", 3000, pay_in_advance=True, trial_period=14)
    customer(api)
    subscribe(api, clock, utc(2024, 1, 10, 15), "trial")
    bill(container, clock, utc(2024, 1, 24))
    clock.set(utc(2024, 1, 28, 10))
    assert api.delete("/api/v1/subscriptions/sub_1").status_code == 200
    # The prepaid fee billed Jan 24–31 = 8 days; unused Jan 29–31 = 3 days →
    # 774 × 3/8 = 290.25 → 290. (Regression: the fee's period started Jan 10, so the credit
    # was 774 × 3/22 = 105.5 → 106.) The final invoice bills nothing (prepaid, no usage):
    # closed, not shown.
    notes = api.get("/api/v1/credit_notes").json()["credit_notes"]
    assert [(n["reason"], n["total_amount_cents"], n["balance_amount_cents"]) for n in notes] == [
        ("order_change", 290, 290)
    ]
    _check(
        api,
        [
            invoice(
                1,
                issued="2024-01-24",
                plan_code="trial",
                reason="subscription_trial_ended",
                fees=[sub_fee("trial", 774, utc(2024, 1, 24), utc(2024, 2, 1))],
            )
        ],
    )


# --- (g) termination of an in-advance plan, its credit note, the next invoice -------------


def test_g_termination_in_advance_credit_note_reduces_the_next_invoice(
    api: TestClient, clock: FakeClock, container: Container
) -> None:
    """VAT 20 %. `seat`: 31.00 EUR a month in advance, api_calls 0.05 EUR; `support`: 50.00
    EUR a month in arrears. Both from Jan 1 2024 (UTC); `seat` is terminated on Feb 10 15:00."""
    vat(api)
    calls = metric(api, "api_calls")
    plan(api, "seat", 3100, pay_in_advance=True, per_unit={calls: "0.05"})
    plan(api, "support", 5000)
    customer(api)
    subscribe(api, clock, utc(2024, 1, 1), "seat", external_id="sub_seat")
    subscribe(api, clock, utc(2024, 1, 1, 6), "support", external_id="sub_support")
    event(api, clock, utc(2024, 1, 20), "api_calls", 100, external_id="sub_seat")
    bill(container, clock, utc(2024, 2, 1))
    event(api, clock, utc(2024, 2, 5), "api_calls", 40, external_id="sub_seat")
    clock.set(utc(2024, 2, 10, 15))
    r = api.delete("/api/v1/subscriptions/sub_seat")
    assert r.status_code == 200, r.text
    assert r.json()["subscription"]["status"] == "terminated"
    bill(container, clock, utc(2024, 3, 1))
    bill(container, clock, utc(2024, 4, 1))

    jan1, feb1, feb11 = utc(2024, 1, 1), utc(2024, 2, 1), utc(2024, 2, 11)
    mar1, apr1 = utc(2024, 3, 1), utc(2024, 4, 1)
    found = invoices(api)
    feb_seat = found[1]
    notes = api.get("/api/v1/credit_notes").json()["credit_notes"]
    # Unused prepaid days of February (29 days; the termination day Feb 10 counts as used):
    # Feb 11–29 = 19/29 × 3100 = 2031.03 → 2031; VAT 20 % → 406.2 → 406; total 2437, all
    # credited, on the Feb 1 seat invoice; consumed by the next invoice (support, Mar 1).
    assert [
        (
            n["reason"],
            n["lago_invoice_id"],
            n["sub_total_excluding_taxes_amount_cents"],
            n["taxes_amount_cents"],
            n["total_amount_cents"],
            n["credit_amount_cents"],
            n["refund_amount_cents"],
            n["balance_amount_cents"],
            n["credit_status"],
            n["issuing_date"],
        )
        for n in notes
    ] == [
        ("order_change", feb_seat["lago_id"], 2031, 406, 2437, 2437, 0, 0, "consumed", "2024-02-10")
    ]
    assert [summary(i) for i in found] == [
        # seat at the start: January 3100; VAT 620.
        invoice(
            1,
            issued="2024-01-01",
            sub="sub_seat",
            plan_code="seat",
            reason="subscription_starting",
            fees=[sub_fee("seat", 3100, jan1, feb1, taxes=620)],
            taxes=620,
        ),
        # seat, Feb 1: February in advance 3100 + January usage 100 × 0.05 = 500;
        # VAT 20 % of 3600 = 720 (620 + 100).
        invoice(
            2,
            issued="2024-02-01",
            sub="sub_seat",
            plan_code="seat",
            fees=[
                sub_fee("seat", 3100, feb1, mar1, taxes=620),
                charge_fee("api_calls", 100, 500, jan1, feb1, taxes=100),
            ],
            taxes=720,
        ),
        # support, Feb 1: January 5000; VAT 1000.
        invoice(
            3,
            issued="2024-02-01",
            sub="sub_support",
            plan_code="support",
            fees=[sub_fee("support", 5000, jan1, feb1, taxes=1000)],
            taxes=1000,
        ),
        # seat's final invoice at the termination: no fee (prepaid), usage Feb 1–10 (the
        # termination day included): 40 × 0.05 = 200; VAT 40.
        invoice(
            4,
            issued="2024-02-10",
            sub="sub_seat",
            plan_code="seat",
            reason="subscription_terminating",
            fees=[charge_fee("api_calls", 40, 200, feb1, feb11, taxes=40)],
            taxes=40,
        ),
        # support, Mar 1: February 5000 + VAT 1000 = 6000, minus the credit note 2437 = 3563.
        invoice(
            5,
            issued="2024-03-01",
            sub="sub_support",
            plan_code="support",
            fees=[sub_fee("support", 5000, feb1, mar1, taxes=1000)],
            taxes=1000,
            credit_notes=2437,
        ),
        # support, Apr 1: March 5000 + 1000; the credit note is used up.
        invoice(
            6,
            issued="2024-04-01",
            sub="sub_support",
            plan_code="support",
            fees=[sub_fee("support", 5000, mar1, apr1, taxes=1000)],
            taxes=1000,
        ),
    ]
