"""Reference (b): a do-nothing endpoint on the same server stack as `releve serve`.

Same uvicorn call (`uvicorn.run(app, host, port, log_level="info")`, so the same event loop,
HTTP parser and access log), same framework (FastAPI), same JSON parser for the body
(`exact_json.loads`, Decimal numbers). It parses the batch body, counts the events and returns
202 with an empty body: whatever this endpoint reaches is the ceiling of HTTP + JSON parsing +
the load generator on this machine, not of the store.
"""

from __future__ import annotations

import sys

from fastapi import FastAPI, Request, Response

from releve.services import exact_json


def create() -> FastAPI:
    app = FastAPI(openapi_url=None, docs_url=None, redoc_url=None)

    @app.post("/api/v1/events/batch")
    async def batch(request: Request) -> Response:
        body = exact_json.loads(await request.body())
        if not isinstance(body, dict) or not isinstance(body.get("events"), list):
            return Response(status_code=422)
        return Response(status_code=202)

    @app.get("/health")
    async def health() -> Response:
        return Response(status_code=200)

    return app


if __name__ == "__main__":
    import uvicorn

    uvicorn.run(create(), host="127.0.0.1", port=int(sys.argv[1]), log_level="info")
