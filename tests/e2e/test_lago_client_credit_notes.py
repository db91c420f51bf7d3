"""The official lago-python-client estimates, issues, reads, updates and voids credit notes.

Plan: 100.00 EUR a month paid in advance, VAT 20 % applied to the organization; the start
invoice is 100.00 + 20.00 = 120.00, paid. One credit note on 10.00 of its subscription fee:
VAT 20 % × 1000 = 200, total 1200 = 700 credit + 500 refund.
"""

from __future__ import annotations

import warnings

import pytest

from tests.e2e.conftest import Server

with warnings.catch_warnings():
    # The client imports pydantic.v1, which warns on import under pydantic 2; not our code.
    warnings.simplefilter("ignore")
    from lago_python_client.client import Client
    from lago_python_client.exceptions import LagoApiError
    from lago_python_client.models import Customer, Plan, Subscription, Tax
    from lago_python_client.models.credit_note import (
        CreditNote,
        CreditNoteEstimate,
        CreditNoteUpdate,
        Item,
        Items,
    )
    from lago_python_client.models.invoice import Invoice

pytestmark = [pytest.mark.e2e, pytest.mark.store]


def test_credit_note_lifecycle_through_the_client(server: Server) -> None:
    client = Client(api_key=server.api_key, api_url=server.url)
    client.taxes.create(Tax(name="VAT", code="vat", rate=20.0, applied_to_organization=True))
    client.plans.create(
        Plan(
            name="Pro",
            code="pro",
            interval="monthly",
            amount_cents=10000,
            amount_currency="EUR",
            pay_in_advance=True,
        )
    )
    client.customers.create(Customer(external_id="cus_cn", name="Credit", currency="EUR"))
    client.subscriptions.create(
        Subscription(external_customer_id="cus_cn", plan_code="pro", external_id="sub_cn")
    )
    (invoice,) = client.invoices.find_all({"external_customer_id": "cus_cn"})["invoices"]
    assert invoice.total_amount_cents is not None and invoice.fees is not None
    client.invoices.update(Invoice(payment_status="succeeded"), invoice.lago_id)
    fee = invoice.fees.__root__[0]
    items = Items(__root__=[Item(fee_id=fee.lago_id, amount_cents=1000)])

    estimate = client.credit_notes.estimate(
        CreditNoteEstimate(invoice_id=invoice.lago_id, items=items)
    )
    assert (
        estimate.sub_total_excluding_taxes_amount_cents,
        estimate.taxes_amount_cents,
        estimate.max_creditable_amount_cents,
        estimate.max_refundable_amount_cents,
    ) == (1000, 200, 1200, 1200)

    note = client.credit_notes.create(
        CreditNote(
            invoice_id=invoice.lago_id,
            reason="product_unsatisfactory",
            description="late delivery",
            credit_amount_cents=700,
            refund_amount_cents=500,
            items=items,
        )
    )
    assert note is not None
    assert (note.total_amount_cents, note.credit_amount_cents, note.balance_amount_cents) == (
        1200,
        700,
        700,
    )
    assert (note.credit_status, note.refund_status) == ("available", "pending")
    assert note.number == f"{invoice.number}-CN1"
    assert note.items is not None and note.items.__root__[0].amount_cents == 1000

    found = client.credit_notes.find(note.lago_id)
    assert found is not None and found.taxes_amount_cents == 200
    listing = client.credit_notes.find_all({"external_customer_id": "cus_cn"})
    assert [n.lago_id for n in listing["credit_notes"]] == [note.lago_id]

    updated = client.credit_notes.update(CreditNoteUpdate(refund_status="succeeded"), note.lago_id)
    assert updated is not None and updated.refund_status == "succeeded"

    voided = client.credit_notes.void(note.lago_id)
    assert (voided.credit_status, voided.balance_amount_cents) == ("voided", 0)

    with pytest.raises(LagoApiError) as refused:
        client.credit_notes.create(
            CreditNote(
                invoice_id=invoice.lago_id,
                reason="other",
                credit_amount_cents=12000,
                items=Items(__root__=[Item(fee_id=fee.lago_id, amount_cents=10000)]),
            )
        )
    assert refused.value.status_code == 422
