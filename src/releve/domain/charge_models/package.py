"""Package pricing: `amount` per started package of `package_size` units, after free units.

ceil((U − free_units) / package_size) × amount, 0 when U ≤ free_units (lago-api.md §3). A
started package is a whole package: 101 paid units in packages of 100 are 2 packages.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from releve.domain.charge_models.breakdown import AmountDetails, price_text
from releve.domain.charge_models.properties import PackageProperties
from releve.domain.charge_models.values import plain
from releve.domain.money import Currency


@dataclass(frozen=True, slots=True)
class PackageBreakdown:
    free_units: Decimal
    paid_units: Decimal
    package_size: int
    packages: int
    package_amount: Decimal

    @property
    def amount(self) -> Decimal:
        return self.packages * self.package_amount

    def amount_details(self) -> AmountDetails:
        return {
            "free_units": plain(self.free_units),
            "paid_units": plain(self.paid_units),
            "per_package_size": self.package_size,
            "per_package_unit_amount": plain(self.package_amount),
        }

    def parts(self, currency: Currency) -> list[str]:
        parts = [f"{plain(self.free_units)} free"] if self.free_units else []
        if self.paid_units:
            noun = "package" if self.packages == 1 else "packages"
            parts.append(
                f"{plain(self.paid_units)} paid → {self.packages} {noun} of "
                f"{self.package_size} × {price_text(self.package_amount, currency)}"
            )
        return parts


def price_package(properties: PackageProperties, units: Decimal) -> PackageBreakdown:
    free = min(max(units, Decimal(0)), Decimal(properties.free_units))
    paid = max(units - properties.free_units, Decimal(0))
    # divmod is exact whatever the precision; a division could round a tiny remainder away.
    whole, rest = divmod(paid, properties.package_size)
    packages = int(whole) + (1 if rest else 0)
    return PackageBreakdown(free, paid, properties.package_size, packages, properties.amount)
