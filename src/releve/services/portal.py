"""Customer portal links: a signed, expiring token → the customer it was issued for.

Token = base64url(customer uuid ‖ expiry as Unix seconds) "." base64url(HMAC-SHA256 truncated to
20 bytes), keyed with the organization's `portal_secret`. No session or table is needed, a link
cannot be forged or extended, and rotating the secret revokes every link of the organization.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import uuid
from datetime import UTC, datetime, timedelta
from uuid import UUID

from releve.services.errors import NotFound
from releve.services.ports import Clock, UnitOfWorkFactory
from releve.services.records import Customer, Organization

DEFAULT_VALIDITY = timedelta(days=30)


class PortalLinkInvalid(NotFound):
    """The link is malformed, forged or tampered with, or its customer no longer exists."""

    def __init__(self) -> None:
        super().__init__("portal")


class PortalLinkExpired(NotFound):
    """A genuine link whose validity has passed: the customer should ask for a fresh one."""

    def __init__(self) -> None:
        super().__init__("portal")


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _signature(secret: str, payload: bytes) -> bytes:
    return hmac.new(secret.encode(), payload, hashlib.sha256).digest()[:20]


class PortalService:
    def __init__(self, uow: UnitOfWorkFactory, clock: Clock) -> None:
        self._uow = uow
        self._clock = clock

    def issue_token(
        self, organization_id: UUID, external_id: str, validity: timedelta = DEFAULT_VALIDITY
    ) -> str:
        with self._uow(read_only=True) as uow:
            customer = uow.customers.get(organization_id, external_id)
            organization = uow.organizations.get(organization_id)
        if customer is None or organization is None:
            raise NotFound("customer")
        expiry = int((self._clock.now() + validity).timestamp())
        payload = customer.id.bytes + expiry.to_bytes(8, "big")
        return f"{_b64(payload)}.{_b64(_signature(organization.portal_secret, payload))}"

    def verify(self, token: str) -> tuple[Customer, Organization]:
        """The customer a link was issued for, and its organization.

        Raises `PortalLinkInvalid` (malformed, forged, customer gone) or `PortalLinkExpired`
        (signature good, validity passed); both are `NotFound`, so callers may ignore the nuance.
        """
        try:
            encoded, signature = token.split(".", 1)
            payload = _unb64(encoded)
            given = _unb64(signature)
        except (ValueError, TypeError):
            raise PortalLinkInvalid() from None
        if len(payload) != 24:
            raise PortalLinkInvalid()
        customer_id = uuid.UUID(bytes=payload[:16])
        expiry = datetime.fromtimestamp(int.from_bytes(payload[16:], "big"), UTC)
        with self._uow(read_only=True) as uow:
            customer = uow.customers.get_by_id(customer_id)
            organization = (
                uow.organizations.get(customer.organization_id) if customer is not None else None
            )
        if customer is None or organization is None:
            raise PortalLinkInvalid()
        if not hmac.compare_digest(_signature(organization.portal_secret, payload), given):
            raise PortalLinkInvalid()
        if expiry <= self._clock.now():
            raise PortalLinkExpired()
        return customer, organization
