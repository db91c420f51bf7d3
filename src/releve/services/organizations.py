"""Organizations and API keys: create a tenant, mint keys (shown once, stored hashed), authenticate.

Keys look like `rlv_` + 40 URL-safe random characters (240 bits) so secret scanners and people
recognize them (design.md §5). Only the SHA-256 of a key is stored: a leaked database does not
leak working keys, and a high-entropy key needs no slow hash.
"""

from __future__ import annotations

import hashlib
import secrets
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from uuid import UUID
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from releve.services.errors import ValidationFailed
from releve.services.ports import Clock, CurrencyCatalog, UnitOfWorkFactory
from releve.services.records import ApiKey, Organization
from releve.services.transactions import retry_on_conflict

API_KEY_PREFIX = "rlv_"
DEFAULT_ORGANIZATION_NAME = "Default organization"


def generate_api_key() -> str:
    return API_KEY_PREFIX + secrets.token_urlsafe(30)  # 30 bytes → 40 characters


def hash_api_key(key: str) -> str:
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


@dataclass(frozen=True, slots=True)
class CreatedOrganization:
    organization_id: UUID
    name: str
    api_key: str  # the only time the key is visible


class OrganizationService:
    def __init__(self, uow: UnitOfWorkFactory, clock: Clock, currencies: CurrencyCatalog) -> None:
        self._uow = uow
        self._clock = clock
        self._currencies = currencies

    def create(
        self,
        name: str,
        *,
        default_currency: str = "USD",
        timezone: str = "UTC",
        api_key: str | None = None,
        is_default: bool = False,
    ) -> CreatedOrganization:
        """Create an organization with one API key (a fresh one unless `api_key` is given)."""
        errors: dict[str, list[str]] = {}
        if not name.strip():
            errors["name"] = ["value_is_mandatory"]
        try:
            currency = self._currencies(default_currency).code
        except Exception:
            errors["default_currency"] = ["value_is_invalid"]
        if not _valid_timezone(timezone):
            errors["timezone"] = ["invalid_timezone"]
        if api_key is not None and not _valid_key(api_key):
            errors["api_key"] = ["value_is_invalid"]
        if errors:
            raise ValidationFailed(errors)
        key = api_key or generate_api_key()
        now = self._clock.now()
        org = Organization(
            id=uuid.uuid4(),
            name=name.strip(),
            default_currency=currency,
            timezone=timezone,
            webhook_hmac_key=secrets.token_hex(32),
            portal_secret=secrets.token_hex(32),
            invoice_grace_period=0,
            net_payment_term=0,
            is_default=is_default,
            created_at=now,
            updated_at=now,
        )
        with self._uow() as uow:
            uow.organizations.add(org)
            uow.organizations.add_api_key(self._key_record(org.id, key))
            uow.commit()
        return CreatedOrganization(org.id, org.name, key)

    def issue_api_key(self, organization_id: UUID) -> str:
        """Mint an extra key for an existing organization."""
        key = generate_api_key()
        with self._uow() as uow:
            if uow.organizations.get(organization_id) is None:
                raise ValidationFailed.one("organization_id", "value_is_invalid")
            uow.organizations.add_api_key(self._key_record(organization_id, key))
            uow.commit()
        return key

    def revoke_api_key(self, key: str) -> bool:
        with self._uow() as uow:
            revoked = uow.organizations.revoke_api_key(hash_api_key(key), self._clock.now())
            uow.commit()
        return revoked

    def ensure_default(self, api_key: str) -> UUID:
        """Make the default organization (created if missing) accept `api_key`; idempotent."""

        def attempt() -> UUID:
            with self._uow() as uow:
                owner = uow.organizations.for_key_hash(hash_api_key(api_key))
                if owner is not None:
                    return owner.id
                default = uow.organizations.get_default()
                if default is not None:
                    uow.organizations.add_api_key(self._key_record(default.id, api_key))
                    uow.commit()
                    return default.id
            created = self.create(DEFAULT_ORGANIZATION_NAME, api_key=api_key, is_default=True)
            return created.organization_id

        if not _valid_key(api_key):
            raise ValidationFailed.one("api_key", "value_is_invalid")
        return retry_on_conflict(attempt)

    def get(self, organization_id: UUID) -> Organization | None:
        with self._uow(read_only=True) as uow:
            return uow.organizations.get(organization_id)

    def count(self) -> int:
        with self._uow(read_only=True) as uow:
            return uow.organizations.count()

    def _key_record(self, organization_id: UUID, key: str) -> ApiKey:
        return ApiKey(
            id=uuid.uuid4(),
            organization_id=organization_id,
            key_hash=hash_api_key(key),
            prefix=key[:8],
            created_at=self._clock.now(),
        )


KeyLookup = Callable[[str], Organization | None]  # key hash → organization, if not revoked


class AuthenticationService:
    """API key → organization. Unknown and revoked keys give None (the API answers 401).

    `lookup` (the SQL adapter's lean one-statement read, bootstrap) replaces the unit of work
    on this per-request path; never a cache, so a revocation holds on the next request."""

    def __init__(self, uow: UnitOfWorkFactory, lookup: KeyLookup | None = None) -> None:
        self._uow = uow
        self._lookup = lookup

    def authenticate(self, key: str | None) -> Organization | None:
        if not key or len(key) > 200:
            return None
        if self._lookup is not None:
            return self._lookup(hash_api_key(key))
        with self._uow(read_only=True) as uow:
            return uow.organizations.for_key_hash(hash_api_key(key))


def _valid_key(key: str) -> bool:
    return key.startswith(API_KEY_PREFIX) and len(key) >= len(API_KEY_PREFIX) + 32


def _valid_timezone(name: str) -> bool:
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return False
    return True
