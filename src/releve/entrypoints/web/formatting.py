"""Numbers, money and dates for people: babel (CLDR) per locale, times in a given time zone.

Money arrives as integer minor units with an ISO 4217 code (design.md §3) and is shown with the
currency's own exponent; usage quantities are `Decimal` and are never passed through float.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from zoneinfo import ZoneInfo

from babel import Locale, UnknownLocaleError
from babel.dates import format_date, format_datetime
from babel.numbers import format_currency, format_decimal, get_currency_precision

from releve.services.invoice_document_view import readable_unit_price

DEFAULT_LOCALE = "en_US"


def locale_for_country(country: str | None, fallback: str = DEFAULT_LOCALE) -> str:
    """The most likely locale of a country (FR → fr_FR, CH → de_CH), else `fallback`."""
    if country and len(country) == 2 and country.isalpha():
        try:
            return str(Locale.parse(f"und_{country.upper()}"))
        except (UnknownLocaleError, ValueError):
            pass
    return fallback


def locale_from_header(accept_language: str | None, fallback: str = DEFAULT_LOCALE) -> str:
    """The first locale of an Accept-Language header that CLDR knows (weights in order)."""
    ranked: list[tuple[float, str]] = []
    for part in (accept_language or "").split(","):
        tag, _, params = part.strip().partition(";")
        weight = 1.0
        if params.strip().startswith("q="):
            try:
                weight = float(params.strip()[2:])
            except ValueError:
                continue
        if tag and tag != "*":
            ranked.append((-weight, tag.replace("-", "_")))
    for _, tag in sorted(ranked, key=lambda t: t[0]):
        try:
            return str(Locale.parse(tag))
        except (UnknownLocaleError, ValueError):
            continue
    return fallback


class Formatter:
    """Formatting bound to one locale and one time zone (exposed to templates as `fmt`)."""

    def __init__(self, locale: str = DEFAULT_LOCALE, timezone: str = "UTC") -> None:
        self.locale = locale
        self.timezone = timezone
        self._zone = ZoneInfo(timezone)

    def number(self, value: int | Decimal | None) -> str:
        if value is None:
            return "—"
        return format_decimal(value, locale=self.locale, decimal_quantization=False)

    def quantity(self, value: Decimal | None) -> str:
        """A usage quantity for reading, at most 4 decimals ("102.9917"); exact values stay in
        the explanation and the API."""
        if value is None:
            return "—"
        return format_decimal(value, format="#,##0.####", locale=self.locale)

    def money(self, amount_cents: int | None, currency: str) -> str:
        """Integer minor units → "1 234,50 €" (fr_FR) or "¥1,234" (JPY has no minor unit)."""
        if amount_cents is None:
            return "—"
        exponent = get_currency_precision(currency)
        return format_currency(
            Decimal(amount_cents).scaleb(-exponent), currency, locale=self.locale
        )

    def detail(self, value: object) -> str:
        """A value of Lago's `amount_details` (decimal strings, ints, None) for a table cell."""
        if value is None:
            return "—"
        if isinstance(value, bool):
            return "yes" if value else "no"
        try:
            number = Decimal(str(value))
        except InvalidOperation:
            return str(value)
        return self.number(number) if number.is_finite() else str(value)

    def decimal_money(self, amount: Decimal | None, currency: str) -> str:
        """A unit price at full precision (e.g. 0.0005 €): never rounded to the minor unit."""
        if amount is None:
            return "—"
        return format_currency(amount, currency, locale=self.locale, decimal_quantization=False)

    def unit_price(self, amount: Decimal | None, currency: str) -> str:
        """A fee's average unit price: exact when short ("€0.0005"), else six significant
        digits marked "≈" (`readable_unit_price`)."""
        if amount is None:
            return "—"
        shown, rounded = readable_unit_price(amount, currency)
        return ("≈ " if rounded else "") + self.decimal_money(shown, currency)

    def amount(self, amount: Decimal | None, currency: str) -> str:
        """A computed amount in major units, shown to the minor unit ("12,35 €"); the exact
        value stays in the API's amount_details."""
        if amount is None:
            return "—"
        return format_currency(amount, currency, locale=self.locale)

    def tier(self, label: object) -> str:
        """A graduated range (`portal_view.TierLabel`): "First 1,000 units", "Next 400 units"."""
        kind, count = getattr(label, "kind", None), getattr(label, "count", None)
        if not isinstance(count, Decimal):
            return str(label)
        number = self.quantity(count)
        return {"first": f"First {number} units", "next": f"Next {number} units"}.get(
            str(kind), f"Over {number} units"
        )

    def cell(self, value: object, kind: str = "", currency: str = "") -> str:
        """A value of a breakdown table by its column kind (`portal_view.DetailTable.kinds`)."""
        if kind == "tier":
            return self.tier(value)
        if value is None or isinstance(value, bool) or kind in ("", "text"):
            return self.detail(value)
        try:
            number = Decimal(str(value))
        except InvalidOperation:
            return str(value)
        if not number.is_finite():
            return str(value)
        if kind == "price" and currency:
            return self.decimal_money(number.normalize() if number else number, currency)
        if kind == "amount" and currency:
            return self.amount(number, currency)
        if kind == "rate":
            return format_decimal(number, format="#,##0.####", locale=self.locale) + " %"
        return self.quantity(number)

    def measure(self, value: Decimal | None, unit: str) -> str:
        """A physical quantity ("500 gCO2e", "0.0021 kWh"): up to 4 significant decimals."""
        if value is None:
            return "—"
        if value and abs(value) < Decimal("0.0001"):
            return f"< {self.quantity(Decimal('0.0001'))} {unit}".strip()
        return f"{self.quantity(value)} {unit}".strip()

    def date(self, value: date | datetime | None, style: str = "medium") -> str:
        if value is None:
            return "—"
        if isinstance(value, datetime):
            value = value.astimezone(self._zone).date()
        return format_date(value, format=style, locale=self.locale)

    @property
    def zone(self) -> str:
        """The IANA name of the zone times are shown in, to say so next to them."""
        return self._zone.key

    def datetime(self, value: datetime | None, style: str = "medium") -> str:
        if value is None:
            return "—"
        return format_datetime(value, format=style, tzinfo=self._zone, locale=self.locale)

    def iso_local(self, value: datetime | None) -> str:
        """For `<time datetime=…>` and `<input type=datetime-local>`."""
        if value is None:
            return ""
        return value.astimezone(self._zone).strftime("%Y-%m-%dT%H:%M")
