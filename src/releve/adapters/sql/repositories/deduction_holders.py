"""Which customers hold anything an invoice could deduct: the bill run asks once per chunk, so
invoices of the (many) customers without any skip the coupon, credit note and wallet reads."""

from __future__ import annotations

from collections.abc import Collection
from uuid import UUID

import sqlalchemy as sa

from releve.adapters.sql.tables_coupons import applied_coupons
from releve.adapters.sql.tables_credit_notes import credit_notes
from releve.adapters.sql.tables_wallets import wallets


class SqlDeductionHolderRepository:
    def __init__(self, connection: sa.Connection) -> None:
        self._c = connection

    def customers_with_deductions(self, customer_ids: Collection[UUID]) -> set[UUID]:
        # Any row at all, whatever its status or balance: a superset, so a customer left out
        # has nothing to deduct for certain.
        ids = sorted(customer_ids)
        found: set[UUID] = set()
        for at in range(0, len(ids), 500):
            part = ids[at : at + 500]
            query = sa.union(
                *(
                    sa.select(t.c.customer_id).where(t.c.customer_id.in_(part))
                    for t in (applied_coupons, credit_notes, wallets)
                )
            )
            found.update(row[0] for row in self._c.execute(query))
        return found
