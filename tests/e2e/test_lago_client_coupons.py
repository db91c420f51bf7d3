"""The official lago-python-client drives coupons, applied coupons, add-ons and a one-off
invoice against a real `releve serve`.

One-off invoice: setup add-on 2 × 12.50 EUR = 25.00 EUR, VAT 20 % (the add-on's tax) = 5.00 EUR,
total 30.00 EUR (3000 cents).
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
    from lago_python_client.models import AddOn, AppliedCoupon, Coupon, Customer, Tax
    from lago_python_client.models.invoice import InvoiceFee, InvoiceFeesList, OneOffInvoice

pytestmark = [pytest.mark.e2e, pytest.mark.store]


def test_coupons_applied_coupons_add_ons_and_a_one_off_invoice(server: Server) -> None:
    client = Client(api_key=server.api_key, api_url=server.url)
    client.customers.create(Customer(external_id="cus_e2e", name="E2E", currency="EUR"))

    created = client.coupons.create(
        Coupon(
            name="Welcome",
            code="welcome",
            coupon_type="fixed_amount",
            amount_cents=1000,
            amount_currency="EUR",
            frequency="once",
            reusable=False,
            expiration="no_expiration",
        )
    )
    assert created.code == "welcome" and created.amount_cents == 1000
    assert client.coupons.find("welcome").lago_id == created.lago_id
    assert [c.code for c in client.coupons.find_all()["coupons"]] == ["welcome"]
    updated = client.coupons.update(Coupon(name="Hello"), "welcome")
    assert updated.name == "Hello"

    applied = client.applied_coupons.create(
        AppliedCoupon(external_customer_id="cus_e2e", coupon_code="welcome", amount_cents=800)
    )
    assert (applied.amount_cents_remaining, applied.status) == (800, "active")
    listed = client.applied_coupons.find_all({"external_customer_id": "cus_e2e"})
    assert [a.lago_id for a in listed["applied_coupons"]] == [applied.lago_id]
    with pytest.raises(LagoApiError) as refused:
        client.applied_coupons.create(
            AppliedCoupon(external_customer_id="cus_e2e", coupon_code="welcome")
        )
    assert refused.value.status_code == 422

    destroyed = client.coupons.destroy("welcome")
    assert destroyed.terminated_at is not None
    with pytest.raises(LagoApiError) as gone:
        client.coupons.find("welcome")
    assert gone.value.status_code == 404

    client.taxes.create(Tax(name="VAT", code="vat", rate="20"))
    add_on = client.add_ons.create(
        AddOn(
            name="Setup", code="setup", amount_cents=1250, amount_currency="EUR", tax_codes=["vat"]
        )
    )
    assert add_on.code == "setup" and add_on.taxes.__root__[0].code == "vat"
    assert client.add_ons.find("setup").lago_id == add_on.lago_id
    assert [a.code for a in client.add_ons.find_all()["add_ons"]] == ["setup"]
    assert client.add_ons.update(AddOn(name="Set-up"), "setup").name == "Set-up"

    invoice = client.invoices.create(
        OneOffInvoice(
            external_customer_id="cus_e2e",
            currency="EUR",
            fees=InvoiceFeesList(__root__=[InvoiceFee(add_on_code="setup", units=2)]),
        )
    )
    assert invoice.invoice_type == "one_off" and invoice.status == "finalized"
    # 2 × 1250 = 2500; VAT 20 % = 500; total 3000 (no coupon on one-off invoices)
    assert (invoice.fees_amount_cents, invoice.taxes_amount_cents) == (2500, 500)
    assert (invoice.coupons_amount_cents, invoice.total_amount_cents) == (0, 3000)
    assert client.invoices.find(invoice.lago_id).number == invoice.number
    assert client.add_ons.destroy("setup").code == "setup"
