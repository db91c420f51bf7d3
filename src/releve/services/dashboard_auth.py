"""Operator dashboard sessions: sign in with an API key, get a signed, expiring session token.

Token = base64url(organization uuid ‖ SHA-256 of the API key ‖ expiry (Unix seconds, 8 bytes) ‖
16 random bytes) "." base64url(HMAC-SHA256), keyed with a key derived from the organization's
`portal_secret` under a label of its own (domain separation: a portal link can never pass for a
session and the other way round). The organization's secret never leaves the server; the key
hash is what the store already keeps, never the key itself.

Each request re-checks the key: revoking the API key ends every session opened with it, and
rotating `portal_secret` ends every session of the organization. A CSRF token is derived from
the session (same key, another label, the session's random part), so forms need no server state.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from releve.services.organizations import hash_api_key
from releve.services.ports import Clock, UnitOfWorkFactory
from releve.services.records import Organization

SESSION_VALIDITY = timedelta(hours=12)
_SESSION_LABEL = b"releve/dashboard-session/v1"
_CSRF_LABEL = b"releve/dashboard-csrf/v1"
_PAYLOAD_LENGTH = 16 + 32 + 8 + 16


@dataclass(frozen=True, slots=True)
class DashboardSession:
    organization: Organization
    expires_at: datetime
    csrf_token: str


@dataclass(frozen=True, slots=True)
class SignedIn:
    token: str  # the cookie value
    session: DashboardSession


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _key(organization: Organization) -> bytes:
    return hmac.new(organization.portal_secret.encode(), _SESSION_LABEL, hashlib.sha256).digest()


def _sign(organization: Organization, payload: bytes) -> bytes:
    return hmac.new(_key(organization), payload, hashlib.sha256).digest()


def _csrf(organization: Organization, nonce: bytes) -> str:
    return _b64(hmac.new(_key(organization), _CSRF_LABEL + nonce, hashlib.sha256).digest()[:24])


class DashboardAuthService:
    def __init__(
        self, uow: UnitOfWorkFactory, clock: Clock, validity: timedelta = SESSION_VALIDITY
    ) -> None:
        self._uow = uow
        self._clock = clock
        self._validity = validity

    def sign_in(self, api_key: str) -> SignedIn | None:
        """A new session for the organization owning `api_key`; None when the key is not valid."""
        if not api_key or len(api_key) > 200:
            return None
        key_hash = hash_api_key(api_key.strip())
        with self._uow(read_only=True) as uow:
            organization = uow.organizations.for_key_hash(key_hash)
        if organization is None:
            return None
        expires_at = self._clock.now().astimezone(UTC) + self._validity
        nonce = secrets.token_bytes(16)
        payload = (
            organization.id.bytes
            + bytes.fromhex(key_hash)
            + int(expires_at.timestamp()).to_bytes(8, "big")
            + nonce
        )
        token = f"{_b64(payload)}.{_b64(_sign(organization, payload))}"
        return SignedIn(
            token, DashboardSession(organization, expires_at, _csrf(organization, nonce))
        )

    def session(self, token: str | None) -> DashboardSession | None:
        """The live session behind a cookie value; None if forged, expired or its key revoked."""
        if not token or len(token) > 400:
            return None
        try:
            encoded, signature = token.split(".", 1)
            payload, given = _unb64(encoded), _unb64(signature)
        except (ValueError, TypeError):
            return None
        if len(payload) != _PAYLOAD_LENGTH:
            return None
        organization_id = uuid.UUID(bytes=payload[:16])
        key_hash = payload[16:48].hex()
        expires_at = datetime.fromtimestamp(int.from_bytes(payload[48:56], "big"), UTC)
        nonce = payload[56:]
        with self._uow(read_only=True) as uow:
            organization = uow.organizations.get(organization_id)
            if organization is None or not hmac.compare_digest(_sign(organization, payload), given):
                return None
            owner = uow.organizations.for_key_hash(key_hash)
        if owner is None or owner.id != organization.id or expires_at <= self._clock.now():
            return None
        return DashboardSession(organization, expires_at, _csrf(organization, nonce))

    @staticmethod
    def check_csrf(session: DashboardSession, submitted: str | None) -> bool:
        """Whether a form's token is the one this session issued (constant-time)."""
        return bool(submitted) and hmac.compare_digest(
            session.csrf_token.encode(), str(submitted).encode()
        )
