"""Rounded fee lines: the input of invoice totals.

A `FeeLine` is one line of an invoice once pricing has run: its amount is already an integer of
the currency's minor unit, rounded once (design.md §3). Invoice totals are sums of these rounded
lines, never of their precise amounts, so that every printed line adds up to the printed total.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from decimal import Decimal

from releve.domain.errors import DomainError
from releve.domain.money import Currency


class FeeType(enum.Enum):
    """What a fee bills. Values are Lago's `fee_type` strings, plus our `adjustment`."""

    SUBSCRIPTION = "subscription"
    CHARGE = "charge"
    COMMITMENT = "commitment"  # minimum-commitment true-up
    ADD_ON = "add_on"
    CREDIT = "credit"  # a wallet top-up (credit purchase): an advance payment, never taxed
    ADJUSTMENT = "adjustment"  # late-event correction of a closed period's usage

    @property
    def is_usage(self) -> bool:
        """Usage money: charges and their late corrections (wallet `charge` scope covers both)."""
        return self in (FeeType.CHARGE, FeeType.ADJUSTMENT)


class InvalidFeeLine(DomainError):
    """A fee line cannot be invoiced as given."""

    code = "invalid_fee"


@dataclass(frozen=True, slots=True)
class TaxRate:
    """A tax applied to a fee. `rate` is a percentage: Decimal('20') means 20 %."""

    code: str
    name: str
    rate: Decimal

    def __post_init__(self) -> None:
        if not isinstance(self.rate, Decimal):
            raise TypeError("TaxRate.rate must be a Decimal")
        if not Decimal(0) <= self.rate <= Decimal(100):
            raise InvalidFeeLine("a tax rate is a percentage between 0 and 100", field="rate")


@dataclass(frozen=True, slots=True)
class FeeLine:
    """One rounded fee. `amount_cents` (minor units, ≥ 0) is the source of truth for totals.

    `precise_amount` (major units, unrounded) and `units` are kept for display and explanation
    only; no total is ever computed from them.
    """

    id: str
    fee_type: FeeType
    amount_cents: int
    currency: Currency
    plan_code: str | None = None
    billable_metric_code: str | None = None
    taxes: tuple[TaxRate, ...] = ()
    precise_amount: Decimal | None = None
    units: Decimal | None = None
    description: str = ""

    def __post_init__(self) -> None:
        if not isinstance(self.amount_cents, int) or isinstance(self.amount_cents, bool):
            raise TypeError("FeeLine.amount_cents must be an int of minor units")
        if self.amount_cents < 0:
            # Refunds are credit notes, not negative fees: a negative line would let coupons
            # and wallets pay more than was billed.
            raise InvalidFeeLine("a fee amount cannot be negative", field="amount_cents")
        codes = [tax.code for tax in self.taxes]
        if len(set(codes)) != len(codes):
            raise InvalidFeeLine("a tax is applied twice to the same fee", field="taxes")
        if self.fee_type is FeeType.CREDIT and self.taxes:
            # Lago: a credit purchase is an advance payment; tax is due when it is consumed.
            raise InvalidFeeLine("a credit purchase is not taxed", field="taxes")
