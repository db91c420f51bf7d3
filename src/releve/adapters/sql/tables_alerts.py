"""Progressive billing (usage thresholds reached) and subscription alerts with their triggers.

Same `MetaData` as `tables.py`; a migration creates exactly these tables (the schema test
compares, through `schema.metadata`).
"""

from __future__ import annotations

from releve.adapters.sql.tables import metadata

__all__ = ["metadata"]
