"""The two web faces of Relevé, served by the API's app from the same services.

- Operator dashboard at `/` (sign-in with an API key, session cookie, CSRF-protected forms).
- Customer portal at `/portal/<signed token>`.

`mount(app)` adds the routes, the static assets and the HTML error pages.
"""

from __future__ import annotations

from urllib.parse import quote

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, RedirectResponse, Response
from starlette.exceptions import HTTPException


def mount(app: FastAPI) -> None:
    from releve.entrypoints.web import (
        applied_coupons,
        assets,
        auth,
        catalog,
        credit_notes,
        customers,
        events,
        invoices,
        overview,
        plans,
        portal,
        portal_money,
        subscriptions,
        wallets,
        webhooks,
    )
    from releve.entrypoints.web.formatting import Formatter, locale_from_header
    from releve.entrypoints.web.security import CsrfRejected, PageNotFound, SignInRequired
    from releve.entrypoints.web.templating import render

    pages = (assets, auth, overview, customers, subscriptions, catalog, plans, invoices, events)
    money = (wallets, credit_notes, applied_coupons, webhooks)
    for module in (*pages, *money, portal, portal_money):
        app.include_router(module.router)
    # Invoice PDFs outside /api/v1: signed file links and the dashboard's download.
    from releve.entrypoints.api.routes import invoice_files

    app.include_router(invoice_files.files_router)
    app.include_router(invoice_files.dashboard_router)

    @app.exception_handler(SignInRequired)
    async def _sign_in(request: Request, _: SignInRequired) -> Response:
        if request.url.path.endswith(".json"):
            return JSONResponse({"status": 401, "error": "Unauthorized"}, status_code=401)
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        return RedirectResponse(f"/sign-in?next={quote(target, safe='')}", status_code=303)

    @app.exception_handler(CsrfRejected)
    async def _csrf(request: Request, _: CsrfRejected) -> Response:
        return render(
            request,
            "error.html",
            status_code=403,
            title="This form has expired",
            message="For your safety the form was not accepted: it did not come from this "
            "session. Go back, reload the page and send it again.",
        )

    api_http_error = app.exception_handlers[HTTPException]

    @app.exception_handler(HTTPException)
    async def _no_such_page(request: Request, exc: HTTPException) -> Response:
        """A browser at a wrong address gets a page; the API (and any non-HTML client) keeps
        its JSON envelope."""
        path, accept = request.url.path, request.headers.get("accept", "")
        if exc.status_code != 404 or path.startswith("/api/") or "text/html" not in accept:
            return await api_http_error(request, exc)
        if path.startswith("/portal/"):
            return render(
                request,
                "portal/error.html",
                status_code=404,
                fmt=Formatter(locale_from_header(request.headers.get("accept-language"))),
                title="Page not found",
                message="There is no page at this address. Open the link again from the "
                "message you received.",
            )
        return render(
            request,
            "error.html",
            status_code=404,
            title="Page not found",
            message="There is no page at this address.",
        )

    @app.exception_handler(PageNotFound)
    async def _not_found(request: Request, exc: PageNotFound) -> Response:
        return render(
            request,
            "error.html",
            status_code=404,
            title="Not found",
            message=f"There is no such {exc.what} in this organization.",
        )
