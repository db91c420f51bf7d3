"""What an invoice PDF shows: a view model of strings built from the API's own `InvoiceView`.

Formatted with babel for the customer's locale (from its country, else en_US) and dates in its
time zone (else the organization's); the renderer only lays it out (`invoice_documents`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from uuid import UUID
from zoneinfo import ZoneInfo

from babel import Locale, UnknownLocaleError
from babel.dates import format_date, format_interval
from babel.numbers import format_currency, format_decimal, format_percent, get_currency_precision

from releve.services.billing_invoice import number_prefix
from releve.services.billing_queries import InvoiceView
from releve.services.billing_records import INVOICE_DRAFT, INVOICE_VOIDED
from releve.services.portal_view import DetailTable, detail_tables
from releve.services.records import Customer, Organization

DEFAULT_LOCALE = "en_US"
WATERMARKS = {INVOICE_DRAFT: "DRAFT", INVOICE_VOIDED: "VOID"}


# --- the view model --------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Party:
    name: str
    lines: tuple[str, ...]  # address, e-mail, tax number: already formatted


@dataclass(frozen=True, slots=True)
class DocumentTable:
    columns: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]


@dataclass(frozen=True, slots=True)
class DocumentLine:
    name: str
    explanation: str
    period: str
    units: str
    unit_price: str
    amount: str
    tables: tuple[DocumentTable, ...]


@dataclass(frozen=True, slots=True)
class DocumentTotal:
    label: str
    amount: str
    emphasis: bool = False


@dataclass(frozen=True, slots=True)
class InvoiceDocument:
    invoice_id: UUID
    number: str
    status: str
    watermark: str | None
    locale: str
    issuer: Party
    customer: Party
    facts: tuple[tuple[str, str], ...]
    lines: tuple[DocumentLine, ...]
    totals: tuple[DocumentTotal, ...]

    @property
    def language(self) -> str:
        return self.locale.split("_")[0]


@dataclass(frozen=True, slots=True)
class InvoicePdf:
    number: str
    status: str
    content: bytes

    @property
    def filename(self) -> str:
        return f"{self.number}.pdf"


def document_locale(customer: Customer) -> str:
    """The most likely locale of the customer's country (FR → fr_FR), else en_US."""
    country = customer.country
    if country and len(country) == 2 and country.isalpha():
        try:
            return str(Locale.parse(f"und_{country.upper()}"))
        except (UnknownLocaleError, ValueError):
            pass
    return DEFAULT_LOCALE


def readable_unit_price(amount: Decimal, currency: str) -> tuple[Decimal, bool]:
    """A fee's average unit price (amount ÷ units) for reading: itself when short (0.0005),
    else six significant digits, at least the minor unit (49 € × 6/31 has no end); True when
    rounded. The exact value stays in the API's precise_unit_amount."""
    if not amount.is_finite() or amount.is_zero():
        return amount, False
    places = max(5 - amount.adjusted(), get_currency_precision(currency))
    rounded = amount.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)
    if rounded == amount:
        return amount, False
    return (rounded.normalize() if rounded.normalize().as_tuple().exponent < 0 else rounded), True


class _Format:
    def __init__(self, locale: str, zone: ZoneInfo) -> None:
        self.locale = locale
        self.zone = zone

    def money(self, cents: int, currency: str) -> str:
        exponent = get_currency_precision(currency)
        return format_currency(Decimal(cents).scaleb(-exponent), currency, locale=self.locale)

    def unit_price(self, amount: Decimal | None, currency: str) -> str:
        if amount is None:
            return ""
        return format_currency(amount, currency, locale=self.locale, decimal_quantization=False)

    def average_unit_price(self, amount: Decimal | None, currency: str) -> str:
        if amount is None:
            return ""
        shown, rounded = readable_unit_price(amount, currency)
        return ("≈ " if rounded else "") + self.unit_price(shown, currency)

    def quantity(self, value: Decimal) -> str:
        return format_decimal(value, format="#,##0.####", locale=self.locale)

    def detail(self, value: object, kind: str, currency: str) -> str:
        """A cell of an `amount_details` table; `kind` (portal_view) says how it reads:
        prices at full precision, amounts in the currency, units as quantities."""
        if value is None:
            return "—"
        try:
            number = Decimal(str(value))
        except InvalidOperation:
            return str(value)
        if not number.is_finite():
            return str(value)
        if kind == "price":
            return self.unit_price(number, currency)
        if kind == "amount":
            return format_currency(number, currency, locale=self.locale)
        return format_decimal(number, locale=self.locale, decimal_quantization=False)

    def day(self, value: date | datetime) -> str:
        if isinstance(value, datetime):
            value = value.astimezone(self.zone).date()
        return format_date(value, format="medium", locale=self.locale)

    def span(self, start: datetime, end: datetime) -> str:
        """A half-open period [start, end) as its first and last local days."""
        first = start.astimezone(self.zone).date()
        last = max(end - timedelta(microseconds=1), start).astimezone(self.zone).date()
        if first == last:
            return self.day(first)
        return format_interval(first, last, skeleton="yMMMd", locale=self.locale)


