"""Late-event adjustments: finalized periods that received events after their invoice.

Same `MetaData` as `tables.py`; a migration creates exactly these tables (the schema test
compares, through `schema.metadata`).
"""

from __future__ import annotations

from releve.adapters.sql.tables import metadata

__all__ = ["metadata"]
