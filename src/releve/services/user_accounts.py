"""Dashboard user accounts: an email and a password, as an alternative to signing in with an
API key.

Passwords are hashed with scrypt (`hashlib.scrypt`), a random 16-byte salt per user, and the cost
parameters stored next to the hash (n=2**14, r=8, p=1 today: ~16 MiB and tens of milliseconds
per check), so raising the cost later keeps old accounts working. Emails are trimmed,
lower-cased and unique across organizations: the sign-in form names no organization.

`authenticate` answers the same `None` for an unknown email and a wrong password, and spends
the same scrypt work on both (a dummy hash for unknown emails), so neither the answer nor its
timing tells which one was wrong. Hashes are compared with `hmac.compare_digest`.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol, cast
from uuid import UUID

from releve.services.errors import NotFound, StoreConflict, ValidationFailed
from releve.services.ports import Clock, UnitOfWork, UnitOfWorkFactory
from releve.services.records import Organization
from releve.services.validation import Errors

SCRYPT_N, SCRYPT_R, SCRYPT_P = 2**14, 8, 1
HASH_BYTES = 64
SALT_BYTES = 16
MIN_PASSWORD = 12
MAX_PASSWORD = 1024  # scrypt hashes anything, but no one types more; bounds the work per try
MAX_EMAIL = 320


@dataclass(slots=True)
class UserAccount:
    """Field names equal the columns of `dashboard_users` (adapters/sql/tables_accounts.py)."""

    id: UUID
    organization_id: UUID
    email: str
    password_hash: str
    password_salt: str
    scrypt_n: int
    scrypt_r: int
    scrypt_p: int
    created_at: datetime
    last_sign_in_at: datetime | None = None


class UserAccountRepository(Protocol):
    def add(self, user: UserAccount) -> None: ...
    def by_email(self, email: str) -> UserAccount | None: ...
    def get(self, organization_id: UUID, user_id: UUID) -> UserAccount | None: ...
    def signed_in(self, user_id: UUID, at: datetime) -> None: ...


class AccountsUnitOfWork(UnitOfWork, Protocol):
    """The ordinary unit of work plus `accounts` (the SQL unit of work provides both)."""

    @property
    def accounts(self) -> UserAccountRepository: ...


def _scrypt(password: str, salt: bytes, n: int, r: int, p: int) -> bytes:
    return hashlib.scrypt(
        password.encode("utf-8"), salt=salt, n=n, r=r, p=p, maxmem=256 * n * r, dklen=HASH_BYTES
    )


def normalize_email(email: str) -> str:
    return email.strip().lower()


def credential_fingerprint(user: UserAccount) -> bytes:
    """What a session remembers of the password: changing it ends every session."""
    return hashlib.sha256(f"{user.password_salt}:{user.password_hash}".encode()).digest()


_DUMMY_SALT = secrets.token_bytes(SALT_BYTES)


class UserAccountService:
    def __init__(self, uow: UnitOfWorkFactory, clock: Clock) -> None:
        self._uow = uow
        self._clock = clock

    @contextmanager
    def _accounts_uow(self, *, read_only: bool = False) -> Iterator[AccountsUnitOfWork]:
        with self._uow(read_only=read_only) as uow:
            yield cast(AccountsUnitOfWork, uow)

    def create(self, organization_id: UUID | None, email: str, password: str) -> UserAccount:
        """A new account in `organization_id` (None: the default organization, else the only
        one). Errors: `email` invalid / already used, `password` too short / too long."""
        errors = Errors()
        address = normalize_email(email or "")
        local, at, domain = address.partition("@")
        if not (local and at and "." in domain) or len(address) > MAX_EMAIL or " " in address:
            errors.add("email", "value_is_invalid")
        if len(password or "") < MIN_PASSWORD:
            errors.add("password", "value_is_too_short")
        elif len(password) > MAX_PASSWORD:
            errors.add("password", "value_is_too_long")
        if errors:
            raise ValidationFailed(errors.details)
        salt = secrets.token_bytes(SALT_BYTES)
        digest = _scrypt(password, salt, SCRYPT_N, SCRYPT_R, SCRYPT_P)
        with self._accounts_uow() as uow:
            organization = self._organization(uow, organization_id)
            if uow.accounts.by_email(address) is not None:
                raise ValidationFailed.one("email", "value_already_exist")
            user = UserAccount(
                id=uuid.uuid4(),
                organization_id=organization.id,
                email=address,
                password_hash=digest.hex(),
                password_salt=salt.hex(),
                scrypt_n=SCRYPT_N,
                scrypt_r=SCRYPT_R,
                scrypt_p=SCRYPT_P,
                created_at=self._clock.now(),
            )
            uow.accounts.add(user)
            try:
                uow.commit()
            except StoreConflict:  # the same email, created concurrently
                raise ValidationFailed.one("email", "value_already_exist") from None
        return user

    @staticmethod
    def _organization(uow: UnitOfWork, organization_id: UUID | None) -> Organization:
        if organization_id is not None:
            found = uow.organizations.get(organization_id)
        else:
            found = uow.organizations.get_default()
            if found is None:
                ids = uow.organizations.ids()
                found = uow.organizations.get(ids[0]) if len(ids) == 1 else None
        if found is None:
            raise NotFound("organization")
        return found

    def authenticate(self, email: str, password: str) -> tuple[UserAccount, Organization] | None:
        """The account and its organization when the password matches; records the sign-in."""
        address = normalize_email(email or "")
        password = password or ""
        if len(password) > MAX_PASSWORD or len(address) > MAX_EMAIL:
            return None
        with self._accounts_uow() as uow:
            user = uow.accounts.by_email(address) if address else None
            if user is None:
                # Same work as a real check: the time taken does not reveal unknown emails.
                _scrypt(password, _DUMMY_SALT, SCRYPT_N, SCRYPT_R, SCRYPT_P)
                return None
            expected = bytes.fromhex(user.password_hash)
            given = _scrypt(
                password,
                bytes.fromhex(user.password_salt),
                user.scrypt_n,
                user.scrypt_r,
                user.scrypt_p,
            )
            if not hmac.compare_digest(expected, given):
                return None
            organization = uow.organizations.get(user.organization_id)
            if organization is None:
                return None
            now = self._clock.now()
            uow.accounts.signed_in(user.id, now)
            uow.commit()
            user.last_sign_in_at = now
        return user, organization

    def get(self, organization_id: UUID, user_id: UUID) -> UserAccount | None:
        with self._accounts_uow(read_only=True) as uow:
            return uow.accounts.get(organization_id, user_id)
