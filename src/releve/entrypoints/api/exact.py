"""Exact JSON at the HTTP edge: request bodies parsed with Decimal numbers, responses written
with each Decimal's exact text. FastAPI's defaults go through float; these do not."""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Any

from fastapi.routing import APIRoute
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from releve.services import exact_json


class ExactJSONRequest(Request):
    async def json(self) -> Any:
        if not hasattr(self, "_json"):
            body = await self.body()
            self._json = exact_json.loads(body)
        return self._json


class ExactRoute(APIRoute):
    """An APIRoute whose handlers see `ExactJSONRequest`, so body models receive Decimals."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def exact_handler(request: Request) -> Response:
            return await handler(ExactJSONRequest(request.scope, request.receive))

        return exact_handler


class ExactJSONResponse(JSONResponse):
    def render(self, content: Any) -> bytes:
        return exact_json.dumps(content).encode("utf-8")
