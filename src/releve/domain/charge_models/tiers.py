"""Tiers (Lago "ranges") shared by graduated, graduated_percentage and volume pricing.

Lago writes tiers two ways and its engine accepts both:

- classic, integer style: 0–100, 101–200, 201–∞ (`from_value` = previous `to_value` + 1);
- adjacent, decimal style: 0–10, 10–20, 20–∞ (`from_value` = previous `to_value`).

Rule we apply (a superset of Lago's, identical on every case Lago handles): tier *i* holds the
units in the half-open interval (previous `to_value`, `to_value`] — the first tier [0, `to_value`].
For classic tiers this is Lago's "+1" counting (101–200 holds 100 units) and Lago's volume test
`from_value <= ceil(U) and U <= to_value` (a decimal U = 100.5 falls in 101–200); for adjacent
tiers it is Lago's count without "+1" (a boundary value belongs to the lower tier). Unlike
Lago's test, it also places a decimal U between decimal classic bounds (to 100.5 / from 101.5)
instead of matching no tier. Each link between two tiers may use either style.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Protocol, TypeVar

from releve.domain.charge_models.values import InvalidChargeProperties, read_non_negative

ZERO = Decimal(0)


class Bounded(Protocol):
    @property
    def from_value(self) -> Decimal: ...
    @property
    def to_value(self) -> Decimal | None: ...


@dataclass(frozen=True, slots=True)
class GraduatedRange:
    """A graduated or volume tier: price per unit and a flat fee, in major units."""

    from_value: Decimal
    to_value: Decimal | None
    per_unit_amount: Decimal
    flat_amount: Decimal


@dataclass(frozen=True, slots=True)
class GraduatedPercentageRange:
    """A graduated_percentage tier: `rate` in percent of the units, and a flat fee (major units)."""

    from_value: Decimal
    to_value: Decimal | None
    rate: Decimal
    flat_amount: Decimal


def check_bounds(ranges: Sequence[Bounded], *, field: str, code: str) -> None:
    """Refuse tiers with gaps, overlaps, a non-zero start or a bounded last tier."""

    def bad(reason: str) -> InvalidChargeProperties:
        return InvalidChargeProperties(f"{field}: {reason}", field=field, code=code)

    if not ranges:
        raise bad("at least one range is required")
    if ranges[0].from_value != 0:
        raise bad("the first range must start at 0")
    for i, tier in enumerate(ranges):
        last = i == len(ranges) - 1
        if last and tier.to_value is not None:
            raise bad("the last range must have to_value null (unbounded)")
        if not last and (tier.to_value is None or tier.to_value <= tier.from_value):
            raise bad(f"range {i} must end (to_value) above its from_value")
        if i > 0:
            previous_to = ranges[i - 1].to_value
            assert previous_to is not None  # checked on the previous iteration
            if tier.from_value not in (previous_to, previous_to + 1):
                raise bad(
                    f"range {i} must start at the previous to_value + 1 (classic) "
                    "or at the previous to_value (adjacent): no gap, no overlap"
                )


def lower_bound(ranges: Sequence[Bounded], index: int) -> Decimal:
    """Exclusive lower bound of tier `index`: the previous `to_value` (0 for the first tier)."""
    if index == 0:
        return ZERO
    previous_to = ranges[index - 1].to_value
    assert previous_to is not None
    return previous_to


def units_per_tier(ranges: Sequence[Bounded], units: Decimal) -> list[Decimal]:
    """Units falling in each *entered* tier, in order; tiers not reached are left out.

    A tier is entered when `units` exceed its lower bound (so 0 units enter no tier). The list
    sums exactly to `units` when `units` > 0.
    """
    slices: list[Decimal] = []
    for i, tier in enumerate(ranges):
        lower = lower_bound(ranges, i)
        if units <= lower:
            break
        top = units if tier.to_value is None else min(units, tier.to_value)
        slices.append(top - lower)
    return slices


def tier_of(ranges: Sequence[Bounded], units: Decimal) -> int:
    """Index of the tier holding `units` (the first tier for 0 units): used by volume pricing."""
    for i, tier in enumerate(ranges):
        if tier.to_value is None or units <= tier.to_value:
            return i
    raise AssertionError("the last tier is unbounded")  # guaranteed by check_bounds


_R = TypeVar("_R")


def parse_ranges(
    raw: object,
    *,
    field: str,
    code: str,
    price_key: str,
    price_code: str,
    build: Callable[[Decimal, Decimal | None, Decimal, Decimal], _R],
) -> tuple[_R, ...]:
    """Read Lago's list of range objects; bounds are checked by the properties' constructor."""
    if not isinstance(raw, list | tuple) or not raw:
        raise InvalidChargeProperties(
            f"{field} must be a non-empty list of ranges", field=field, code=code
        )
    out: list[_R] = []
    for i, item in enumerate(raw):
        where = f"{field}[{i}]"
        if not isinstance(item, Mapping):
            raise InvalidChargeProperties(f"{where} must be an object", field=where, code=code)
        for key in ("from_value", price_key):
            if item.get(key) is None:
                raise InvalidChargeProperties(
                    f"{where}.{key} is mandatory", field=f"{where}.{key}", code="value_is_mandatory"
                )
        from_value = read_non_negative(item["from_value"], field=f"{where}.from_value", code=code)
        to_raw = item.get("to_value")
        to_value = (
            None
            if to_raw is None
            else read_non_negative(to_raw, field=f"{where}.to_value", code=code)
        )
        price = read_non_negative(item[price_key], field=f"{where}.{price_key}", code=price_code)
        flat = read_non_negative(
            item.get("flat_amount", 0), field=f"{where}.flat_amount", code="invalid_amount"
        )
        out.append(build(from_value, to_value, price, flat))
    return tuple(out)
