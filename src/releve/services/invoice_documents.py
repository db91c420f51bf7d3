"""Invoice documents: the PDF of an invoice, its cache, and the signed link that serves it.

- The document is a view model of strings (`InvoiceDocument`) built from the API's own
  `InvoiceView`, formatted with babel for the customer's locale (from its country, else en_US)
  and dates in its time zone (else the organization's). The renderer only lays it out.
- Finalized and voided invoices are immutable, so their PDF is rendered once per
  (invoice, status, layout version) and kept in a `DocumentStore`: the document first issued stays
  the document, even if the customer's address changes later (an issued invoice is not rewritten).
  Voiding renders a new version stamped "VOID". Drafts are rendered fresh each time, stamped
  "DRAFT", and never stored. Each newly stored version emits Lago's `invoice.generated` webhook.
- `POST /invoices/{id}/download` (Lago) answers finalized and voided invoices only — a draft is
  404 `invoice_not_found`, as Lago's `invoices.finalized.find_by` — and, unlike Lago, renders
  synchronously, so `file_url` is always set in the answer.
- `file_url` is a signed, expiring link (no API key needed): base64url(organization uuid ‖
  invoice uuid ‖ expiry as Unix seconds) "." base64url(HMAC-SHA256, 20 bytes), keyed with the
  organization's `portal_secret` under a purpose label, so a portal token is never a file token.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Protocol
from uuid import UUID
from zoneinfo import ZoneInfo

from babel import Locale, UnknownLocaleError
from babel.dates import format_date, format_interval
from babel.numbers import format_currency, format_decimal, format_percent, get_currency_precision

from releve.services import webhooks
from releve.services.billing_invoice import number_prefix
from releve.services.billing_queries import InvoiceQueries, InvoiceView, parse_id
from releve.services.billing_records import INVOICE_DRAFT, INVOICE_FINALIZED, INVOICE_VOIDED
from releve.services.errors import NotFound
from releve.services.portal_view import DetailTable, detail_tables
from releve.services.ports import Clock, UnitOfWorkFactory
from releve.services.records import Customer, Organization

DEFAULT_LOCALE = "en_US"
DEFAULT_LINK_VALIDITY = timedelta(days=7)  # as S3 presigned URLs: long enough to share, not forever
LAYOUT_VERSION = 1  # bump when the template changes what a stored PDF should show
DOWNLOADABLE = (INVOICE_FINALIZED, INVOICE_VOIDED)
WATERMARKS = {INVOICE_DRAFT: "DRAFT", INVOICE_VOIDED: "VOID"}
_LINK_PURPOSE = b"releve/invoice-file/v1\x00"


# --- ports -----------------------------------------------------------------------------------


class RendererUnavailable(Exception):
    """The PDF renderer cannot run here; `install` says what is missing."""

    def __init__(self, install: str) -> None:
        super().__init__(f"PDF rendering is unavailable: {install}")
        self.install = install


class InvoiceRenderer(Protocol):
    def render(self, document: InvoiceDocument) -> bytes:
        """The PDF bytes of `document`. Raises `RendererUnavailable`."""
        ...


class DocumentStore(Protocol):
    def get(self, key: str) -> bytes | None: ...

    def put(self, key: str, content: bytes) -> bool:
        """Keep `content` under `key`; True only for the call that stored it first."""
        ...


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


# --- signed file links -----------------------------------------------------------------------


class FileLinkInvalid(Exception):
    """Malformed, forged or tampered with, or for another invoice than the one asked for."""


class FileLinkExpired(Exception):
    """A genuine link whose validity has passed: download the invoice again for a fresh one."""


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _signature(organization: Organization, payload: bytes) -> bytes:
    key = organization.portal_secret.encode()
    return hmac.new(key, _LINK_PURPOSE + payload, hashlib.sha256).digest()[:20]


# --- the use cases ---------------------------------------------------------------------------


class InvoiceDocumentService:
    def __init__(
        self,
        invoices: InvoiceQueries,
        uow: UnitOfWorkFactory,
        clock: Clock,
        renderer: InvoiceRenderer,
        store: DocumentStore,
        public_url: str,
        link_validity: timedelta = DEFAULT_LINK_VALIDITY,
    ) -> None:
        self._invoices = invoices
        self._uow = uow
        self._clock = clock
        self._renderer = renderer
        self._store = store
        self._public_url = public_url.rstrip("/")
        self._validity = link_validity

    def pdf(self, view: InvoiceView) -> InvoicePdf:
        """The invoice's PDF: stored once for finalized/voided invoices, fresh for drafts."""
        invoice = view.invoice
        if invoice.status not in DOWNLOADABLE:
            document = build_document(view)
            return InvoicePdf(document.number, invoice.status, self._renderer.render(document))
        key = f"{invoice.id}.{invoice.status}.v{LAYOUT_VERSION}"
        content = self._store.get(key)
        number = invoice.number or ""
        if content is None:
            document = build_document(view)
            content = self._renderer.render(document)
            if self._store.put(key, content):
                with self._uow() as uow:
                    webhooks.emit(
                        uow, invoice.organization_id, "invoice.generated", "invoice",
                        object_id=str(invoice.id),
                    )  # fmt: skip
                    uow.commit()
        return InvoicePdf(number, invoice.status, content)

    def pdf_of(self, organization_id: UUID, lago_id: str) -> InvoicePdf:
        """Any visible invoice of the organization, drafts included (the operator's view)."""
        return self.pdf(self._invoices.get(organization_id, lago_id))

    def download(self, organization_id: UUID, lago_id: str) -> tuple[InvoiceView, str]:
        """Lago's POST /invoices/{id}/download: the PDF exists afterwards; its signed URL."""
        view = self._invoices.get(organization_id, lago_id)
        if view.invoice.status not in DOWNLOADABLE:
            raise NotFound("invoice")
        self.pdf(view)
        return view, self.file_url(view)

    def file_url(self, view: InvoiceView) -> str:
        expiry = int((self._clock.now() + self._validity).timestamp())
        payload = view.organization.id.bytes + view.invoice.id.bytes + expiry.to_bytes(8, "big")
        token = f"{_b64(payload)}.{_b64(_signature(view.organization, payload))}"
        return f"{self._public_url}/files/invoices/{view.invoice.id}.pdf?token={token}"

    def open_link(self, lago_id: str, token: str) -> InvoicePdf:
        """The PDF a `file_url` names. Raises `FileLinkInvalid`, `FileLinkExpired`, or
        `NotFound` when the invoice is gone or no longer downloadable."""
        invoice_id = parse_id(lago_id, "invoice")
        try:
            encoded, signature = token.split(".", 1)
            payload, given = _unb64(encoded), _unb64(signature)
        except (ValueError, TypeError):
            raise FileLinkInvalid() from None
        if len(payload) != 40 or payload[16:32] != invoice_id.bytes:
            raise FileLinkInvalid()
        organization_id = uuid.UUID(bytes=payload[:16])
        with self._uow(read_only=True) as uow:
            organization = uow.organizations.get(organization_id)
        if organization is None or not hmac.compare_digest(
            _signature(organization, payload), given
        ):
            raise FileLinkInvalid()
        expiry = datetime.fromtimestamp(int.from_bytes(payload[32:], "big"), UTC)
        if expiry <= self._clock.now():
            raise FileLinkExpired()
        view = self._invoices.get(organization_id, str(invoice_id))
        if view.invoice.status not in DOWNLOADABLE:
            raise NotFound("invoice")
        return self.pdf(view)
