"""The SQL unit of work: one connection, one transaction, the repositories bound to it."""

from __future__ import annotations

from types import TracebackType

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from releve.adapters.sql.repositories.accounts import SqlUserAccountRepository
from releve.adapters.sql.repositories.add_ons import SqlAddOnRepository
from releve.adapters.sql.repositories.adjustments import SqlAdjustmentRepository
from releve.adapters.sql.repositories.alerts import SqlAlertRepository
from releve.adapters.sql.repositories.billable_metrics import SqlBillableMetricRepository
from releve.adapters.sql.repositories.budgets import SqlBudgetRepository
from releve.adapters.sql.repositories.coupons import SqlCouponRepository
from releve.adapters.sql.repositories.credit_notes import SqlCreditNoteRepository
from releve.adapters.sql.repositories.customers import SqlCustomerRepository
from releve.adapters.sql.repositories.deduction_holders import SqlDeductionHolderRepository
from releve.adapters.sql.repositories.events import SqlEventRepository
from releve.adapters.sql.repositories.invoices import SqlInvoiceRepository
from releve.adapters.sql.repositories.organizations import SqlOrganizationRepository
from releve.adapters.sql.repositories.plans import SqlPlanRepository
from releve.adapters.sql.repositories.subscriptions import SqlSubscriptionRepository
from releve.adapters.sql.repositories.taxes import SqlTaxRepository
from releve.adapters.sql.repositories.usage_aggregates import SqlUsageAggregateRepository
from releve.adapters.sql.repositories.wallets import SqlWalletRepository
from releve.adapters.sql.repositories.webhooks import SqlWebhookRepository
from releve.services.errors import StoreConflict

RETRYABLE_SQLSTATES = {"40001", "40P01"}  # serialization failure, deadlock detected


def is_retryable(exc: sa.exc.DBAPIError) -> bool:
    """A unique-key violation or a PostgreSQL deadlock/serialization failure."""
    return isinstance(exc, sa.exc.IntegrityError) or (
        getattr(exc.orig, "sqlstate", None) in RETRYABLE_SQLSTATES
    )


class SqlUnitOfWork:
    """`with uow:` opens a transaction; only `commit()` makes its writes durable.

    `read_only=True` opens SQLite transactions as DEFERRED (no write lock taken), so reads never
    queue behind writers.
    """

    def __init__(self, engine: Engine, *, read_only: bool = False) -> None:
        self._engine = engine
        self._read_only = read_only
        self._connection: sa.Connection | None = None

    def __enter__(self) -> SqlUnitOfWork:
        connection = self._engine.connect()
        if self._read_only:
            connection = connection.execution_options(read_only=True)
        connection.begin()
        self._connection = connection
        self.organizations = SqlOrganizationRepository(connection)
        self.customers = SqlCustomerRepository(connection)
        self.taxes = SqlTaxRepository(connection)
        self.billable_metrics = SqlBillableMetricRepository(connection)
        self.events = SqlEventRepository(connection)
        self.plans = SqlPlanRepository(connection)
        self.subscriptions = SqlSubscriptionRepository(connection)
        self.usage_aggregates = SqlUsageAggregateRepository(connection)
        self.invoices = SqlInvoiceRepository(connection)
        self.adjustments = SqlAdjustmentRepository(connection)
        self.webhooks = SqlWebhookRepository(connection)
        self.coupons = SqlCouponRepository(connection)
        self.add_ons = SqlAddOnRepository(connection)
        self.wallets = SqlWalletRepository(connection)
        self.credit_notes = SqlCreditNoteRepository(connection)
        self.budgets = SqlBudgetRepository(connection)
        self.accounts = SqlUserAccountRepository(connection)
        self.alerts = SqlAlertRepository(connection)
        self.deduction_holders = SqlDeductionHolderRepository(connection)
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        assert self._connection is not None
        try:
            self.rollback()
        finally:
            self._connection.close()
            self._connection = None
        if isinstance(exc, sa.exc.DBAPIError) and is_retryable(exc):
            # A unique key won by a concurrent transaction, or a deadlock victim: retry.
            raise StoreConflict(str(exc.orig)) from exc

    def commit(self) -> None:
        assert self._connection is not None
        try:
            self._connection.commit()
        except sa.exc.DBAPIError as exc:
            if is_retryable(exc):
                raise StoreConflict(str(exc.orig)) from exc
            raise

    def rollback(self) -> None:
        if self._connection is not None and self._connection.in_transaction():
            self._connection.rollback()


class SqlUnitOfWorkFactory:
    """Builds a unit of work per use case call (the `UnitOfWorkFactory` port)."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def __call__(self, *, read_only: bool = False) -> SqlUnitOfWork:
        return SqlUnitOfWork(self.engine, read_only=read_only)
