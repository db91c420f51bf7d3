"""Static assets: our own CSS/JS from `static/`, and plotly's bundled `plotly.min.js` served
from the installed plotly package (no CDN, works offline, nothing third-party copied here)."""

from __future__ import annotations

from pathlib import Path

import plotly
from fastapi import APIRouter
from fastapi.responses import FileResponse, Response

STATIC = Path(__file__).parent / "static"
PLOTLY_JS = Path(plotly.__file__).parent / "package_data" / "plotly.min.js"
ASSET_VERSION = plotly.__version__  # appended as ?v= so browsers refetch after an upgrade

_OWN = {
    "app.css": "text/css; charset=utf-8",
    "app.js": "text/javascript; charset=utf-8",
}
_CACHE = {"Cache-Control": "public, max-age=86400", "X-Content-Type-Options": "nosniff"}

router = APIRouter(include_in_schema=False)


@router.get("/static/vendor/plotly.min.js")
def plotly_js() -> Response:
    if not PLOTLY_JS.is_file():  # pragma: no cover - a broken plotly installation
        return Response("plotly.min.js is missing from the plotly package", status_code=404)
    return FileResponse(PLOTLY_JS, media_type="text/javascript; charset=utf-8", headers=_CACHE)


@router.get("/static/{name}")
def own_asset(name: str) -> Response:
    media_type = _OWN.get(name)  # a fixed list: no path ever reaches the file system unchecked
    if media_type is None:
        return Response("not found", status_code=404, media_type="text/plain")
    return FileResponse(STATIC / name, media_type=media_type, headers=_CACHE)
