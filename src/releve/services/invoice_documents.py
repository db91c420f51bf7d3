"""Invoice documents: the PDF of an invoice, its cache, and the signed link that serves it.

- The document is a view model of strings (`InvoiceDocument`) built from the API's own
  `InvoiceView`, formatted with babel for the customer's locale (from its country, else en_US)
  and dates in its time zone (else the organization's). The renderer only lays it out.
- Finalized and voided invoices are immutable, so their PDF is rendered once per
  (invoice, status, layout version) and kept in a `DocumentStore`: the document first issued stays
  the document, even if the customer's address changes later (an issued invoice is not rewritten).
  Voiding renders a new version stamped "VOID". Drafts are rendered fresh each time, stamped
  "DRAFT", and never stored. Each newly stored version emits Lago's `invoice.generated` webhook.
- `POST /invoices/{id}/download` (Lago) answers finalized and voided invoices only — a draft is
  404 `invoice_not_found`, as Lago's `invoices.finalized.find_by` — and, unlike Lago, renders
  synchronously, so `file_url` is always set in the answer.
- `file_url` is a signed, expiring link (no API key needed): base64url(organization uuid ‖
  invoice uuid ‖ expiry as Unix seconds) "." base64url(HMAC-SHA256, 20 bytes), keyed with the
  organization's `portal_secret` under a purpose label, so a portal token is never a file token.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import uuid
from datetime import UTC, datetime, timedelta
from typing import Protocol
from uuid import UUID

from releve.services import webhooks
from releve.services.billing_queries import InvoiceQueries, InvoiceView, parse_id
from releve.services.billing_records import INVOICE_FINALIZED, INVOICE_VOIDED
from releve.services.errors import NotFound
from releve.services.invoice_document_view import (
    InvoiceDocument,
    InvoicePdf,
    build_document,
)
from releve.services.ports import Clock, UnitOfWorkFactory
from releve.services.records import Organization

DEFAULT_LINK_VALIDITY = timedelta(days=7)  # as S3 presigned URLs: long enough to share, not forever
LAYOUT_VERSION = 1  # bump when the template changes what a stored PDF should show
DOWNLOADABLE = (INVOICE_FINALIZED, INVOICE_VOIDED)
_LINK_PURPOSE = b"releve/invoice-file/v1\x00"


# --- ports -----------------------------------------------------------------------------------


class RendererUnavailable(Exception):
    """The PDF renderer cannot run here; `install` says what is missing."""

    def __init__(self, install: str) -> None:
        super().__init__(f"PDF rendering is unavailable: {install}")
        self.install = install


class InvoiceRenderer(Protocol):
    def render(self, document: InvoiceDocument) -> bytes:
        """The PDF bytes of `document`. Raises `RendererUnavailable`."""
        ...


class DocumentStore(Protocol):
    def get(self, key: str) -> bytes | None: ...

    def put(self, key: str, content: bytes) -> bool:
        """Keep `content` under `key`; True only for the call that stored it first."""
        ...


# --- signed file links -----------------------------------------------------------------------


class FileLinkInvalid(Exception):
    """Malformed, forged or tampered with, or for another invoice than the one asked for."""


class FileLinkExpired(Exception):
    """A genuine link whose validity has passed: download the invoice again for a fresh one."""


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _signature(organization: Organization, payload: bytes) -> bytes:
    key = organization.portal_secret.encode()
    return hmac.new(key, _LINK_PURPOSE + payload, hashlib.sha256).digest()[:20]


# --- the use cases ---------------------------------------------------------------------------


class InvoiceDocumentService:
    def __init__(
        self,
        invoices: InvoiceQueries,
        uow: UnitOfWorkFactory,
        clock: Clock,
        renderer: InvoiceRenderer,
        store: DocumentStore,
        public_url: str,
        link_validity: timedelta = DEFAULT_LINK_VALIDITY,
    ) -> None:
        self._invoices = invoices
        self._uow = uow
        self._clock = clock
        self._renderer = renderer
        self._store = store
        self._public_url = public_url.rstrip("/")
        self._validity = link_validity

    def pdf(self, view: InvoiceView) -> InvoicePdf:
        """The invoice's PDF: stored once for finalized/voided invoices, fresh for drafts."""
        invoice = view.invoice
        if invoice.status not in DOWNLOADABLE:
            document = build_document(view)
            return InvoicePdf(document.number, invoice.status, self._renderer.render(document))
        key = f"{invoice.id}.{invoice.status}.v{LAYOUT_VERSION}"
        content = self._store.get(key)
        number = invoice.number or ""
        if content is None:
            document = build_document(view)
            content = self._renderer.render(document)
            if self._store.put(key, content):
                with self._uow() as uow:
                    webhooks.emit(
                        uow, invoice.organization_id, "invoice.generated", "invoice",
                        object_id=str(invoice.id),
                    )  # fmt: skip
                    uow.commit()
        return InvoicePdf(number, invoice.status, content)

    def pdf_of(self, organization_id: UUID, lago_id: str) -> InvoicePdf:
        """Any visible invoice of the organization, drafts included (the operator's view)."""
        return self.pdf(self._invoices.get(organization_id, lago_id))

    def download(self, organization_id: UUID, lago_id: str) -> tuple[InvoiceView, str]:
        """Lago's POST /invoices/{id}/download: the PDF exists afterwards; its signed URL."""
        view = self._invoices.get(organization_id, lago_id)
        if view.invoice.status not in DOWNLOADABLE:
            raise NotFound("invoice")
        self.pdf(view)
        return view, self.file_url(view)

    def file_url(self, view: InvoiceView) -> str:
        expiry = int((self._clock.now() + self._validity).timestamp())
        payload = view.organization.id.bytes + view.invoice.id.bytes + expiry.to_bytes(8, "big")
        token = f"{_b64(payload)}.{_b64(_signature(view.organization, payload))}"
        return f"{self._public_url}/files/invoices/{view.invoice.id}.pdf?token={token}"

    def open_link(self, lago_id: str, token: str) -> InvoicePdf:
        """The PDF a `file_url` names. Raises `FileLinkInvalid`, `FileLinkExpired`, or
        `NotFound` when the invoice is gone or no longer downloadable."""
        invoice_id = parse_id(lago_id, "invoice")
        try:
            encoded, signature = token.split(".", 1)
            payload, given = _unb64(encoded), _unb64(signature)
        except (ValueError, TypeError):
            raise FileLinkInvalid() from None
        if len(payload) != 40 or payload[16:32] != invoice_id.bytes:
            raise FileLinkInvalid()
        organization_id = uuid.UUID(bytes=payload[:16])
        with self._uow(read_only=True) as uow:
            organization = uow.organizations.get(organization_id)
        if organization is None or not hmac.compare_digest(
            _signature(organization, payload), given
        ):
            raise FileLinkInvalid()
        expiry = datetime.fromtimestamp(int.from_bytes(payload[32:], "big"), UTC)
        if expiry <= self._clock.now():
            raise FileLinkExpired()
        view = self._invoices.get(organization_id, str(invoice_id))
        if view.invoice.status not in DOWNLOADABLE:
            raise NotFound("invoice")
        return self.pdf(view)
