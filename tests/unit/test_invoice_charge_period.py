"""`invoice_charge_period`: the charge period pricing reads usage for before assembling once
(the bill run no longer assembles a first time with no usage to learn it)."""

from __future__ import annotations

from datetime import datetime

import pytest

from releve.domain.billing.period_invoice import (
    InvoiceKind,
    assemble_period_invoice,
    invoice_charge_period,
)
from releve.domain.periods import Interval, Period
from tests.unit.test_billing_factories import charge, plan, utc
from tests.unit.test_billing_period_invoice import sub


@pytest.mark.parametrize(
    ("interval", "monthly", "advance", "kind", "at", "expected"),
    [
        # monthly in arrears, started Jan 10: Jan 10 – Feb 1
        (Interval.MONTHLY, False, False, InvoiceKind.PERIOD_END, utc(2026, 2, 1),
         Period(utc(2026, 1, 10), utc(2026, 2, 1))),
        (Interval.MONTHLY, False, False, InvoiceKind.PERIOD_END, utc(2026, 3, 1),
         Period(utc(2026, 2, 1), utc(2026, 3, 1))),
        # yearly plan, charges billed monthly: the month just ended
        (Interval.YEARLY, True, False, InvoiceKind.PERIOD_END, utc(2026, 6, 1),
         Period(utc(2026, 5, 1), utc(2026, 6, 1))),
        # the START invoice of an in-advance plan bills no usage
        (Interval.MONTHLY, False, True, InvoiceKind.START, utc(2026, 1, 10), None),
    ],
)  # fmt: skip
def test_it_is_the_assembled_invoices_charge_period(
    interval: Interval,
    monthly: bool,
    advance: bool,
    kind: InvoiceKind,
    at: datetime,
    expected: Period | None,
) -> None:
    p = plan(
        10000,
        interval=interval,
        bill_charges_monthly=monthly,
        pay_in_advance=advance,
        charges=(charge(),),
    )
    s = sub(p, utc(2026, 1, 10))
    found = invoice_charge_period(s, kind, at)
    assembled = assemble_period_invoice(s, kind, at, usage={}, finalizing=True)
    if expected is None:
        assert found is None or found.is_empty
    else:
        assert found == expected
    assert found == assembled.charges_period