def _customer_party(customer: Customer) -> Party:
    person = " ".join(p for p in (customer.firstname, customer.lastname) if p)
    name = customer.legal_name or customer.name or person or customer.external_id
    city = " ".join(p for p in (customer.zipcode, customer.city) if p)
    lines = [
        customer.name if customer.legal_name and customer.name != customer.legal_name else None,
        customer.address_line1,
        customer.address_line2,
        ", ".join(p for p in (city, customer.state) if p) or None,
        _country_name(customer.country),
        customer.email,
        f"Tax ID: {customer.tax_identification_number}"
        if customer.tax_identification_number
        else None,
        f"Customer ID: {customer.external_id}",
    ]
    return Party(name, tuple(line for line in lines if line))


def _country_name(country: str | None) -> str | None:
    if not country:
        return None
    try:
        return str(Locale.parse(DEFAULT_LOCALE).territories.get(country.upper(), country))
    except (UnknownLocaleError, ValueError):
        return country


def build_document(view: InvoiceView) -> InvoiceDocument:
    """`view` as strings to lay out: fees with their explanation, then the invoice's totals in
    Lago's order (fees → progressive credits → coupons → taxes → credit notes → prepaid)."""
    invoice, customer, organization = view.invoice, view.customer, view.organization
    locale = document_locale(customer)
    fmt = _Format(locale, ZoneInfo(customer.timezone or organization.timezone or "UTC"))
    currency = invoice.currency
    number = invoice.number or f"{number_prefix(organization)}-DRAFT"
    periods = [
        fmt.span(b.link.from_datetime, b.link.to_datetime)
        for b in view.subscriptions
        if b.link.from_datetime is not None and b.link.to_datetime is not None
    ]
    facts = [
        ("Invoice number", number),
        ("Issuing date", fmt.day(invoice.issuing_date)),
        ("Payment due date", fmt.day(invoice.payment_due_date)),
    ]
    facts += [("Period", p) for p in dict.fromkeys(periods)]
    facts.append(("Currency", currency))
    lines = []
    for fee in view.fees:
        tables = tuple(
            DocumentTable(
                t.columns,
                tuple(
                    tuple(fmt.detail(v, k, currency) for v, k in zip(r, _kinds(t), strict=True))
                    for r in t.rows
                ),
            )
            for t in detail_tables(fee.amount_details)
        )
        # With tiers the average unit price explains nothing: the tier rows do.
        tiered = any(len(t.rows) > 1 and t.columns[0] != "What" for t in tables)
        lines.append(
            DocumentLine(
                name=fee.invoice_display_name or fee.item_name,
                explanation=fee.explanation,
                period=fmt.span(fee.from_datetime, fee.to_datetime),
                units=fmt.quantity(fee.units),
                unit_price=""
                if tiered
                else fmt.average_unit_price(fee.precise_unit_amount, currency),
                amount=fmt.money(fee.amount_cents, currency),
                tables=tables,
            )
        )
    return InvoiceDocument(
        invoice_id=invoice.id,
        number=number,
        status=invoice.status,
        watermark=WATERMARKS.get(invoice.status),
        locale=locale,
        issuer=_issuer(organization),
        customer=_customer_party(customer),
        facts=tuple(facts),
        lines=tuple(lines),
        totals=_totals(view, fmt),
    )


def _kinds(table: DetailTable) -> tuple[str, ...]:
    return table.kinds if len(table.kinds) == len(table.columns) else ("",) * len(table.columns)


def _issuer(organization: Organization) -> Party:
    return Party(organization.name, ())


def _totals(view: InvoiceView, fmt: _Format) -> tuple[DocumentTotal, ...]:
    i, cur = view.invoice, view.invoice.currency

    def minus(cents: int) -> str:
        return fmt.money(-cents, cur)

    totals = [DocumentTotal("Fees", fmt.money(i.fees_amount_cents, cur))]
    if i.progressive_billing_credit_amount_cents:
        totals.append(
            DocumentTotal("Usage already billed", minus(i.progressive_billing_credit_amount_cents))
        )
    if i.coupons_amount_cents:
        totals.append(DocumentTotal("Coupons", minus(i.coupons_amount_cents)))
    totals.append(
        DocumentTotal(
            "Subtotal excluding taxes", fmt.money(i.sub_total_excluding_taxes_amount_cents, cur)
        )
    )
    for tax in view.applied_taxes:
        rate = format_percent(tax.tax_rate / 100, locale=fmt.locale, decimal_quantization=False)
        base = fmt.money(tax.base_amount_cents, cur)
        totals.append(
            DocumentTotal(f"{tax.tax_name} {rate} of {base}", fmt.money(tax.amount_cents, cur))
        )
    if not view.applied_taxes:
        totals.append(DocumentTotal("Taxes", fmt.money(i.taxes_amount_cents, cur)))
    totals.append(
        DocumentTotal(
            "Subtotal including taxes", fmt.money(i.sub_total_including_taxes_amount_cents, cur)
        )
    )
    if i.credit_notes_amount_cents:
        totals.append(DocumentTotal("Credit notes", minus(i.credit_notes_amount_cents)))
    if i.prepaid_credit_amount_cents:
        totals.append(DocumentTotal("Prepaid credits", minus(i.prepaid_credit_amount_cents)))
    totals.append(DocumentTotal("Total due", fmt.money(i.total_amount_cents, cur), True))
    return tuple(totals)
