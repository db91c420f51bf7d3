"""Lago's error envelope for every error, including framework and validation errors.

400 malformed JSON or missing root wrapper; 401 {"status":401,"error":"Unauthorized"};
404 {"status":404,"error":"Not Found","code":"<resource>_not_found"};
422 {"status":422,"error":"Unprocessable Entity","code":"validation_errors","error_details":{…}}.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from http import HTTPStatus
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException

from releve.entrypoints.api.exact import ExactJSONResponse
from releve.services.errors import NotFound, StoreConflict, ValidationFailed

log = logging.getLogger(__name__)

# The single body key each write endpoint expects; its absence is a 400 as in Lago.
ROOT_KEYS = {"event", "events", "customer", "tax", "billable_metric"}


class Unauthorized(Exception):
    pass


def envelope(status: int, code: str | None = None, **extra: Any) -> ExactJSONResponse:
    body: dict[str, Any] = {"status": status, "error": HTTPStatus(status).phrase}
    if code is not None:
        body["code"] = code
    body.update(extra)
    return ExactJSONResponse(body, status_code=status)


def validation_response(error_details: dict[str, Any]) -> ExactJSONResponse:
    return envelope(422, "validation_errors", error_details=error_details)


def _lago_code(error_type: str) -> str:
    if error_type == "missing":
        return "value_is_mandatory"
    if error_type in ("string_too_long", "too_long"):
        return "value_is_too_long"
    return "value_is_invalid"


def _details(errors: Sequence[Any]) -> dict[str, Any]:
    """Map pydantic error locations to Lago's field → [codes], batches keyed by index."""
    details: dict[str, Any] = {}
    for error in errors:
        loc = [p for p in error.get("loc", ()) if p not in ("body", "query", "path", "header")]
        code = _lago_code(error.get("type", ""))
        if len(loc) >= 2 and loc[0] == "events" and isinstance(loc[1], int):
            inner = details.setdefault(str(loc[1]), {})
            field = ".".join(str(p) for p in loc[2:]) or "event"
            inner.setdefault(field, []).append(code)
            continue
        if loc and loc[0] in ROOT_KEYS and len(loc) > 1:
            loc = loc[1:]
        field = ".".join(str(p) for p in loc) or "body"
        details.setdefault(field, []).append(code)
    return details


def _is_bad_request(errors: Sequence[Any]) -> str | None:
    for error in errors:
        loc = tuple(error.get("loc", ()))
        if error.get("type") == "json_invalid":
            return "BadRequest: malformed JSON"
        if loc == ("body",):
            return "BadRequest: the request body must be a JSON object"
        wrapper_broken = error.get("type") in ("missing", "model_attributes_type", "dict_type")
        if len(loc) == 2 and loc[0] == "body" and loc[1] in ROOT_KEYS and wrapper_broken:
            return f"BadRequest: param is missing or the value is empty: {loc[1]}"
    return None


def install(app: FastAPI) -> None:
    @app.exception_handler(RequestValidationError)
    async def _validation(_: Request, exc: RequestValidationError) -> ExactJSONResponse:
        errors = exc.errors()
        message = _is_bad_request(errors)
        if message is not None:
            return ExactJSONResponse({"status": 400, "error": message}, status_code=400)
        return validation_response(_details(errors))

    @app.exception_handler(ValidationFailed)
    async def _failed(_: Request, exc: ValidationFailed) -> ExactJSONResponse:
        return validation_response(exc.error_details)

    @app.exception_handler(NotFound)
    async def _not_found(_: Request, exc: NotFound) -> ExactJSONResponse:
        return envelope(404, exc.code)

    @app.exception_handler(Unauthorized)
    async def _unauthorized(_: Request, __: Unauthorized) -> ExactJSONResponse:
        return envelope(401)

    @app.exception_handler(StoreConflict)
    async def _conflict(_: Request, __: StoreConflict) -> ExactJSONResponse:
        return envelope(409, "concurrent_update")

    @app.exception_handler(HTTPException)
    async def _http(_: Request, exc: HTTPException) -> ExactJSONResponse:
        if exc.status_code == 400:
            return ExactJSONResponse(
                {"status": 400, "error": f"BadRequest: {exc.detail}"}, status_code=400
            )
        code = {404: "not_found", 405: "method_not_allowed"}.get(exc.status_code)
        return envelope(exc.status_code, code)

    @app.exception_handler(Exception)
    async def _unexpected(_: Request, exc: Exception) -> ExactJSONResponse:
        log.exception("unhandled error", exc_info=exc)
        return envelope(500)
