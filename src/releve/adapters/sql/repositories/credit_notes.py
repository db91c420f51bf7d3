"""Credit notes: stored per organization (never commits; the unit of work does).

Consumption is one INSERT … ON CONFLICT DO NOTHING on (credit_note_id, invoice_id) followed by a
guarded UPDATE of the balance (`balance >= amount AND credit_status = 'available'`), so a retry
never consumes twice and a concurrent void or consumption is detected (StoreConflict) instead
of driving a balance negative.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import datetime
from typing import Any
from uuid import UUID

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

from releve.adapters.currency_catalog import currency
from releve.adapters.sql.repositories.base import count_and_page, to_record, to_row
from releve.adapters.sql.tables_billing import fees, invoices
from releve.adapters.sql.tables_credit_notes import (
    credit_note_applied_taxes,
    credit_note_consumptions,
    credit_note_items,
    credit_notes,
)
from releve.domain.credit_notes import CreditNoteBalance
from releve.services.billing_records import INVOICE_FINALIZED, Fee
from releve.services.credit_note_records import (
    CREDIT_AVAILABLE,
    CREDIT_CONSUMED,
    CreditNote,
    CreditNoteAppliedTax,
    CreditNoteConsumption,
    CreditNoteFilter,
    CreditNoteItem,
)
from releve.services.errors import StoreConflict
from releve.services.pagination import PageRequest

_CHUNK = 500


class SqlCreditNoteRepository:
    def __init__(self, connection: sa.Connection) -> None:
        self._c = connection

    def add(
        self,
        note: CreditNote,
        items: Sequence[CreditNoteItem],
        taxes: Sequence[CreditNoteAppliedTax],
    ) -> None:
        self._c.execute(credit_notes.insert().values(**to_row(note)))
        if items:
            self._c.execute(credit_note_items.insert(), [to_row(i) for i in items])
        if taxes:
            self._c.execute(credit_note_applied_taxes.insert(), [to_row(t) for t in taxes])

    def get(self, organization_id: UUID, credit_note_id: UUID) -> CreditNote | None:
        row = self._c.execute(
            credit_notes.select().where(
                credit_notes.c.organization_id == organization_id,
                credit_notes.c.id == credit_note_id,
            )
        ).first()
        return to_record(CreditNote, row) if row else None

    def get_for_update(self, organization_id: UUID, credit_note_id: UUID) -> CreditNote | None:
        row = self._c.execute(
            credit_notes.select()
            .where(
                credit_notes.c.organization_id == organization_id,
                credit_notes.c.id == credit_note_id,
            )
            .with_for_update()
        ).first()
        return to_record(CreditNote, row) if row else None

    def for_invoice(self, invoice_id: UUID) -> list[CreditNote]:
        rows = self._c.execute(
            credit_notes.select()
            .where(credit_notes.c.invoice_id == invoice_id)
            .order_by(credit_notes.c.sequential_id)
        )
        return [to_record(CreditNote, r) for r in rows]

    def credited_by_fee(self, fee_ids: Collection[UUID]) -> dict[UUID, int]:
        found = {fee_id: 0 for fee_id in fee_ids}
        ids = sorted(fee_ids)
        for start in range(0, len(ids), _CHUNK):
            rows = self._c.execute(
                sa.select(credit_note_items.c.fee_id, sa.func.sum(credit_note_items.c.amount_cents))
                .where(credit_note_items.c.fee_id.in_(ids[start : start + _CHUNK]))
                .group_by(credit_note_items.c.fee_id)
            )
            for fee_id, total in rows:
                found[fee_id] = int(total)
        return found

    def by_automatic_key(self, organization_id: UUID, key: str) -> CreditNote | None:
        row = self._c.execute(
            credit_notes.select().where(
                credit_notes.c.organization_id == organization_id,
                credit_notes.c.automatic_key == key,
            )
        ).first()
        return to_record(CreditNote, row) if row else None

    def prepaid_fee(self, subscription_id: UUID, at: datetime) -> Fee | None:
        row = self._c.execute(
            sa.select(fees)
            .join(invoices, invoices.c.id == fees.c.invoice_id)
            .where(
                fees.c.subscription_id == subscription_id,
                fees.c.fee_type == "subscription",
                fees.c.pay_in_advance.is_(True),
                fees.c.from_datetime <= at,
                fees.c.to_datetime > at,
                invoices.c.status == INVOICE_FINALIZED,
            )
            .order_by(fees.c.created_at.desc(), fees.c.id)
            .limit(1)
        ).first()
        return to_record(Fee, row) if row else None

    def list_notes(
        self, organization_id: UUID, filters: CreditNoteFilter, page: PageRequest
    ) -> tuple[list[CreditNote], int]:
        c = credit_notes.c
        query = sa.select(credit_notes).where(c.organization_id == organization_id)
        if filters.customer_id is not None:
            query = query.where(c.customer_id == filters.customer_id)
        if filters.invoice_number is not None:
            query = query.join(invoices, invoices.c.id == c.invoice_id).where(
                invoices.c.number == filters.invoice_number
            )
        if filters.issuing_date_from is not None:
            query = query.where(c.issuing_date >= filters.issuing_date_from)
        if filters.issuing_date_to is not None:
            query = query.where(c.issuing_date <= filters.issuing_date_to)
        if filters.reason is not None:
            query = query.where(c.reason == filters.reason)
        if filters.credit_status is not None:
            query = query.where(c.credit_status == filters.credit_status)
        if filters.refund_status is not None:
            query = query.where(c.refund_status == filters.refund_status)
        query = query.order_by(c.created_at.desc(), c.id)
        rows, total = count_and_page(self._c, query, page.offset, page.per_page)
        return [to_record(CreditNote, r) for r in rows], total

    def _children(self, table: sa.Table, ids: Collection[UUID]) -> dict[UUID, list[Any]]:
        found: dict[UUID, list[Any]] = {i: [] for i in ids}
        ordered = sorted(ids)
        for start in range(0, len(ordered), _CHUNK):
            rows = self._c.execute(
                table.select()
                .where(table.c.credit_note_id.in_(ordered[start : start + _CHUNK]))
                .order_by(table.c.credit_note_id, table.c.position)
            )
            for row in rows:
                found[row.credit_note_id].append(row)
        return found

    def items_for(self, ids: Collection[UUID]) -> dict[UUID, list[CreditNoteItem]]:
        rows = self._children(credit_note_items, ids)
        return {k: [to_record(CreditNoteItem, r) for r in v] for k, v in rows.items()}

    def taxes_for(self, ids: Collection[UUID]) -> dict[UUID, list[CreditNoteAppliedTax]]:
        rows = self._children(credit_note_applied_taxes, ids)
        return {k: [to_record(CreditNoteAppliedTax, r) for r in v] for k, v in rows.items()}

    def update_status(self, note: CreditNote) -> None:
        self._c.execute(
            credit_notes.update()
            .where(credit_notes.c.id == note.id)
            .values(
                balance_amount_cents=note.balance_amount_cents,
                credit_status=note.credit_status,
                refund_status=note.refund_status,
                updated_at=note.updated_at,
                voided_at=note.voided_at,
            )
        )

    def available_balances(
        self, organization_id: UUID, customer_id: UUID, currency_code: str
    ) -> list[CreditNoteBalance]:
        c = credit_notes.c
        rows = self._c.execute(
            sa.select(c.id, c.balance_amount_cents, c.currency, c.created_at)
            .where(
                c.organization_id == organization_id,
                c.customer_id == customer_id,
                c.currency == currency_code,
                c.credit_status == CREDIT_AVAILABLE,
                c.balance_amount_cents > 0,
            )
            .order_by(c.created_at, c.id)
        )
        return [
            CreditNoteBalance(
                id=str(r.id),
                balance_amount_cents=int(r.balance_amount_cents),
                currency=currency(r.currency),
                created_at=r.created_at,
            )
            for r in rows
        ]

    def consume(self, consumption: CreditNoteConsumption, at: datetime) -> bool:
        table = credit_note_consumptions
        insert = (
            postgresql.insert(table)
            if self._c.dialect.name == "postgresql"
            else sqlite.insert(table)
        )
        inserted = self._c.execute(
            insert.values(**to_row(consumption)).on_conflict_do_nothing(
                index_elements=[table.c.credit_note_id, table.c.invoice_id]
            )
        )
        if inserted.rowcount == 0:
            return False
        c = credit_notes.c
        remaining = c.balance_amount_cents - consumption.amount_cents
        updated = self._c.execute(
            credit_notes.update()
            .where(
                c.id == consumption.credit_note_id,
                c.credit_status == CREDIT_AVAILABLE,
                c.balance_amount_cents >= consumption.amount_cents,
            )
            .values(
                balance_amount_cents=remaining,
                credit_status=sa.case((remaining == 0, CREDIT_CONSUMED), else_=c.credit_status),
                updated_at=at,
            )
        )
        if updated.rowcount != 1:
            raise StoreConflict(f"credit note {consumption.credit_note_id} balance changed")
        return True

    def consumptions_for_invoices(
        self, invoice_ids: Collection[UUID]
    ) -> dict[UUID, list[tuple[CreditNoteConsumption, CreditNote]]]:
        found: dict[UUID, list[tuple[CreditNoteConsumption, CreditNote]]] = {
            i: [] for i in invoice_ids
        }
        ids = sorted(invoice_ids)
        cons = credit_note_consumptions
        labeled = [col.label(f"cn_{col.name}") for col in credit_notes.c]
        for start in range(0, len(ids), _CHUNK):
            rows = self._c.execute(
                sa.select(cons, *labeled)
                .join(credit_notes, credit_notes.c.id == cons.c.credit_note_id)
                .where(cons.c.invoice_id.in_(ids[start : start + _CHUNK]))
                .order_by(cons.c.invoice_id, credit_notes.c.created_at, credit_notes.c.id)
            )
            for row in rows:
                m = row._mapping
                consumption = CreditNoteConsumption(**{col.name: m[col.name] for col in cons.c})
                note = CreditNote(**{col.name: m[f"cn_{col.name}"] for col in credit_notes.c})
                found[consumption.invoice_id].append((consumption, note))
        return found
