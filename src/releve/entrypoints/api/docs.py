"""The interactive API docs at `/docs`, served offline.

FastAPI's default page loads Swagger UI from a CDN, so `/docs` is blank on a machine without
internet (Relevé must work offline). The assets come from the `fastapi-offline` package, installed
from the registry like any dependency, and are served from this server.
"""

from __future__ import annotations

from pathlib import Path

import fastapi_offline
from fastapi import FastAPI
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles

ASSETS_URL = "/static-docs"
_ASSETS = Path(fastapi_offline.__file__).parent / "static"


def mount(app: FastAPI, path: str = "/docs") -> None:
    """Serve Swagger UI for `app.openapi_url` at `path` with local assets."""
    app.mount(ASSETS_URL, StaticFiles(directory=_ASSETS), name="static-docs")
    openapi_url = app.openapi_url
    assert openapi_url is not None

    @app.get(path, include_in_schema=False)
    def swagger_ui() -> HTMLResponse:
        return get_swagger_ui_html(
            openapi_url=openapi_url,
            title=f"{app.title} — API docs",
            swagger_js_url=f"{ASSETS_URL}/swagger-ui-bundle.js",
            swagger_css_url=f"{ASSETS_URL}/swagger-ui.css",
            swagger_favicon_url=f"{ASSETS_URL}/favicon.png",
        )
