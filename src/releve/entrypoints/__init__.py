"""Thin entrypoints: parse, call a service, map the result (API, web pages, CLI)."""
