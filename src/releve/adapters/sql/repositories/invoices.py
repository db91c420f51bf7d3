"""Invoices with their fees, applied taxes and billed subscription periods; invoice numbers.

Numbers: `invoice_number_sequences` holds each organization's last number. The next one is taken
with one INSERT … ON CONFLICT DO UPDATE … RETURNING inside the finalizing transaction: on
PostgreSQL the row stays locked until that transaction ends (a concurrent finalizer waits and
then reads the committed value; a rollback gives the number back), and SQLite write transactions
are serialized by BEGIN IMMEDIATE. Numbers are therefore gapless per organization.
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime
from typing import Any
from uuid import UUID

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

from releve.adapters.sql.repositories.base import count_and_page, to_record, to_row
from releve.adapters.sql.tables import charge_filters, subscriptions
from releve.adapters.sql.tables_billing import (
    applied_taxes,
    fees,
    invoice_number_sequences,
    invoice_subscriptions,
    invoices,
)
from releve.services.billing_ports import FeeFilter, InvoiceFilter
from releve.services.billing_records import (
    INVOICE_DRAFT,
    AppliedTax,
    Fee,
    Invoice,
    InvoiceSubscription,
)
from releve.services.pagination import PageRequest
from releve.services.records import (
    SUBSCRIPTION_ACTIVE,
    SUBSCRIPTION_TERMINATED,
    Subscription,
)


class SqlInvoiceRepository:
    def __init__(self, connection: sa.Connection) -> None:
        self._c = connection

    # --- billing run -------------------------------------------------------------------------

    def billing_candidates(self, at: datetime) -> list[Subscription]:
        links = invoice_subscriptions
        last_billed = (
            sa.select(sa.func.max(links.c.boundary))
            .where(links.c.subscription_id == subscriptions.c.id)
            .scalar_subquery()
        )
        rows = self._c.execute(
            subscriptions.select()
            .where(
                subscriptions.c.started_at.is_not(None),
                subscriptions.c.started_at <= at,
                sa.or_(
                    subscriptions.c.status == SUBSCRIPTION_ACTIVE,
                    sa.and_(
                        subscriptions.c.status == SUBSCRIPTION_TERMINATED,
                        subscriptions.c.terminated_at
                        > sa.func.coalesce(last_billed, subscriptions.c.started_at),
                    ),
                ),
            )
            .order_by(subscriptions.c.organization_id, subscriptions.c.started_at)
        )
        return [to_record(Subscription, r) for r in rows]

    def billed_periods(
        self, subscription_ids: Collection[UUID]
    ) -> dict[UUID, list[InvoiceSubscription]]:
        found: dict[UUID, list[InvoiceSubscription]] = {s: [] for s in subscription_ids}
        ids = sorted(subscription_ids)
        for start in range(0, len(ids), 500):
            rows = self._c.execute(
                invoice_subscriptions.select()
                .where(invoice_subscriptions.c.subscription_id.in_(ids[start : start + 500]))
                .order_by(invoice_subscriptions.c.boundary)
            )
            for row in rows:
                found[row.subscription_id].append(to_record(InvoiceSubscription, row))
        return found

    def period_billed(self, subscription_id: UUID, kind: str, period_start: datetime) -> bool:
        params = {"sub": subscription_id, "kind": kind, "start": period_start}
        return self._c.execute(_PERIOD_BILLED, params).first() is not None

    def add(
        self,
        invoice: Invoice,
        links: Collection[InvoiceSubscription],
        fee_rows: Collection[Fee],
        taxes: Collection[AppliedTax],
    ) -> None:
        # Parameters, not `.values(...)`: the statement is compiled once, not per invoice.
        self._c.execute(invoices.insert(), to_row(invoice))
        if links:
            self._c.execute(invoice_subscriptions.insert(), [to_row(link) for link in links])
        # Parents first: a true-up fee points at its parent fee.
        ordered = sorted(fee_rows, key=lambda f: f.true_up_parent_fee_id is not None)
        if ordered:
            self._c.execute(fees.insert(), [to_row(f) for f in ordered])
        if taxes:
            self._c.execute(applied_taxes.insert(), [to_row(t) for t in taxes])

    def next_sequential_id(self, organization_id: UUID) -> int:
        statement = _NEXT_NUMBER[self._c.dialect.name == "postgresql"]
        return int(self._c.execute(statement, {"org": organization_id}).scalar_one())

    def update(self, invoice: Invoice) -> None:
        values = to_row(invoice)
        values["_invoice_id"] = values.pop("id")
        self._c.execute(_UPDATE, values)

    def replace_lines(
        self, invoice: Invoice, fee_rows: Collection[Fee], taxes: Collection[AppliedTax]
    ) -> None:
        """A refreshed draft: its fees and applied taxes replaced, its totals updated."""
        self._c.execute(
            fees.delete().where(
                fees.c.invoice_id == invoice.id, fees.c.true_up_parent_fee_id.is_not(None)
            )
        )
        self._c.execute(fees.delete().where(fees.c.invoice_id == invoice.id))
        self._c.execute(applied_taxes.delete().where(applied_taxes.c.invoice_id == invoice.id))
        self.update(invoice)
        ordered = sorted(fee_rows, key=lambda f: f.true_up_parent_fee_id is not None)
        if ordered:
            self._c.execute(fees.insert(), [to_row(f) for f in ordered])
        if taxes:
            self._c.execute(applied_taxes.insert(), [to_row(t) for t in taxes])

    def drafts(self) -> list[Invoice]:
        rows = self._c.execute(
            invoices.select()
            .where(invoices.c.status == INVOICE_DRAFT)
            .order_by(invoices.c.organization_id, invoices.c.created_at, invoices.c.id)
        )
        return [to_record(Invoice, r) for r in rows]

    def get_for_update(self, organization_id: UUID, invoice_id: UUID) -> Invoice | None:
        """The invoice, its row locked until the transaction ends (PostgreSQL; SQLite write
        transactions are serialized)."""
        row = self._c.execute(
            invoices.select()
            .where(invoices.c.organization_id == organization_id, invoices.c.id == invoice_id)
            .with_for_update()
        ).first()
        return to_record(Invoice, row) if row else None

    # --- reads -------------------------------------------------------------------------------

    def get(self, organization_id: UUID, invoice_id: UUID) -> Invoice | None:
        row = self._c.execute(
            invoices.select().where(
                invoices.c.organization_id == organization_id, invoices.c.id == invoice_id
            )
        ).first()
        return to_record(Invoice, row) if row else None

    def by_ids(self, organization_id: UUID, invoice_ids: Collection[UUID]) -> dict[UUID, Invoice]:
        ids = sorted(set(invoice_ids))
        found: dict[UUID, Invoice] = {}
        for start in range(0, len(ids), 500):
            rows = self._c.execute(
                invoices.select().where(
                    invoices.c.organization_id == organization_id,
                    invoices.c.id.in_(ids[start : start + 500]),
                )
            )
            found.update((row.id, to_record(Invoice, row)) for row in rows)
        return found

    def list_invoices(
        self, organization_id: UUID, filters: InvoiceFilter, page: PageRequest
    ) -> tuple[list[Invoice], int]:
        query = invoices.select().where(
            invoices.c.organization_id == organization_id,
            invoices.c.status.in_(filters.statuses),
        )
        if filters.customer_id is not None:
            query = query.where(invoices.c.customer_id == filters.customer_id)
        if filters.payment_status is not None:
            query = query.where(invoices.c.payment_status == filters.payment_status)
        if filters.invoice_type is not None:
            query = query.where(invoices.c.invoice_type == filters.invoice_type)
        if filters.issuing_date_from is not None:
            query = query.where(invoices.c.issuing_date >= filters.issuing_date_from)
        if filters.issuing_date_to is not None:
            query = query.where(invoices.c.issuing_date <= filters.issuing_date_to)
        query = query.order_by(invoices.c.created_at.desc(), invoices.c.id)
        rows, total = count_and_page(self._c, query, page.offset, page.per_page)
        return [to_record(Invoice, r) for r in rows], total

    def _children(self, table: sa.Table, invoice_ids: Collection[UUID]) -> dict[UUID, list[Any]]:
        found: dict[UUID, list[Any]] = {i: [] for i in invoice_ids}
        ids = sorted(invoice_ids)
        order = table.c.position if "position" in table.c else table.c.created_at
        for start in range(0, len(ids), 500):
            rows = self._c.execute(
                table.select()
                .where(table.c.invoice_id.in_(ids[start : start + 500]))
                .order_by(table.c.invoice_id, order)
            )
            for row in rows:
                found[row.invoice_id].append(row)
        return found

    def fees_for(self, invoice_ids: Collection[UUID]) -> dict[UUID, list[Fee]]:
        rows = self._children(fees, invoice_ids)
        return {k: [to_record(Fee, r) for r in v] for k, v in rows.items()}

    def taxes_for(self, invoice_ids: Collection[UUID]) -> dict[UUID, list[AppliedTax]]:
        rows = self._children(applied_taxes, invoice_ids)
        return {k: [to_record(AppliedTax, r) for r in v] for k, v in rows.items()}

    def links_for(self, invoice_ids: Collection[UUID]) -> dict[UUID, list[InvoiceSubscription]]:
        rows = self._children(invoice_subscriptions, invoice_ids)
        return {k: [to_record(InvoiceSubscription, r) for r in v] for k, v in rows.items()}

    def get_fee(self, organization_id: UUID, fee_id: UUID) -> Fee | None:
        row = self._c.execute(
            fees.select().where(fees.c.organization_id == organization_id, fees.c.id == fee_id)
        ).first()
        return to_record(Fee, row) if row else None

    def list_fees(
        self, organization_id: UUID, filters: FeeFilter, page: PageRequest
    ) -> tuple[list[Fee], int]:
        query = (
            sa.select(fees)
            .join(invoices, invoices.c.id == fees.c.invoice_id)
            .where(
                fees.c.organization_id == organization_id,
                invoices.c.status.in_(filters.invoice_statuses),
            )
        )
        if filters.fee_type is not None:
            query = query.where(fees.c.fee_type == filters.fee_type)
        if filters.payment_status is not None:
            query = query.where(fees.c.payment_status == filters.payment_status)
        if filters.customer_id is not None:
            query = query.where(invoices.c.customer_id == filters.customer_id)
        if filters.external_subscription_id is not None:
            query = query.join(subscriptions, subscriptions.c.id == fees.c.subscription_id).where(
                subscriptions.c.external_id == filters.external_subscription_id
            )
        query = query.order_by(fees.c.created_at.desc(), fees.c.invoice_id, fees.c.position)
        rows, total = count_and_page(self._c, query, page.offset, page.per_page)
        return [to_record(Fee, r) for r in rows], total

    def charge_filter_ids(self, charge_ids: Collection[UUID]) -> dict[tuple[UUID, int], UUID]:
        if not charge_ids:
            return {}
        rows = self._c.execute(
            sa.select(
                charge_filters.c.charge_id, charge_filters.c.position, charge_filters.c.id
            ).where(charge_filters.c.charge_id.in_(sorted(charge_ids)))
        )
        return {(r.charge_id, r.position): r.id for r in rows}


def _next_number(insert: Any) -> Any:
    seq = invoice_number_sequences
    return (
        insert.values(organization_id=sa.bindparam("org"), last_sequential_id=1)
        .on_conflict_do_update(
            index_elements=[seq.c.organization_id],
            set_={"last_sequential_id": seq.c.last_sequential_id + 1},
        )
        .returning(seq.c.last_sequential_id)
    )


# Built once (per dialect): a statement built per call is walked for its cache key each time.
_NEXT_NUMBER = {
    True: _next_number(postgresql.insert(invoice_number_sequences)),
    False: _next_number(sqlite.insert(invoice_number_sequences)),
}
_UPDATE = invoices.update().where(invoices.c.id == sa.bindparam("_invoice_id"))
_PERIOD_BILLED = sa.select(invoice_subscriptions.c.invoice_id).where(
    invoice_subscriptions.c.subscription_id == sa.bindparam("sub"),
    invoice_subscriptions.c.kind == sa.bindparam("kind"),
    invoice_subscriptions.c.period_start == sa.bindparam("start"),
)
