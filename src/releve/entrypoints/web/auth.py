"""Sign in with an API key, sign out. Both are CSRF-protected form posts."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response

from releve.entrypoints.web.security import (
    SESSION_COOKIE,
    SESSION_MAX_AGE,
    SIGNIN_COOKIE,
    CheckedFormDep,
    ContainerDep,
    FormDep,
    is_https,
    optional_session,
    safe_next,
    signin_nonce,
    signin_nonce_matches,
)
from releve.entrypoints.web.templating import render

router = APIRouter(include_in_schema=False)


def _form(request: Request, *, next_path: str, error: str | None, status_code: int) -> Response:
    nonce = signin_nonce(request)
    response = render(
        request,
        "signin.html",
        status_code=status_code,
        nonce=nonce,
        next_path=next_path,
        error=error,
        session=None,
    )
    response.set_cookie(
        SIGNIN_COOKIE,
        nonce,
        max_age=3600,
        httponly=True,
        samesite="strict",
        secure=is_https(request),
        path="/sign-in",
    )
    return response


@router.get("/sign-in")
def sign_in_page(request: Request, container: ContainerDep, next: str | None = None) -> Response:
    if optional_session(request, container) is not None:
        return RedirectResponse(safe_next(next), status_code=303)
    return _form(request, next_path=safe_next(next), error=None, status_code=200)


@router.post("/sign-in")
def sign_in(request: Request, container: ContainerDep, form: FormDep) -> Response:
    next_path = safe_next(form.get("next") if isinstance(form.get("next"), str) else None)
    if not signin_nonce_matches(request, form.get("csrf_token")):
        return _form(
            request,
            next_path=next_path,
            error="The form expired. Please enter your API key again.",
            status_code=403,
        )
    api_key = form.get("api_key")
    signed_in = container.dashboard_auth.sign_in(api_key if isinstance(api_key, str) else "")
    if signed_in is None:
        return _form(
            request,
            next_path=next_path,
            error="This API key is not valid. Check that you copied all of it, and that it "
            "has not been revoked.",
            status_code=401,
        )
    response = RedirectResponse(next_path, status_code=303)
    response.set_cookie(
        SESSION_COOKIE,
        signed_in.token,
        max_age=SESSION_MAX_AGE,
        httponly=True,
        samesite="lax",
        secure=is_https(request),
        path="/",
    )
    response.delete_cookie(SIGNIN_COOKIE, path="/sign-in")
    return response


@router.post("/sign-out")
def sign_out(_: CheckedFormDep) -> Response:
    response = RedirectResponse("/sign-in", status_code=303)
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response
