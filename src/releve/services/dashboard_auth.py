"""Operator dashboard sessions: sign in with an API key or a user account (email + password),
get a signed, expiring session token.

API-key token = base64url(organization uuid ‖ SHA-256 of the API key ‖ expiry (Unix seconds,
8 bytes) ‖ 16 random bytes) "." base64url(HMAC-SHA256); a user token is "u" ‖ organization
uuid ‖ user uuid ‖ fingerprint of the password hash (32 bytes) ‖ expiry ‖ 16 random bytes,
signed the same way. Both are keyed with a key derived from the organization's
`portal_secret` under a label of its own (domain separation: a portal link can never pass for a
session and the other way round). The organization's secret never leaves the server; the key
hash is what the store already keeps, never the key itself.

Each request re-checks the credential: revoking the API key ends every session opened with it,
changing a user's password ends that user's sessions, and rotating `portal_secret` ends every
session of the organization. A CSRF token is derived from the session (same key, another label,
the session's random part), so forms need no server state.
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
from releve.services.user_accounts import UserAccountService, credential_fingerprint

SESSION_VALIDITY = timedelta(hours=12)
_SESSION_LABEL = b"releve/dashboard-session/v1"
_CSRF_LABEL = b"releve/dashboard-csrf/v1"
_PAYLOAD_LENGTH = 16 + 32 + 8 + 16
_USER_TAG = b"u"
_USER_PAYLOAD_LENGTH = 1 + 16 + 16 + 32 + 8 + 16


@dataclass(frozen=True, slots=True)
class DashboardSession:
    organization: Organization
    expires_at: datetime
    csrf_token: str
    user_email: str | None = None  # None: signed in with an API key


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
        self._users = UserAccountService(uow, clock)

    def _issue(self, organization: Organization, head: bytes, email: str | None) -> SignedIn:
        expires_at = self._clock.now().astimezone(UTC) + self._validity
        nonce = secrets.token_bytes(16)
        payload = head + int(expires_at.timestamp()).to_bytes(8, "big") + nonce
        token = f"{_b64(payload)}.{_b64(_sign(organization, payload))}"
        return SignedIn(
            token, DashboardSession(organization, expires_at, _csrf(organization, nonce), email)
        )

    def sign_in_user(self, email: str, password: str) -> SignedIn | None:
        """A new session for the user account; None when the email or the password is wrong
        (the caller cannot tell which, by design)."""
        found = self._users.authenticate(email, password)
        if found is None:
            return None
        user, organization = found
        head = _USER_TAG + organization.id.bytes + user.id.bytes + credential_fingerprint(user)
        return self._issue(organization, head, user.email)

    def sign_in(self, api_key: str) -> SignedIn | None:
        """A new session for the organization owning `api_key`; None when the key is not valid."""
        if not api_key or len(api_key) > 200:
            return None
        key_hash = hash_api_key(api_key.strip())
        with self._uow(read_only=True) as uow:
            organization = uow.organizations.for_key_hash(key_hash)
        if organization is None:
            return None
        return self._issue(organization, organization.id.bytes + bytes.fromhex(key_hash), None)

    def session(self, token: str | None) -> DashboardSession | None:
        """The live session behind a cookie value; None if forged, expired or its key revoked."""
        if not token or len(token) > 400:
            return None
        try:
            encoded, signature = token.split(".", 1)
            payload, given = _unb64(encoded), _unb64(signature)
        except (ValueError, TypeError):
            return None
        if len(payload) == _USER_PAYLOAD_LENGTH and payload[:1] == _USER_TAG:
            return self._user_session(payload, given)
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

    def _user_session(self, payload: bytes, given: bytes) -> DashboardSession | None:
        organization_id = uuid.UUID(bytes=payload[1:17])
        user_id = uuid.UUID(bytes=payload[17:33])
        fingerprint = payload[33:65]
        expires_at = datetime.fromtimestamp(int.from_bytes(payload[65:73], "big"), UTC)
        nonce = payload[73:]
        with self._uow(read_only=True) as uow:
            organization = uow.organizations.get(organization_id)
            if organization is None or not hmac.compare_digest(_sign(organization, payload), given):
                return None
        user = self._users.get(organization_id, user_id)
        if (
            user is None
            or not hmac.compare_digest(credential_fingerprint(user), fingerprint)
            or expires_at <= self._clock.now()
        ):
            return None
        return DashboardSession(organization, expires_at, _csrf(organization, nonce), user.email)

    @staticmethod
    def check_csrf(session: DashboardSession, submitted: str | None) -> bool:
        """Whether a form's token is the one this session issued (constant-time)."""
        return bool(submitted) and hmac.compare_digest(
            session.csrf_token.encode(), str(submitted).encode()
        )
