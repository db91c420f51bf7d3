"""The FastAPI application: Lago-compatible REST API under /api/v1, dashboard and portal."""

from __future__ import annotations

from fastapi import FastAPI

from releve import __version__
from releve.bootstrap import Container, bootstrap
from releve.entrypoints.api import docs, errors
from releve.entrypoints.api.exact import ExactJSONResponse
from releve.entrypoints.api.routes import (
    add_ons,
    adjustments,
    alerts,
    billable_metrics,
    budgets,
    coupons,
    credit_notes,
    customers,
    events,
    fees,
    invoice_files,
    invoices,
    plans,
    subscriptions,
    taxes,
    usage,
    wallets,
    webhook_endpoints,
)

API_PREFIX = "/api/v1"


def create_app(container: Container | None = None) -> FastAPI:
    """Build the app around `container` (from the environment when omitted)."""
    from releve.entrypoints import web  # the web pages share the same container

    container = container or bootstrap()
    app = FastAPI(
        title="Relevé API",
        version=__version__,
        description="Usage-based billing, compatible with the Lago v1 API.",
        openapi_url=f"{API_PREFIX}/openapi.json",
        docs_url=None,  # served offline by `docs.mount` below
        redoc_url=None,
        default_response_class=ExactJSONResponse,
    )
    app.state.container = container
    errors.install(app)
    docs.mount(app)
    for module in (
        events,
        usage,
        customers,
        taxes,
        billable_metrics,
        plans,
        subscriptions,
        invoice_files,
        invoices,
        fees,
        coupons,
        add_ons,
        wallets,
        credit_notes,
        webhook_endpoints,
        budgets,
        adjustments,
        alerts,
    ):
        app.include_router(module.router, prefix=API_PREFIX)
    web.mount(app)

    @app.get("/health", include_in_schema=False)
    def health() -> dict[str, str]:
        return {"status": "ok"}

    return app
