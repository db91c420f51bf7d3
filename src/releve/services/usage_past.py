"""Past usage (Lago's `GET /customers/{id}/past_usage`): invoiced periods read back from their
stored charge fees, never recomputed (see `services.usage`, whose `past_usage` lists them)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from uuid import UUID

from releve.domain.plans import Charge
from releve.services.billing_records import Fee, Invoice, InvoiceSubscription

__all__ = ["PastChargeUsage", "PastUsagePeriod", "past_period"]


@dataclass(frozen=True, slots=True)
class PastChargeUsage:
    """One charge's invoiced fees of a past period (one per filter / group), as stored."""

    charge_id: UUID | None
    charge: Charge | None  # None once the plan no longer has the charge
    fees: tuple[Fee, ...]

    @property
    def units(self) -> Decimal:
        return sum((f.units for f in self.fees), Decimal(0))

    @property
    def events_count(self) -> int:
        return sum(f.events_count for f in self.fees)

    @property
    def amount_cents(self) -> int:
        return sum(f.amount_cents for f in self.fees)


@dataclass(frozen=True, slots=True)
class PastUsagePeriod:
    """One invoiced period of a subscription: the invoice, its billed period and charge fees."""

    invoice: Invoice
    link: InvoiceSubscription
    charges: tuple[PastChargeUsage, ...]

    @property
    def from_datetime(self) -> datetime:
        return self.link.charges_from_datetime or self.link.from_datetime or self.link.period_start

    @property
    def to_datetime(self) -> datetime:
        return self.link.charges_to_datetime or self.link.to_datetime or self.link.boundary

    @property
    def amount_cents(self) -> int:
        return sum(c.amount_cents for c in self.charges)

    @property
    def taxes_amount_cents(self) -> int:
        return sum(f.taxes_amount_cents for c in self.charges for f in c.fees)

    @property
    def total_amount_cents(self) -> int:
        return self.amount_cents + self.taxes_amount_cents


def past_period(
    invoice: Invoice,
    link: InvoiceSubscription,
    fees: list[Fee],
    charges: Mapping[UUID, Charge],
) -> PastUsagePeriod:
    by_charge: dict[UUID | None, list[Fee]] = {}
    for fee in sorted(fees, key=lambda f: f.position):
        by_charge.setdefault(fee.charge_id, []).append(fee)
    return PastUsagePeriod(
        invoice,
        link,
        tuple(
            PastChargeUsage(
                charge_id, None if charge_id is None else charges.get(charge_id), tuple(group)
            )
            for charge_id, group in by_charge.items()
        ),
    )
