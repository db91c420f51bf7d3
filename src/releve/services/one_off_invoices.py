"""One-off invoices (Lago's POST /invoices): add-on fees billed at once, outside any period.

Each fee: `units` (Decimal ≥ 0, default 1) × `unit_amount_cents` (minor units, Decimal allowed,
default the add-on's price), rounded once half-up to the minor unit. Taxes per fee: its
`tax_codes`, else the add-on's, else the organization's default taxes. Totals come from the
domain (`invoicing.compute_invoice_totals`) with no deductions: Lago applies no coupon, credit
note or prepaid credit to a one-off invoice.

Lago bills one-off invoices instantly: the invoice is finalized and numbered in the same unit
of work (gapless sequence), with no grace period — a draft would need a billed period to
refresh from, which a one-off invoice does not have. A zero total the customer skips is
`closed`, as any invoice. Webhook: `invoice.one_off_created`.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any
from uuid import UUID

from releve.domain.fee_lines import FeeLine, FeeType, TaxRate
from releve.domain.invoicing import (
    InvoiceTotals,
    ZeroAmountInvoicePolicy,
    compute_invoice_totals,
    finalize_zero_amount_invoice,
)
from releve.domain.money import Currency, minor_to_major
from releve.domain.periods import local_date
from releve.services import webhooks
from releve.services.billing_invoice import (
    applied_tax_rows,
    fee_amounts,
    invoice_number,
    invoice_row,
)
from releve.services.billing_queries import InvoiceQueries, InvoiceView
from releve.services.billing_records import (
    INVOICE_CLOSED,
    INVOICE_FINALIZED,
    Fee,
    Invoice,
)
from releve.services.coupon_records import (
    AddOn,
    AddOnFee,
    CouponUnitOfWork,
    CouponUnitOfWorkFactory,
)
from releve.services.errors import NotFound, ValidationFailed
from releve.services.ports import Clock, CurrencyCatalog
from releve.services.records import Customer, Organization, Tax
from releve.services.subscriptions import customer_timezone
from releve.services.transactions import retry_on_conflict
from releve.services.validation import Errors

FEE_FIELDS = (
    "add_on_code",
    "unit_amount_cents",
    "units",
    "description",
    "invoice_display_name",
    "tax_codes",
)


def _decimal(errors: Errors, name: str, value: Any) -> Decimal | None:
    if isinstance(value, bool) or not isinstance(value, int | Decimal | str):
        errors.add(name, "value_is_invalid")
        return None
    try:
        number = Decimal(value) if not isinstance(value, str) else Decimal(value.strip())
    except InvalidOperation:
        number = None
    if number is None or not number.is_finite() or number < 0:
        errors.add(name, "value_is_invalid")
        return None
    return number


def _fee_inputs(values: Mapping[str, Any]) -> list[dict[str, Any]]:
    errors = Errors()
    if (
        not isinstance(values.get("external_customer_id"), str)
        or not values["external_customer_id"]
    ):
        errors.add("external_customer_id", "value_is_mandatory")
    fees = values.get("fees")
    if not isinstance(fees, list) or not fees:
        errors.add("fees", "value_is_mandatory")
        raise ValidationFailed(errors.details)
    clean = []
    for i, fee in enumerate(fees):
        if not isinstance(fee, Mapping):
            errors.add(f"fees.{i}", "value_is_invalid")
            continue
        item: dict[str, Any] = {}
        if not isinstance(fee.get("add_on_code"), str) or not fee["add_on_code"]:
            errors.add(f"fees.{i}.add_on_code", "value_is_mandatory")
        item["add_on_code"] = fee.get("add_on_code")
        units = fee.get("units")
        item["units"] = Decimal(1) if units is None else _decimal(errors, f"fees.{i}.units", units)
        if fee.get("unit_amount_cents") is not None:
            item["unit_amount_cents"] = _decimal(
                errors, f"fees.{i}.unit_amount_cents", fee["unit_amount_cents"]
            )
        for name in ("description", "invoice_display_name"):
            if fee.get(name) is not None and not isinstance(fee[name], str):
                errors.add(f"fees.{i}.{name}", "value_is_invalid")
            item[name] = fee.get(name)
        codes = fee.get("tax_codes")
        if codes is not None and (
            not isinstance(codes, list) or not all(isinstance(c, str) for c in codes)
        ):
            errors.add(f"fees.{i}.tax_codes", "value_is_invalid")
        item["tax_codes"] = None if codes is None else list(dict.fromkeys(codes))
        clean.append(item)
    if errors:
        raise ValidationFailed(errors.details)
    return clean


def _taxes(
    uow: CouponUnitOfWork, org_id: UUID, codes: list[str] | None, add_on: AddOn, defaults: list[Tax]
) -> list[Tax]:
    chosen = codes if codes is not None else add_on.tax_codes
    if not chosen and codes is None:
        return defaults
    taxes = []
    for code in chosen:
        tax = uow.taxes.get(org_id, code)
        if tax is None:
            if codes is None:
                continue  # an add-on's tax deleted since: it no longer applies
            raise NotFound("tax")
        taxes.append(tax)
    return taxes


def create(
    uow_factory: CouponUnitOfWorkFactory,
    clock: Clock,
    currencies: CurrencyCatalog,
    organization_id: UUID,
    values: Mapping[str, Any],
) -> InvoiceView:
    """Create, number and finalize the invoice in one unit of work; its view."""
    inputs = _fee_inputs(values)

    def attempt() -> InvoiceView:
        now = clock.now()
        with uow_factory() as uow:
            organization = uow.organizations.get(organization_id)
            customer = uow.customers.get(organization_id, values["external_customer_id"])
            if organization is None or customer is None:
                raise NotFound("customer")
            add_ons = []
            for item in inputs:
                add_on = uow.add_ons.get(organization_id, item["add_on_code"])
                if add_on is None:
                    raise NotFound("add_on")
                add_ons.append(add_on)
            currency = _currency(uow, currencies, customer, values.get("currency"), add_ons[0], now)
            defaults = list(uow.taxes.applied_to_organization(organization_id))
            lines, taxes_by_code = [], {t.code: t for t in defaults}
            for position, (item, add_on) in enumerate(zip(inputs, add_ons, strict=True)):
                taxes = _taxes(uow, organization_id, item["tax_codes"], add_on, defaults)
                taxes_by_code.update({t.code: t for t in taxes})
                unit = item.get("unit_amount_cents", Decimal(add_on.amount_cents))
                exact_cents = item["units"] * unit
                lines.append(
                    FeeLine(
                        id=str(position),
                        fee_type=FeeType.ADD_ON,
                        amount_cents=int(
                            exact_cents.quantize(Decimal(1), rounding="ROUND_HALF_UP")
                        ),
                        currency=currency,
                        taxes=tuple(TaxRate(t.code, t.name, t.rate) for t in taxes),
                        precise_amount=minor_to_major(1, currency) * exact_cents,
                        units=item["units"],
                    )
                )
            totals = compute_invoice_totals(lines, currency, finalizing=True)
            invoice = _invoice(organization, customer, uow, totals, now)
            fees = _fees(invoice, inputs, add_ons, lines, totals, now)
            uow.invoices.add(
                invoice,
                [],
                fees,
                applied_tax_rows(invoice.organization_id, invoice.id, totals, taxes_by_code, now),
            )
            uow.add_ons.add_fees(
                [
                    AddOnFee(f.id, organization_id, invoice.id, a.id, item["description"])
                    for f, a, item in zip(fees, add_ons, inputs, strict=True)
                ]
            )
            policy = ZeroAmountInvoicePolicy(customer.finalize_zero_amount_invoice or "inherit")
            if finalize_zero_amount_invoice(
                invoice.total_amount_cents, policy, ZeroAmountInvoicePolicy.INHERIT
            ):
                invoice.sequential_id = uow.invoices.next_sequential_id(organization_id)
                invoice.number = invoice_number(organization, invoice.sequential_id)
                invoice.status = INVOICE_FINALIZED
                invoice.finalized_at = now
                webhooks.emit(
                    uow,
                    organization_id,
                    "invoice.one_off_created",
                    "invoice",
                    object_id=str(invoice.id),
                )
            else:
                invoice.status = INVOICE_CLOSED
            uow.invoices.update(invoice)
            view = InvoiceQueries(uow_factory, clock).views_in(uow, [invoice])[0]
            uow.commit()
        return view

    return retry_on_conflict(attempt)


def _currency(
    uow: CouponUnitOfWork,
    currencies: CurrencyCatalog,
    customer: Customer,
    sent: Any,
    first: AddOn,
    now: datetime,
) -> Currency:
    """The invoice currency: the one sent, else the customer's, else the first add-on's. It
    must match the customer's, which it sets when the customer has none (Lago)."""
    code = sent if sent is not None else customer.currency or first.amount_currency
    try:
        currency = currencies(code)
    except Exception:
        raise ValidationFailed.one("currency", "value_is_invalid") from None
    if customer.currency is not None and customer.currency != currency.code:
        raise ValidationFailed.one("currency", "currencies_does_not_match")
    if customer.currency is None:
        customer.currency = currency.code
        customer.updated_at = now
        uow.customers.update(customer)
    return currency


