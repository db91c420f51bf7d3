"""Adding and voiding credits inside a unit of work: the ledger rows, and the `credit` invoice
a purchase produces (Lago: paid credits are invoiced, never taxed — an advance payment).

Purchased credits are `pending` until their credit invoice is paid (`wallet_payments`) when the
wallet (or the transaction) requires a successful payment; otherwise they are `settled` at once.
Granted credits are settled at once and invoice nothing. Voids are settled at once and may not
take more credits than the wallet holds. No commit here.
"""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from decimal import Decimal
from uuid import UUID

from releve.domain.money import minor_to_major
from releve.domain.periods import local_date
from releve.services import webhooks
from releve.services.billing_invoice import invoice_number
from releve.services.billing_records import (
    INVOICE_DRAFT,
    INVOICE_FINALIZED,
    PAYMENT_PENDING,
    PAYMENT_SUCCEEDED,
    Fee,
    Invoice,
)
from releve.services.errors import ValidationFailed
from releve.services.records import Customer
from releve.services.subscriptions import customer_timezone
from releve.services.wallet_input import TopUp
from releve.services.wallet_ledger import Movement, inbound, outbound_credits
from releve.services.wallet_records import (
    GRANTED,
    INBOUND,
    OUTBOUND,
    PURCHASED,
    SOURCE_MANUAL,
    TX_PENDING,
    TX_SETTLED,
    VOIDED,
    StoredWallet,
    WalletTransaction,
    WalletUnitOfWork,
)


def record(
    uow: WalletUnitOfWork,
    wallet: StoredWallet,
    movement: Movement,
    *,
    kind: str,
    transaction_status: str,
    now: datetime,
    status: str = TX_SETTLED,
    source: str = SOURCE_MANUAL,
    invoice_id: UUID | None = None,
    requires_payment: bool = False,
    name: str | None = None,
) -> WalletTransaction:
    """Append one ledger row and announce it (`wallet_transaction.created`)."""
    transaction = WalletTransaction(
        id=uuid.uuid4(),
        organization_id=wallet.organization_id,
        wallet_id=wallet.id,
        transaction_type=kind,
        transaction_status=transaction_status,
        status=status,
        source=source,
        amount_cents=movement.amount_cents,
        granted_amount_cents=movement.granted_amount_cents,
        credit_amount=movement.credit_amount,
        invoice_requires_successful_payment=requires_payment,
        created_at=now,
        invoice_id=invoice_id,
        name=name,
        settled_at=now if status == TX_SETTLED else None,
    )
    uow.wallets.add_transaction(transaction)
    webhooks.emit(
        uow,
        wallet.organization_id,
        "wallet_transaction.created",
        "wallet_transaction",
        object_id=str(transaction.id),
    )
    return transaction


def apply_top_up(
    uow: WalletUnitOfWork, wallet: StoredWallet, customer: Customer, top_up: TopUp, now: datetime
) -> list[WalletTransaction]:
    """Purchased, then granted credits in, then voided credits out (Lago's order)."""
    created = []
    requires = (
        wallet.invoice_requires_successful_payment
        if top_up.invoice_requires_successful_payment is None
        else top_up.invoice_requires_successful_payment
    )
    if top_up.paid_credits > 0:
        movement = inbound(top_up.paid_credits, wallet.rate_amount, wallet.currency, granted=False)
        transaction_id = uuid.uuid4()
        invoice = None
        if movement.amount_cents > 0:
            invoice = credit_invoice(uow, wallet, customer, transaction_id, movement, now)
        pending = requires and invoice is not None and invoice.payment_status != PAYMENT_SUCCEEDED
        transaction = record(
            uow,
            wallet,
            movement,
            kind=INBOUND,
            transaction_status=PURCHASED,
            now=now,
            status=TX_PENDING if pending else TX_SETTLED,
            invoice_id=invoice.id if invoice else None,
            requires_payment=requires,
            name=top_up.name,
        )
        created.append(transaction)
    if top_up.granted_credits > 0:
        movement = inbound(
            top_up.granted_credits, wallet.rate_amount, wallet.currency, granted=True
        )
        created.append(
            record(
                uow, wallet, movement, kind=INBOUND, transaction_status=GRANTED, now=now,
                name=top_up.name,
            )
        )  # fmt: skip
    if top_up.voided_credits > 0:
        balance = uow.wallets.balances([wallet.id])[wallet.id]
        if top_up.voided_credits > balance.credits:
            raise ValidationFailed.one("voided_credits", "insufficient_credits")
        movement = outbound_credits(
            balance, top_up.voided_credits, wallet.rate_amount, wallet.currency
        )
        created.append(
            record(
                uow, wallet, movement, kind=OUTBOUND, transaction_status=VOIDED, now=now,
                name=top_up.name,
            )
        )  # fmt: skip
    return created


