"""The whole schema: every table module registers its tables on one `MetaData`.

Import `metadata` from here (Alembic's env, the schema test) so no table is missed because its
module happened not to be imported yet.
"""

from __future__ import annotations

from releve.adapters.sql import (  # noqa: F401  (each import registers its tables)
    tables,
    tables_accounts,
    tables_adjustments,
    tables_alerts,
    tables_billing,
    tables_coupons,
    tables_credit_notes,
    tables_portal,
    tables_wallets,
    tables_webhooks,
)

metadata = tables.metadata

__all__ = ["metadata"]
