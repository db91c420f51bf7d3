"""True-ups: the fee that lifts an amount up to a promised minimum (lago-api.md §3).

Both minimums work in minor units on amounts already rounded, because a true-up fills the gap
between what the invoice shows and the minimum the customer agreed to. A partial period
prorates the minimum (`proration_factor` = days used / days in the period, in the customer's
time zone, computed by the caller): the prorated minimum is rounded once, half-up by default.
"""

from __future__ import annotations

from decimal import Decimal

from releve.domain.errors import DomainError
from releve.domain.money import Rounding

ONE = Decimal(1)


def _prorated_minimum(minimum_cents: int, factor: Decimal, rounding: Rounding, field: str) -> int:
    if not isinstance(factor, Decimal) or not 0 <= factor <= 1:
        raise DomainError(
            "proration factor must be a Decimal between 0 and 1",
            field="proration_factor",
            code="invalid_proration_factor",
        )
    if minimum_cents < 0:
        raise DomainError(f"{field} must not be negative", field=field, code="invalid_amount")
    return int((minimum_cents * factor).quantize(ONE, rounding=rounding.decimal_mode))


def true_up_cents(
    amount_cents: int,
    min_amount_cents: int,
    proration_factor: Decimal = ONE,
    rounding: Rounding = Rounding.HALF_UP,
) -> int:
    """Charge spending minimum: max(0, round(min_amount × factor) − amount), minor units.

    Example (Lago docs): usage 5000 cents, minimum 10000 → true-up 5000 ($50).
    """
    minimum = _prorated_minimum(min_amount_cents, proration_factor, rounding, "min_amount_cents")
    return max(0, minimum - amount_cents)


def plan_minimum_commitment_true_up(
    invoiced_cents: int,
    commitment_cents: int,
    proration_factor: Decimal = ONE,
    rounding: Rounding = Rounding.HALF_UP,
) -> int:
    """Plan minimum commitment: max(0, round(commitment × factor) − (subscription fee + charges)).

    `invoiced_cents` is the period's subscription fee plus its charge fees, in minor units.
    Example (lago-api PR #1787): $50 base + 3 × $10 = 8000 cents, commitment 10000 → 2000.
    """
    minimum = _prorated_minimum(
        commitment_cents, proration_factor, rounding, "minimum_commitment.amount_cents"
    )
    return max(0, minimum - invoiced_cents)
