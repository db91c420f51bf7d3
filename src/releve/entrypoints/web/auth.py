"""Sign in with an API key or a user account (email + password), sign out.

All are CSRF-protected form posts. A failed sign-in never says which of the email or the password
was wrong (one message for both), and the service spends the same work on each.
"""

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


BAD_PASSWORD = (
    "This email and password do not match an account. Check both and try again, "
    "or sign in with an API key."
)
EMPTY_FORM = "Enter your email and password, or an API key."
BAD_KEY = (
    "This API key is not valid. Check that you copied all of it, and that it has not been revoked."
)


def _form(
    request: Request,
    *,
    next_path: str,
    error: str | None,
    status_code: int,
    method: str = "password",
    email: str = "",
) -> Response:
    nonce = signin_nonce(request)
    response = render(
        request,
        "signin.html",
        status_code=status_code,
        nonce=nonce,
        next_path=next_path,
        error=error,
        method=method,
        email=email,
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
    next_path = safe_next(_text(form.get("next")) or None)
    # One form, two methods: a filled API key field chooses the key, else email + password.
    method = "api_key" if _text(form.get("api_key")) else "password"
    email = _text(form.get("email"))
    if not signin_nonce_matches(request, form.get("csrf_token")):
        return _form(
            request,
            next_path=next_path,
            error="The form expired. Please sign in again.",
            status_code=403,
            method=method,
            email=email,
        )
    if method == "password" and not (email and _text(form.get("password"))):
        return _form(
            request,
            next_path=next_path,
            error=EMPTY_FORM if not email else "Enter your password.",
            status_code=422,
            method=method,
            email=email,
        )
    auth = container.dashboard_auth
    if method == "api_key":
        signed_in = auth.sign_in(_text(form.get("api_key")))
    else:
        signed_in = auth.sign_in_user(email, _text(form.get("password"), strip=False))
    if signed_in is None:
        return _form(
            request,
            next_path=next_path,
            error=BAD_KEY if method == "api_key" else BAD_PASSWORD,
            status_code=401,
            method=method,
            email=email,
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


def _text(value: object, *, strip: bool = True) -> str:
    if not isinstance(value, str):
        return ""
    return value.strip() if strip else value


@router.post("/sign-out")
def sign_out(_: CheckedFormDep) -> Response:
    response = RedirectResponse("/sign-in", status_code=303)
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response
