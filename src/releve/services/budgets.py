"""Customer budgets set in the portal, and their 80 % / 100 % alerts."""

from __future__ import annotations

from releve.services.ports import Clock, UnitOfWorkFactory


class BudgetService:
    def __init__(self, uow: UnitOfWorkFactory, clock: Clock) -> None:
        self._uow = uow
        self._clock = clock
