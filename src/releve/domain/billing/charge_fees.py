"""One charge's usage in one period → its fees: per charge filter, per pricing group, default.

Buckets (lago-api.md §2, `filters.bucket_of`): the usage store aggregates per `BucketKey`;
here each bucket is priced with the properties of its filter (or, for the default bucket —
events that match no filter — the charge's own properties) through `pricing.price`, which
rounds each fee once to minor units (half-up by default).

Which fees exist (rules we chose where Lago's is implicit):
- A charge without pricing groups has one fee per filter and one default fee, whether or not
  they had usage — the current-usage view shows every line, even at 0 units.
- A charge with pricing groups has one fee per (filter or default, group) seen in the usage;
  with no usage at all it still has one empty default fee (so the charge stays visible).
- Lago creates no *invoice* fee for 0 units: `ChargeFee.invoiceable_on_period_invoice` says so
  (units ≠ 0, or a non-zero amount, or a true-up).
- Spending minimum (`min_amount_cents`, arrears charges): compared with Σ of the charge's
  rounded fees (all filters and groups), the minimum prorated by the period factor (days
  used / days of the full period, a `Fraction`) and rounded once; the difference is a separate
  `TRUE_UP` fee of the same charge (Lago `lago_true_up_parent_fee_id`).

Prorated charges: `UsageFacts.units` must already be the prorated units (the usage store's
prorated aggregation); this module prices them as given.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction

from releve.domain.charge_models.breakdown import AmountDetails, total_text
from releve.domain.errors import DomainError
from releve.domain.filters import BucketKey
from releve.domain.money import Currency, Rounding, minor_to_major, round_fraction
from releve.domain.plans import Charge
from releve.domain.pricing import Properties, price, true_up_cents
from releve.domain.usage import UsageFacts

__all__ = ["ChargeFee", "ChargeFeeKind", "price_charge", "prorated_cents"]


class ChargeFeeKind(enum.Enum):
    USAGE = "usage"
    TRUE_UP = "true_up"  # spending minimum of the charge


@dataclass(frozen=True, slots=True)
class ChargeFee:
    """One priced bucket of a charge, or its true-up.

    `precise_amount` is in major units, unrounded; `amount_cents` is it rounded once.
    `filter_values` is the matched filter's values (None for the default bucket and true-ups);
    `grouped_by` maps each pricing group key to the bucket's value.
    """

    charge_id: str
    kind: ChargeFeeKind
    bucket: BucketKey | None
    filter_values: Mapping[str, tuple[str, ...]] | None
    grouped_by: Mapping[str, str | None]
    display_name: str
    units: Decimal
    events_count: int
    precise_amount: Decimal
    amount_cents: int
    amount_details: AmountDetails
    explanation: str

    @property
    def invoiceable_on_period_invoice(self) -> bool:
        """Lago creates no invoice fee for a charge bucket with 0 units and no amount."""
        return self.kind is ChargeFeeKind.TRUE_UP or self.units != 0 or self.amount_cents != 0


def prorated_cents(cents: int, factor: Fraction, rounding: Rounding = Rounding.HALF_UP) -> int:
    """``cents × factor`` rounded once to a whole number of minor units (exact factor)."""
    return round_fraction(cents * factor, rounding)


def _label(charge: Charge, key: BucketKey) -> str:
    parts = []
    if key.filter_index is not None:
        price_filter = charge.filters[key.filter_index]
        parts.append(
            price_filter.invoice_display_name
            or ", ".join("/".join(v) for v in price_filter.values.values())
        )
    elif charge.filters:
        parts.append("other")
    parts.extend(
        f"{name}={value if value is not None else '(none)'}"
        for name, value in zip(charge.pricing_group_keys, key.group, strict=True)
    )
    name = charge.invoice_display_name or charge.metric.name
    return f"{name} — {', '.join(parts)}" if parts else name


def _buckets(charge: Charge, usage: Mapping[BucketKey, UsageFacts]) -> list[BucketKey]:
    slots: list[int | None] = [*range(len(charge.filters)), None]
    width = len(charge.pricing_group_keys)
    for key in usage:
        if key.filter_index not in slots or len(key.group) != width:
            raise DomainError(
                f"usage bucket {key} does not belong to charge {charge.id}",
                field="usage",
                code="value_is_invalid",
            )
    if width == 0:
        return [BucketKey(slot) for slot in slots]
    seen = sorted(
        usage,
        key=lambda k: (
            len(slots) if k.filter_index is None else k.filter_index,
            [(v is not None, v or "") for v in k.group],
        ),
    )
    return seen or [BucketKey(None, (None,) * width)]


def _properties(charge: Charge, key: BucketKey) -> Properties:
    if key.filter_index is None:
        return charge.properties
    return charge.filters[key.filter_index].properties


def price_charge(
    charge: Charge,
    usage_by_bucket: Mapping[BucketKey, UsageFacts],
    currency: Currency,
    *,
    rounding: Rounding = Rounding.HALF_UP,
    period_factor: Fraction = Fraction(1),
) -> list[ChargeFee]:
    """Every fee of `charge` for one period (rules in the module docstring).

    `usage_by_bucket`: the period's aggregated usage per bucket (missing buckets = no usage).
    `period_factor`: the share of the full period the subscription used (prorates the
    spending minimum only). Fees come in filter order, then the default bucket, then the
    true-up.
    """
    fees = []
    for key in _buckets(charge, usage_by_bucket):
        facts = usage_by_bucket.get(key, UsageFacts.none())
        priced = price(charge.charge_model, _properties(charge, key), facts, currency, rounding)
        label = _label(charge, key)
        fees.append(
            ChargeFee(
                charge_id=charge.id,
                kind=ChargeFeeKind.USAGE,
                bucket=key,
                filter_values=None
                if key.filter_index is None
                else charge.filters[key.filter_index].values,
                grouped_by=dict(zip(charge.pricing_group_keys, key.group, strict=True)),
                display_name=label,
                units=priced.units,
                events_count=priced.events_count,
                precise_amount=priced.amount,
                amount_cents=priced.amount_cents,
                amount_details=priced.amount_details(),
                explanation=f"{label}: {priced.explanation}",
            )
        )
    true_up = _true_up(charge, fees, currency, rounding, period_factor)
    return fees if true_up is None else [*fees, true_up]


def _true_up(
    charge: Charge,
    fees: list[ChargeFee],
    currency: Currency,
    rounding: Rounding,
    factor: Fraction,
) -> ChargeFee | None:
    if charge.min_amount_cents == 0 or charge.pay_in_advance:
        return None
    billed = sum(f.amount_cents for f in fees)
    minimum = prorated_cents(charge.min_amount_cents, factor, rounding)
    amount = true_up_cents(billed, minimum, rounding=rounding)
    if amount == 0:
        return None
    name = charge.invoice_display_name or charge.metric.name
    prorated = (
        ""
        if factor == 1
        else f" × {factor.numerator}/{factor.denominator} = {total_text(minimum, currency)}"
    )
    return ChargeFee(
        charge_id=charge.id,
        kind=ChargeFeeKind.TRUE_UP,
        bucket=None,
        filter_values=None,
        grouped_by={},
        display_name=f"{name} — minimum spend",
        units=Decimal(0),
        events_count=0,
        precise_amount=minor_to_major(amount, currency),
        amount_cents=amount,
        amount_details={},
        explanation=(
            f"{name}: minimum {total_text(charge.min_amount_cents, currency)}{prorated}; "
            f"usage {total_text(billed, currency)} → true-up {total_text(amount, currency)}"
        ),
    )
