"""Read-only, set-based SQL queries behind the read-model ports of the services (no writes)."""
