"""Invoice files: Lago's POST /invoices/{lago_id}/download, and the PDFs it links to.

- `router` (under /api/v1): the download answers the invoice JSON with a signed, expiring
  `file_url` — finalized and voided invoices only; a draft is 404 `invoice_not_found` as Lago.
- `files_router`: GET /files/invoices/{id}.pdf?token=… serves that URL without an API key;
  a tampered token is 403 `invalid_token`, an expired one 410 `expired_token`.
- `dashboard_router`: GET /invoices/{id}/pdf for a signed-in operator, drafts included (stamped).

The PDF itself comes from `InvoiceDocumentService`; when WeasyPrint or Pango is missing every
route answers 503 `pdf_renderer_unavailable` with what to install.
"""

from __future__ import annotations

from collections.abc import Callable
from urllib.parse import quote

from fastapi import APIRouter
from fastapi.responses import Response

from releve.entrypoints.api import billing_serializers
from releve.entrypoints.api.deps import ContainerDep, OrganizationDep
from releve.entrypoints.api.errors import envelope
from releve.entrypoints.api.exact import ExactJSONResponse, ExactRoute
from releve.entrypoints.web.security import PageNotFound, SessionDep
from releve.services.errors import NotFound
from releve.services.invoice_documents import (
    FileLinkExpired,
    FileLinkInvalid,
    InvoicePdf,
    RendererUnavailable,
)

router = APIRouter(route_class=ExactRoute, tags=["invoices"])
files_router = APIRouter(include_in_schema=False)
dashboard_router = APIRouter(include_in_schema=False)


def unavailable(exc: RendererUnavailable) -> ExactJSONResponse:
    return envelope(503, "pdf_renderer_unavailable", error_details={"install": exc.install})


def pdf_response(make: Callable[[], InvoicePdf]) -> Response:
    """`make()`'s PDF as a download named after the invoice number, or the 503 above."""
    try:
        pdf = make()
    except RendererUnavailable as exc:
        return unavailable(exc)
    ascii_name = pdf.filename.encode("ascii", "replace").decode().replace('"', "")
    disposition = f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(pdf.filename)}"
    return Response(
        pdf.content,
        media_type="application/pdf",
        headers={
            "Content-Disposition": disposition,
            # Drafts change; issued documents do not, but the link carries a secret: keep private.
            "Cache-Control": "private, no-store" if pdf.status == "draft" else "private",
        },
    )


@router.post("/invoices/{lago_id}/download", summary="Generate an invoice PDF; get its file_url")
def download_invoice(lago_id: str, org: OrganizationDep, c: ContainerDep) -> ExactJSONResponse:
    try:
        view, file_url = c.invoice_documents.download(org.id, lago_id)
    except RendererUnavailable as exc:
        return unavailable(exc)
    body = billing_serializers.invoice(view)
    body["file_url"] = file_url
    return ExactJSONResponse({"invoice": body})


@files_router.get("/files/invoices/{lago_id}.pdf")
def invoice_file(lago_id: str, c: ContainerDep, token: str = "") -> Response:
    try:
        return pdf_response(lambda: c.invoice_documents.open_link(lago_id, token))
    except FileLinkInvalid:
        return envelope(403, "invalid_token")
    except FileLinkExpired:
        return envelope(410, "expired_token")
    except NotFound as exc:
        return envelope(404, exc.code)


@dashboard_router.get("/invoices/{lago_id}/pdf")
def dashboard_invoice_pdf(lago_id: str, session: SessionDep, c: ContainerDep) -> Response:
    try:
        return pdf_response(lambda: c.invoice_documents.pdf_of(session.organization.id, lago_id))
    except NotFound:
        raise PageNotFound("invoice") from None
