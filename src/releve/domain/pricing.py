"""Pricing: a charge model + its properties + a bucket's usage → a precise amount, the amount in
minor units (rounded once), a typed breakdown, Lago's `amount_details` and a plain explanation.

Units are `Decimal` in the metric's unit; amounts are `Decimal` in the currency's major units
until `amount_cents`, which is rounded once through `to_minor_units` (half-up by default).

Rules we chose where Lago's is unclear or unsafe (each is tested):
- Zero usage costs nothing under every model: no first-tier flat fee, no volume flat fee, no
  percentage fixed fee. Lago's own formula would add a flat fee at U = 0, but Lago creates no fee
  for a charge without units; we make the amount agree with the fee that exists.
- Negative aggregated units (a sum of refunds) bill as zero: a usage charge is never a credit;
  giving money back is the job of credit notes, where it is visible and audited.
- Pay in advance: each event's fee is f(usage after it) − f(usage before it), rounded once.
  The exact increments telescope to f(total); their rounded sum may differ from round(f(total))
  by rounding, exactly as in Lago. Volume cannot be paid in advance (Lago rule: its cliffs would
  make increments negative).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from decimal import Decimal

from releve.domain.charge_models.breakdown import (
    AmountDetails,
    sentence,
    total_text,
    units_text,
)
from releve.domain.charge_models.dynamic import DynamicBreakdown, price_dynamic
from releve.domain.charge_models.graduated import GraduatedBreakdown, price_graduated
from releve.domain.charge_models.graduated_percentage import (
    GraduatedPercentageBreakdown,
    price_graduated_percentage,
)
from releve.domain.charge_models.minimums import plan_minimum_commitment_true_up, true_up_cents
from releve.domain.charge_models.package import PackageBreakdown, price_package
from releve.domain.charge_models.percentage import PercentageBreakdown, price_percentage
from releve.domain.charge_models.properties import (
    PROPERTIES_CLASS,
    ChargeModel,
    DynamicProperties,
    GraduatedPercentageProperties,
    GraduatedProperties,
    PackageProperties,
    PercentageProperties,
    Properties,
    StandardProperties,
    VolumeProperties,
    parse_properties,
)
from releve.domain.charge_models.standard import StandardBreakdown, price_standard
from releve.domain.charge_models.values import InvalidChargeProperties
from releve.domain.charge_models.volume import VolumeBreakdown, price_volume
from releve.domain.errors import DomainError
from releve.domain.money import Currency, Rounding, to_minor_units
from releve.domain.usage import UsageFacts

__all__ = [
    "AdvanceFee",
    "AnyBreakdown",
    "ChargeModel",
    "PricedCharge",
    "Properties",
    "parse_properties",
    "plan_minimum_commitment_true_up",
    "price",
    "price_in_advance",
    "true_up_cents",
]

AnyBreakdown = (
    StandardBreakdown
    | GraduatedBreakdown
    | GraduatedPercentageBreakdown
    | VolumeBreakdown
    | PackageBreakdown
    | PercentageBreakdown
    | DynamicBreakdown
)


@dataclass(frozen=True, slots=True)
class PricedCharge:
    """One bucket priced. `amount` is precise (major units); `amount_cents` is it rounded once."""

    model: ChargeModel
    currency: Currency
    units: Decimal
    events_count: int
    amount: Decimal
    amount_cents: int
    breakdown: AnyBreakdown
    explanation: str

    def amount_details(self) -> AmountDetails:
        """Lago's fee `amount_details` for this model (decimals as strings; {} when none)."""
        return self.breakdown.amount_details()


@dataclass(frozen=True, slots=True)
class AdvanceFee:
    """The pay-in-advance fee of one event: f(after) − f(before), rounded once."""

    model: ChargeModel
    currency: Currency
    units: Decimal
    amount: Decimal
    amount_cents: int
    before: PricedCharge
    after: PricedCharge
    explanation: str