def _invoice(
    organization: Organization,
    customer: Customer,
    uow: CouponUnitOfWork,
    totals: InvoiceTotals,
    now: datetime,
) -> Invoice:
    """The invoice row, stored as a draft first: fees can only be added to a draft (0003)."""
    term = (
        customer.net_payment_term
        if customer.net_payment_term is not None
        else organization.net_payment_term
    )
    issuing_date = local_date(now, customer_timezone(uow, organization.id, customer))
    return invoice_row(
        invoice_id=uuid.uuid4(),
        organization_id=organization.id,
        customer_id=customer.id,
        invoice_type="one_off",
        totals=totals,
        issuing_date=issuing_date,
        net_payment_term=term,
        now=now,
    )


def _fees(
    invoice: Invoice,
    inputs: list[dict[str, Any]],
    add_ons: list[AddOn],
    lines: list[FeeLine],
    totals: InvoiceTotals,
    now: datetime,
) -> list[Fee]:
    currency = totals.currency
    fees = []
    for position, (item, add_on, line) in enumerate(zip(inputs, add_ons, lines, strict=True)):
        assert line.precise_amount is not None and line.units is not None
        unit = line.precise_amount / line.units if line.units else None
        fees.append(
            Fee(
                id=uuid.uuid4(),
                organization_id=invoice.organization_id,
                invoice_id=invoice.id,
                position=position,
                fee_type=FeeType.ADD_ON.value,
                item_type="AddOn",
                item_code=add_on.code,
                item_name=add_on.name,
                item_id=str(add_on.id),
                invoice_display_name=item["invoice_display_name"] or add_on.invoice_display_name,
                precise_amount=line.precise_amount,
                # No deductions on a one-off invoice: its progressive credit is always 0.
                **fee_amounts(totals.fee(line.id), line, currency),
                units=line.units,
                total_aggregated_units=line.units,
                events_count=0,
                precise_unit_amount=unit,
                from_datetime=now,
                to_datetime=now,
                explanation=(
                    f"{line.units} × {unit} {currency.code} = {line.precise_amount} "
                    f"{currency.code}, rounded half-up to {line.amount_cents} minor units"
                ),
                payment_status=invoice.payment_status,
                created_at=now,
            )
        )
    return fees
