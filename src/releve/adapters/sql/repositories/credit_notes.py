"""Credit notes: stored per organization (never commits; the unit of work does)."""

from __future__ import annotations

import sqlalchemy as sa


class SqlCreditNoteRepository:
    def __init__(self, connection: sa.Connection) -> None:
        self._c = connection
