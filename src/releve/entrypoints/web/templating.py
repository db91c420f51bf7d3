"""Jinja2 rendering for the dashboard and the portal: autoescaped, strict, security headers.

Templates only lay out what a route hands them (already-computed view data and a `fmt`
formatter); no business rule lives in a template.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import quote, urlencode

from fastapi import Request
from fastapi.responses import HTMLResponse
from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from releve.entrypoints.web.formatting import Formatter
from releve.services import exact_json

TEMPLATES = Path(__file__).parent / "templates"

# Scripts and styles are ours, served from this origin; plotly injects <style> elements, hence
# 'unsafe-inline' for styles only. No third-party origin is ever contacted.
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; font-src 'self' data:; connect-src 'self'; "
    "frame-ancestors 'none'; base-uri 'none'; form-action 'self'"
)
SECURITY_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    # Portal URLs carry a credential (the signed token): never leak them in a Referer.
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
}

env = Environment(
    loader=FileSystemLoader(TEMPLATES),
    autoescape=select_autoescape(default=True, default_for_string=True),
    undefined=StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)
env.filters["urlpart"] = lambda value: quote(str(value), safe="")
env.filters["compact_json"] = exact_json.dumps  # Decimals stay exact, never floats


def _query(request: Request, **changes: Any) -> str:
    """The current query string with some parameters replaced (None removes one)."""
    params = dict(request.query_params)
    for key, value in changes.items():
        if value is None or value == "":
            params.pop(key, None)
        else:
            params[key] = str(value)
    return "?" + urlencode(params) if params else "?"


def render(
    request: Request,
    template: str,
    *,
    status_code: int = 200,
    fmt: Formatter | None = None,
    **context: Any,
) -> HTMLResponse:
    context.setdefault("session", getattr(request.state, "dashboard_session", None))
    context.setdefault("active", "")
    html = env.get_template(template).render(
        request=request,
        path=request.url.path,
        query=lambda **changes: _query(request, **changes),
        fmt=fmt or Formatter(),
        **context,
    )
    return HTMLResponse(html, status_code=status_code, headers=SECURITY_HEADERS)
