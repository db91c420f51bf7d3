"""Percentage pricing: a rate on the units beyond a free allowance, a fixed fee per paid event.

Rules (lago-api.md §3), with the choices where Lago is silent:

- Free allowance: the first `free_units_per_events` events and the first
  `free_units_per_total_aggregation` units, **whichever runs out first**, walking the events in
  time order. An event is free when it fits entirely in what is left of the allowance. The event
  that overflows the unit allowance is *paid*: the rate applies to its part beyond the allowance,
  and it pays the fixed fee (the customer used the service beyond the free offer). A value of 0
  for either allowance means "nothing free".
- amount = paid_units × rate/100 + paid_events × fixed_amount + min/max adjustment, where
  paid_units = U − free units.
- Per-transaction min/max (premium in Lago): each paid event's own amount, its paid part ×
  rate/100 + fixed_amount, is clamped to [min, max]; the adjustment is Σ(clamped − unclamped).
  Free events are not clamped up to the minimum: they are free.
- Zero units cost nothing, fixed fees included (Lago creates no fee without units).
- Event values are needed for any allowance or min/max; `UsageFacts.event_values` must then be
  given (one per event, `events_count` of them), otherwise `MissingEventValues` is raised.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

from releve.domain.charge_models.breakdown import AmountDetails, price_text
from releve.domain.charge_models.properties import PercentageProperties
from releve.domain.charge_models.values import plain
from releve.domain.errors import DomainError
from releve.domain.money import Currency
from releve.domain.usage import UsageFacts

ZERO = Decimal(0)
HUNDRED = Decimal(100)


class MissingEventValues(DomainError):
    """The charge needs each event's value (free events, min/max) but usage carries none."""

    code = "event_values_required"


@dataclass(frozen=True, slots=True)
class PercentageBreakdown:
    units: Decimal
    free_units: Decimal
    free_events: int
    paid_units: Decimal
    paid_events: int
    rate: Decimal
    fixed_amount: Decimal
    min_max_adjustment: Decimal

    @property
    def per_unit_total(self) -> Decimal:
        return self.paid_units * self.rate / HUNDRED

    @property
    def fixed_fee_total(self) -> Decimal:
        return self.paid_events * self.fixed_amount

    @property
    def amount(self) -> Decimal:
        return self.per_unit_total + self.fixed_fee_total + self.min_max_adjustment

    def amount_details(self) -> AmountDetails:
        return {
            "units": plain(self.units),
            "free_units": plain(self.free_units),
            "free_events": self.free_events,
            "paid_units": plain(self.paid_units),
            "paid_events": self.paid_events,
            "rate": plain(self.rate),
            "per_unit_total_amount": plain(self.per_unit_total),
            "fixed_fee_unit_amount": plain(self.fixed_amount),
            "fixed_fee_total_amount": plain(self.fixed_fee_total),
            "min_max_adjustment_total_amount": plain(self.min_max_adjustment),
        }

    def parts(self, currency: Currency) -> list[str]:
        parts: list[str] = []
        if self.free_units or self.free_events:
            events = "event" if self.free_events == 1 else "events"
            parts.append(f"{plain(self.free_units)} free ({self.free_events} free {events})")
        parts.append(f"{plain(self.rate)}% of {plain(self.paid_units)}")
        if self.fixed_amount and self.paid_events:
            events = "event" if self.paid_events == 1 else "events"
            parts.append(
                f"{self.paid_events} paid {events} × {price_text(self.fixed_amount, currency)}"
            )
        if self.min_max_adjustment:
            sign = "+" if self.min_max_adjustment > 0 else "−"
            parts.append(
                f"{sign}{price_text(abs(self.min_max_adjustment), currency)} "
                "per-transaction min/max adjustment"
            )
        return parts


def needs_event_values(properties: PercentageProperties) -> bool:
    """True when the price depends on each event's value, not only on the totals."""
    return (
        properties.free_units_per_events is not None
        or properties.free_units_per_total_aggregation is not None
        or properties.has_min_max
    )


def _paid_parts(
    properties: PercentageProperties, values: Sequence[Decimal]
) -> tuple[Decimal, int, list[Decimal]]:
    """(free units, free events, paid part of each paid event) walking events in time order."""
    max_events = properties.free_units_per_events
    cap = properties.free_units_per_total_aggregation
    if (max_events is None and cap is None) or max_events == 0 or cap == 0:
        return ZERO, 0, list(values)
    free_units, free_events, paid = ZERO, 0, []
    exhausted = False
    for index, value in enumerate(values):
        if exhausted or (max_events is not None and index >= max_events):
            exhausted = True
            paid.append(value)
            continue
        room = None if cap is None else cap - free_units
        if room is None or value <= room:
            free_units += value
            free_events += 1
        else:
            # This event overflows the unit allowance: its first part is free, the rest is paid.
            free_part = max(room, ZERO)
            free_units += free_part
            paid.append(value - free_part)
            exhausted = True
    return free_units, free_events, paid


def _clamp(value: Decimal, low: Decimal | None, high: Decimal | None) -> Decimal:
    if low is not None and value < low:
        value = low
    if high is not None and value > high:
        value = high
    return value


def price_percentage(properties: PercentageProperties, usage: UsageFacts) -> PercentageBreakdown:
    """Percentage amount in major units, precise (see the module docstring for the rules)."""
    rate, fixed = properties.rate, properties.fixed_amount
    units = usage.units
    if units <= 0:
        return PercentageBreakdown(ZERO, ZERO, 0, ZERO, 0, rate, fixed, ZERO)
    values = usage.event_values
    if values is None:
        if needs_event_values(properties):
            raise MissingEventValues(
                "this percentage charge has free events, free units or a per-transaction "
                "min/max: the usage must list each event's value (UsageFacts.event_values)",
                field="event_values",
            )
        return PercentageBreakdown(units, ZERO, 0, units, usage.events_count, rate, fixed, ZERO)
    if len(values) != usage.events_count:
        raise DomainError(
            f"usage lists {len(values)} event values for {usage.events_count} events",
            field="event_values",
            code="event_values_mismatch",
        )
    free_units, free_events, paid = _paid_parts(properties, values)
    adjustment = ZERO
    if properties.has_min_max:
        low, high = properties.per_transaction_min_amount, properties.per_transaction_max_amount
        for part in paid:
            raw = part * rate / HUNDRED + fixed
            adjustment += _clamp(raw, low, high) - raw
    return PercentageBreakdown(
        units=units,
        free_units=free_units,
        free_events=free_events,
        paid_units=max(units - free_units, ZERO),
        paid_events=len(paid),
        rate=rate,
        fixed_amount=fixed,
        min_max_adjustment=adjustment,
    )