def _checked(model: ChargeModel | str, properties: Properties) -> ChargeModel:
    model = ChargeModel(model)
    if not isinstance(properties, PROPERTIES_CLASS[model]):
        raise InvalidChargeProperties(
            f"{type(properties).__name__} are not {model.value} properties",
            field="properties",
            code="invalid_properties",
        )
    return model


def _breakdown(properties: Properties, usage: UsageFacts, currency: Currency) -> AnyBreakdown:
    units = usage.units
    if isinstance(properties, StandardProperties):
        return price_standard(properties, units)
    if isinstance(properties, GraduatedProperties):
        return price_graduated(properties, units)
    if isinstance(properties, GraduatedPercentageProperties):
        return price_graduated_percentage(properties, units)
    if isinstance(properties, VolumeProperties):
        return price_volume(properties, units)
    if isinstance(properties, PackageProperties):
        return price_package(properties, units)
    if isinstance(properties, PercentageProperties):
        return price_percentage(properties, usage)
    assert isinstance(properties, DynamicProperties)
    return price_dynamic(usage, currency)


def price(
    model: ChargeModel | str,
    properties: Properties,
    usage: UsageFacts,
    currency: Currency,
    rounding: Rounding = Rounding.HALF_UP,
) -> PricedCharge:
    """Price one bucket of usage (one charge, filter and group, one period).

    >>> from releve.domain.charge_models.properties import StandardProperties
    >>> eur = Currency("EUR", 2)
    >>> fee = price("standard", StandardProperties(Decimal("0.05")), UsageFacts(Decimal(1000)), eur)
    >>> fee.amount_cents, fee.explanation
    (5000, '1000 units: 1000 × 0.05 EUR = 50.00 EUR')
    """
    model = _checked(model, properties)
    # Negative aggregated usage bills as none (see the module docstring).
    billable = usage if usage.units >= 0 else replace(usage, units=Decimal(0))
    breakdown = _breakdown(properties, billable, currency)
    amount = breakdown.amount
    amount_cents = to_minor_units(amount, currency, rounding)
    return PricedCharge(
        model=model,
        currency=currency,
        units=billable.units,
        events_count=usage.events_count,
        amount=amount,
        amount_cents=amount_cents,
        breakdown=breakdown,
        explanation=sentence(billable.units, breakdown.parts(currency), amount_cents, currency),
    )


def price_in_advance(
    model: ChargeModel | str,
    properties: Properties,
    before: UsageFacts,
    after: UsageFacts,
    currency: Currency,
    rounding: Rounding = Rounding.HALF_UP,
) -> AdvanceFee:
    """The fee of one pay-in-advance event: f(after) − f(before), precise, then rounded once.

    `before` is the period's usage without the event, `after` with it. The increment may be
    negative when usage went down (a negative sum); the caller decides whether that becomes a
    credit note. Volume is refused (`invalid_pay_in_advance`), as in Lago.
    """
    model = _checked(model, properties)
    if model is ChargeModel.VOLUME:
        raise DomainError(
            "volume charges cannot be paid in advance: one more unit can lower the whole price",
            field="pay_in_advance",
            code="invalid_pay_in_advance",
        )
    priced_before = price(model, properties, before, currency, rounding)
    priced_after = price(model, properties, after, currency, rounding)
    amount = priced_after.amount - priced_before.amount
    amount_cents = to_minor_units(amount, currency, rounding)
    explanation = (
        f"{units_text(priced_after.units)} so far cost "
        f"{total_text(priced_after.amount_cents, currency)}; "
        f"{total_text(priced_before.amount_cents, currency)} of it was already billed for "
        f"{units_text(priced_before.units)}: this event costs "
        f"{total_text(amount_cents, currency)}"
    )
    return AdvanceFee(
        model=model,
        currency=currency,
        units=priced_after.units - priced_before.units,
        amount=amount,
        amount_cents=amount_cents,
        before=priced_before,
        after=priced_after,
        explanation=explanation,
    )
