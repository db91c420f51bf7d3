"""Add-ons (Lago's `add_ons`) and the one-off invoices that bill them."""

from __future__ import annotations

from releve.services.ports import Clock, UnitOfWorkFactory


class AddOnService:
    def __init__(self, uow: UnitOfWorkFactory, clock: Clock) -> None:
        self._uow = uow
        self._clock = clock
