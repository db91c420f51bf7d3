"""The two web faces of Relevé, served by the API's app from the same services.

- Operator dashboard at `/` (sign-in with an API key, session cookie, CSRF-protected forms).
- Customer portal at `/portal/<signed token>`.

`mount(app)` adds the routes, the static assets and the HTML error pages.
"""

from __future__ import annotations

from urllib.parse import quote

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, RedirectResponse, Response


def mount(app: FastAPI) -> None:
    from releve.entrypoints.web import (
        assets,
        auth,
        catalog,
        customers,
        events,
        overview,
        portal,
    )
    from releve.entrypoints.web.security import CsrfRejected, PageNotFound, SignInRequired
    from releve.entrypoints.web.templating import render

    for module in (assets, auth, overview, customers, catalog, events, portal):
        app.include_router(module.router)

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

    @app.exception_handler(PageNotFound)
    async def _not_found(request: Request, exc: PageNotFound) -> Response:
        return render(
            request,
            "error.html",
            status_code=404,
            title="Not found",
            message=f"There is no such {exc.what} in this organization.",
        )
