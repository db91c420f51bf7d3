"""The portal's money pages: a wallet's movements (paged) and the customer's credit notes.

The link names one customer (`portal._verify`); a wallet or credit note is looked up with that
customer's ids (`services.customer_money`), so another customer's id in the path — of this
organization or another — is the same 404 page as an id that does not exist.
`money_section` is the view data of the main portal page's credit-note and wallet sections.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response

from releve.bootstrap import Container
from releve.entrypoints.web.formatting import Formatter
from releve.entrypoints.web.security import ContainerDep
from releve.entrypoints.web.templating import render
from releve.entrypoints.web.views import pager
from releve.services.customer_money import CreditNoteRow, WalletPanel
from releve.services.errors import NotFound
from releve.services.pagination import Page, PageRequest
from releve.services.records import Customer

router = APIRouter(include_in_schema=False)
CREDIT_NOTES_PER_PAGE = 20
MOVEMENTS_PER_PAGE = 25


@dataclass(frozen=True, slots=True)
class MoneySection:
    wallets: list[WalletPanel]
    credit_notes: Page[CreditNoteRow]


def money_section(c: Container, customer: Customer) -> MoneySection:
    """What the main portal page shows of the customer's wallets and credit notes."""
    money = c.customer_money
    return MoneySection(
        money.wallets(customer), money.credit_notes(customer, PageRequest(1, CREDIT_NOTES_PER_PAGE))
    )


def _portal() -> Any:
    # portal.py imports `money_section` from here: its link checks are imported when used.
    from releve.entrypoints.web import portal

    return portal


def _not_found(request: Request, fmt: Formatter, what: str) -> Response:
    return render(
        request,
        "portal/error.html",
        status_code=404,
        fmt=fmt,
        title=f"{what.capitalize()} not found",
        message=f"This {what} does not exist or is not available here.",
    )


@router.get("/portal/{token}/wallets/{wallet_id}")
def portal_wallet(
    request: Request, token: str, wallet_id: str, c: ContainerDep, page: int = 1
) -> Response:
    verified = _portal()._verify(request, c, token)
    if isinstance(verified, Response):
        return verified
    customer, organization = verified
    fmt = _portal()._formatter(request, customer, organization)
    try:
        panel = next(
            p for p in c.customer_money.wallets(customer) if str(p.view.wallet.id) == wallet_id
        )
        movements = c.customer_money.movements(
            customer, wallet_id, PageRequest(max(page, 1), MOVEMENTS_PER_PAGE)
        )
    except (StopIteration, NotFound):
        return _not_found(request, fmt, "wallet")
    return render(
        request,
        "portal/wallet.html",
        fmt=fmt,
        customer=customer,
        organization=organization,
        panel=panel,
        movements=movements,
        pager=pager(movements),
        token=token,
    )


@router.get("/portal/{token}/credit-notes")
def portal_credit_notes(request: Request, token: str, c: ContainerDep, page: int = 1) -> Response:
    verified = _portal()._verify(request, c, token)
    if isinstance(verified, Response):
        return verified
    customer, organization = verified
    notes = c.customer_money.credit_notes(
        customer, PageRequest(max(page, 1), CREDIT_NOTES_PER_PAGE)
    )
    return render(
        request,
        "portal/credit_notes.html",
        fmt=_portal()._formatter(request, customer, organization),
        customer=customer,
        organization=organization,
        notes=notes,
        pager=pager(notes),
        token=token,
    )
