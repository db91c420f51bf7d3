"""The money sections of the dashboard's customer page: wallets (balances, ongoing balance,
a Top up link), credit notes and applied coupons, from the same reads as the portal and API."""

from __future__ import annotations

from dataclasses import dataclass

from releve.bootstrap import Container
from releve.services.coupons import AppliedCouponView
from releve.services.customer_money import CreditNoteRow, WalletPanel
from releve.services.pagination import Page, PageRequest
from releve.services.records import Customer

CREDIT_NOTES = 20
APPLIED_COUPONS = 50


@dataclass(frozen=True, slots=True)
class CustomerMoney:
    wallets: list[WalletPanel]
    credit_notes: Page[CreditNoteRow]
    coupons: list[AppliedCouponView]


def customer_money(c: Container, customer: Customer) -> CustomerMoney:
    org_id = customer.organization_id
    coupons = c.coupons.list_applied(
        org_id, PageRequest(1, APPLIED_COUPONS), external_customer_id=customer.external_id
    )
    return CustomerMoney(
        c.customer_money.wallets(customer),
        c.customer_money.credit_notes(customer, PageRequest(1, CREDIT_NOTES)),
        list(coupons.items),
    )
