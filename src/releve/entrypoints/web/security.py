"""Dashboard session cookie, sign-in requirement and CSRF checks for every form post.

- Session: `releve_session`, the signed token of `DashboardAuthService` (HttpOnly, SameSite=Lax,
  Secure on https, 12 h). Each request re-verifies it (signature, expiry, API key not revoked).
- CSRF on signed-in forms: a hidden `csrf_token` derived from the session (HMAC), compared in
  constant time; a post without it, or with another session's, is refused with 403.
- CSRF on the sign-in form (no session yet): a random double-submit cookie
  `releve_signin_csrf` (SameSite=Strict) that the form must echo.
"""

from __future__ import annotations

import hmac
import secrets
from typing import Annotated

from fastapi import Depends, Request
from starlette.datastructures import FormData

from releve.bootstrap import Container
from releve.services.dashboard_auth import SESSION_VALIDITY, DashboardAuthService, DashboardSession

SESSION_COOKIE = "releve_session"
SIGNIN_COOKIE = "releve_signin_csrf"
CSRF_FIELD = "csrf_token"


class SignInRequired(Exception):
    """No valid session: pages redirect to the sign-in form, JSON endpoints answer 401."""


class CsrfRejected(Exception):
    """A form post without the token of the current session."""


class PageNotFound(Exception):
    """Not in this organization (or nowhere): one 404 page for both, by design."""

    def __init__(self, what: str = "page") -> None:
        super().__init__(what)
        self.what = what


def get_container(request: Request) -> Container:
    container: Container = request.app.state.container
    return container


ContainerDep = Annotated[Container, Depends(get_container)]


def optional_session(request: Request, container: ContainerDep) -> DashboardSession | None:
    session = container.dashboard_auth.session(request.cookies.get(SESSION_COOKIE))
    request.state.dashboard_session = session
    return session


def current_session(
    session: Annotated[DashboardSession | None, Depends(optional_session)],
) -> DashboardSession:
    if session is None:
        raise SignInRequired()
    return session


SessionDep = Annotated[DashboardSession, Depends(current_session)]


async def form_data(request: Request) -> FormData:
    return await request.form()


FormDep = Annotated[FormData, Depends(form_data)]


def checked_form(session: SessionDep, form: FormDep) -> FormData:
    """The posted form, once its CSRF token matches the session's."""
    token = form.get(CSRF_FIELD)
    if not isinstance(token, str) or not DashboardAuthService.check_csrf(session, token):
        raise CsrfRejected()
    return form


CheckedFormDep = Annotated[FormData, Depends(checked_form)]


def signin_nonce(request: Request) -> str:
    return request.cookies.get(SIGNIN_COOKIE) or secrets.token_urlsafe(24)


def signin_nonce_matches(request: Request, submitted: object) -> bool:
    cookie = request.cookies.get(SIGNIN_COOKIE)
    return (
        bool(cookie)
        and isinstance(submitted, str)
        and hmac.compare_digest(str(cookie).encode(), submitted.encode())
    )


def is_https(request: Request) -> bool:
    return request.url.scheme == "https"


SESSION_MAX_AGE = int(SESSION_VALIDITY.total_seconds())


def safe_next(target: str | None) -> str:
    """Only same-site paths: never an open redirect to another host."""
    if target and target.startswith("/") and not target.startswith(("//", "/\\")):
        return target
    return "/"


SECURITY_NO_STORE = {"Cache-Control": "no-store", "X-Content-Type-Options": "nosniff"}
