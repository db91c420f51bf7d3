"""Budgets and their alert crossings, per organization (never commits; the unit of work does)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from uuid import UUID

import sqlalchemy as sa

from releve.adapters.sql.repositories.base import to_record, to_row
from releve.adapters.sql.tables_portal import budget_alerts, budgets
from releve.services.budgets import Budget, BudgetAlert


class SqlBudgetRepository:
    def __init__(self, connection: sa.Connection) -> None:
        self._c = connection

    def for_customer(self, organization_id: UUID, customer_id: UUID) -> Budget | None:
        row = self._c.execute(
            budgets.select().where(
                budgets.c.organization_id == organization_id,
                budgets.c.customer_id == customer_id,
            )
        ).first()
        return to_record(Budget, row) if row else None

    def all(self) -> Sequence[Budget]:
        """Every budget of every organization (the scheduler's round), oldest first."""
        return [
            to_record(Budget, r)
            for r in self._c.execute(budgets.select().order_by(budgets.c.created_at, budgets.c.id))
        ]

    def add(self, budget: Budget) -> None:
        self._c.execute(budgets.insert().values(**to_row(budget)))

    def update(self, budget: Budget) -> None:
        self._c.execute(
            budgets.update()
            .where(budgets.c.id == budget.id, budgets.c.organization_id == budget.organization_id)
            .values(amount_cents=budget.amount_cents, currency=budget.currency,
                    updated_at=budget.updated_at)
        )  # fmt: skip

    def delete(self, budget: Budget) -> None:
        self._c.execute(
            budget_alerts.delete().where(
                budget_alerts.c.budget_id == budget.id,
                budget_alerts.c.organization_id == budget.organization_id,
            )
        )
        self._c.execute(
            budgets.delete().where(
                budgets.c.id == budget.id, budgets.c.organization_id == budget.organization_id
            )
        )

    def alerts(self, budget: Budget, period_start: datetime) -> Sequence[BudgetAlert]:
        """The crossings recorded for the period starting at `period_start`, lowest first."""
        return [
            to_record(BudgetAlert, r)
            for r in self._c.execute(
                budget_alerts.select()
                .where(
                    budget_alerts.c.organization_id == budget.organization_id,
                    budget_alerts.c.budget_id == budget.id,
                    budget_alerts.c.period_start == period_start,
                )
                .order_by(budget_alerts.c.threshold)
            )
        ]

    def add_alert(self, alert: BudgetAlert) -> None:
        """Insert one crossing; a concurrent duplicate fails on the unique key (retried)."""
        self._c.execute(budget_alerts.insert().values(**to_row(alert)))

    def clear_alerts(self, budget: Budget, period_start: datetime) -> None:
        self._c.execute(
            budget_alerts.delete().where(
                budget_alerts.c.organization_id == budget.organization_id,
                budget_alerts.c.budget_id == budget.id,
                budget_alerts.c.period_start == period_start,
            )
        )
