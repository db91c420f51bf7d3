"""Everything that does I/O: SQL store, migrations, currency catalog, PDF, webhook sender."""