def credit_invoice(
    uow: WalletUnitOfWork,
    wallet: StoredWallet,
    customer: Customer,
    transaction_id: UUID,
    movement: Movement,
    now: datetime,
) -> Invoice:
    """The finalized, numbered `credit` invoice of a purchase: one untaxed `credit` fee of
    `credits × rate_amount` (rounded half-up once), payment pending."""
    organization = uow.organizations.get(wallet.organization_id)
    assert organization is not None
    tz = customer_timezone(uow, wallet.organization_id, customer)
    issuing_date = local_date(now, tz)
    term = (
        customer.net_payment_term
        if customer.net_payment_term is not None
        else organization.net_payment_term
    )
    cents = movement.amount_cents
    zero = Decimal(0)
    invoice = Invoice(
        id=uuid.uuid4(),
        organization_id=wallet.organization_id,
        customer_id=customer.id,
        invoice_type="credit",
        status=INVOICE_DRAFT,
        payment_status=PAYMENT_PENDING,
        currency=wallet.currency.code,
        issuing_date=issuing_date,
        payment_due_date=issuing_date + timedelta(days=term),
        net_payment_term=term,
        fees_amount_cents=cents,
        coupons_amount_cents=0,
        progressive_billing_credit_amount_cents=0,
        sub_total_excluding_taxes_amount_cents=cents,
        taxes_amount_cents=0,
        sub_total_including_taxes_amount_cents=cents,
        credit_notes_amount_cents=0,
        prepaid_credit_amount_cents=0,
        prepaid_granted_credit_amount_cents=0,
        prepaid_purchased_credit_amount_cents=0,
        total_amount_cents=cents,
        taxes_rate=zero,
        created_at=now,
        updated_at=now,
    )
    credits = movement.credit_amount
    fee = Fee(
        id=uuid.uuid4(),
        organization_id=wallet.organization_id,
        invoice_id=invoice.id,
        position=0,
        fee_type="credit",
        item_type="WalletTransaction",
        item_code="credit",
        item_name=wallet.name or "Prepaid credits",
        item_id=str(transaction_id),
        amount_cents=cents,
        amount_currency=wallet.currency.code,
        precise_amount=credits * wallet.rate_amount,
        progressive_billing_credit_amount_cents=0,
        coupons_amount_cents=0,
        sub_total_excluding_taxes_amount_cents=cents,
        taxes_amount_cents=0,
        taxes_precise_amount=zero,
        taxes_rate=zero,
        total_amount_cents=cents,
        units=credits,
        total_aggregated_units=credits,
        events_count=0,
        precise_unit_amount=wallet.rate_amount,
        from_datetime=now,
        to_datetime=now,
        explanation=(
            f"{credits} credits × {wallet.rate_amount} {wallet.currency.code} = "
            f"{minor_to_major(cents, wallet.currency)} {wallet.currency.code} (not taxed)"
        ),
        payment_status=PAYMENT_PENDING,
        created_at=now,
    )
    # Stored as a draft with its fee, then numbered and finalized in the same transaction (the
    # immutability triggers of migration 0003 accept lines only on drafts).
    uow.invoices.add(invoice, [], [fee], [])
    invoice.sequential_id = uow.invoices.next_sequential_id(organization.id)
    invoice.number = invoice_number(organization, invoice.sequential_id)
    invoice.status = INVOICE_FINALIZED
    invoice.finalized_at = now
    uow.invoices.update(invoice)
    webhooks.emit(
        uow,
        invoice.organization_id,
        "invoice.paid_credit_added",
        "invoice",
        object_id=str(invoice.id),
    )
    return invoice
