"""`/docs` works offline: Swagger UI's assets are served by Relevé itself, never a CDN."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient


def test_docs_page_loads_swagger_ui_from_this_server(api: TestClient) -> None:
    page = api.get("/docs")
    assert page.status_code == 200
    assert "/api/v1/openapi.json" in page.text
    sources = re.findall(r'(?:src|href)="([^"]+)"', page.text)
    assert sources and all(s.startswith("/") for s in sources), sources  # no http(s)://
    script = api.get("/static-docs/swagger-ui-bundle.js")
    assert script.status_code == 200 and len(script.content) > 100_000
    assert api.get("/static-docs/swagger-ui.css").status_code == 200
    assert api.get("/api/v1/openapi.json").json()["info"]["title"] == "Relevé API"
