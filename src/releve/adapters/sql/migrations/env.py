"""Alembic environment: always run programmatically by `releve.adapters.sql.migrate`.

The caller passes an open connection in `config.attributes["connection"]`; no alembic.ini and no
URL in a file are needed at run time.
"""

from __future__ import annotations

from alembic import context

from releve.adapters.sql.schema import metadata

connection = context.config.attributes["connection"]
context.configure(
    connection=connection,
    target_metadata=metadata,
    render_as_batch=connection.dialect.name == "sqlite",
    compare_type=True,
)
with context.begin_transaction():
    context.run_migrations()
