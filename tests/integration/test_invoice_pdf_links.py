"""Getting an invoice PDF: Lago's POST /invoices/{id}/download and its signed `file_url`,
the customer portal's and the dashboard's download links, the store, and a missing renderer."""

from __future__ import annotations

import dataclasses
from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit
from uuid import UUID

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient

from releve.adapters.pdf.renderer import WeasyPrintRenderer
from releve.adapters.pdf.store import FileDocumentStore
from releve.adapters.sql.tables_webhooks import webhooks
from releve.adapters.sql.uow import SqlUnitOfWorkFactory
from releve.bootstrap import Container
from releve.entrypoints.api.app import create_app
from releve.services.billing_queries import InvoiceQueries
from releve.services.invoice_document_view import InvoiceDocument
from releve.services.invoice_documents import InvoiceDocumentService, RendererUnavailable
from tests.integration.billing_support import catalog, list_invoices, post, subscribe
from tests.integration.support import FakeClock
from tests.integration.test_invoice_pdf import at, january_invoice, pdf_text
from tests.integration.web_support import sign_in

pytestmark = pytest.mark.store


def download(api: TestClient, lago_id: str) -> Any:
    return api.post(f"/api/v1/invoices/{lago_id}/download")


def local(url: str) -> str:
    """The path and query of an absolute file_url, for the test client."""
    parts = urlsplit(url)
    return f"{parts.path}?{parts.query}"


def anonymous(client: TestClient, path: str) -> Any:
    return client.get(path, headers={"Authorization": ""})


def test_download_answers_the_invoice_with_a_file_url_that_needs_no_api_key(
    api: TestClient, clock: FakeClock, container: Container, org: tuple[UUID, str]
) -> None:
    invoice = january_invoice(api, clock, container)
    r = download(api, invoice["lago_id"])
    assert r.status_code == 200, r.text
    body = r.json()["invoice"]
    assert body["lago_id"] == invoice["lago_id"] and body["number"] == invoice["number"]
    assert body["total_amount_cents"] == 183300
    url = body["file_url"]
    assert url.startswith(f"http://127.0.0.1:8000/files/invoices/{invoice['lago_id']}.pdf?token=")
    f = anonymous(api, local(url))
    assert f.status_code == 200 and f.headers["content-type"] == "application/pdf"
    assert f'filename="{invoice["number"]}.pdf"' in f.headers["content-disposition"]
    assert f.headers["content-disposition"].startswith("attachment;")
    assert "Total due €1,833.00" in pdf_text(f.content)
    # Finalized invoices are immutable: the second download serves the same document.
    again = anonymous(api, local(download(api, invoice["lago_id"]).json()["invoice"]["file_url"]))
    assert again.content == f.content


def test_tampered_expired_and_misdirected_links_are_refused(
    api: TestClient, clock: FakeClock, container: Container, org: tuple[UUID, str]
) -> None:
    invoice = january_invoice(api, clock, container)
    url = local(download(api, invoice["lago_id"]).json()["invoice"]["file_url"])
    path, token = url.split("?token=")
    payload, signature = token.split(".")
    flipped = ("A" if signature[0] != "A" else "B") + signature[1:]
    for bad in (f"{payload}.{flipped}", payload, "", "not-a-token", f"{payload[:-2]}.{signature}"):
        r = anonymous(api, f"{path}?token={bad}")
        assert r.status_code == 403 and r.json()["code"] == "invalid_token", bad
    # A genuine token names one invoice: it opens no other, even of the same organization.
    other = f"/files/invoices/{UUID(int=1)}.pdf?token={token}"
    assert anonymous(api, other).status_code == 403
    assert anonymous(api, "/files/invoices/nope.pdf?token=" + token).status_code == 404
    # Valid for 7 days from the download, then gone.
    clock.advance(timedelta(days=7) - timedelta(seconds=1))
    assert anonymous(api, url).status_code == 200
    clock.advance(timedelta(seconds=1))
    r = anonymous(api, url)
    assert r.status_code == 410 and r.json()["code"] == "expired_token"


def test_another_organization_cannot_download_or_link(
    client: TestClient,
    clock: FakeClock,
    container: Container,
    org: tuple[UUID, str],
    other_org: tuple[UUID, str],
) -> None:
    client.headers["Authorization"] = f"Bearer {org[1]}"
    invoice = january_invoice(client, clock, container)
    client.headers["Authorization"] = f"Bearer {other_org[1]}"
    r = download(client, invoice["lago_id"])
    assert r.status_code == 404 and r.json()["code"] == "invoice_not_found"
    # A link signed by the other organization for this invoice id does not verify: the
    # signature is keyed with the secret of the organization the token names.
    service = container.invoice_documents
    view = container.invoices.get(org[0], invoice["lago_id"])
    forged_view = dataclasses.replace(view, organization=container.organizations.get(other_org[0]))
    forged = local(service.file_url(forged_view))
    assert anonymous(client, forged).status_code == 404


def test_a_draft_has_no_file_url_but_the_operator_sees_it_stamped(
    client: TestClient, clock: FakeClock, container: Container, org: tuple[UUID, str]
) -> None:
    client.headers["Authorization"] = f"Bearer {org[1]}"
    catalog(client, vat=None)
    subscribe(client, clock, at(2024, 1, 1))
    grace = {"external_id": "cus_1", "billing_configuration": {"invoice_grace_period": 3}}
    post(client, "customers", {"customer": grace})
    clock.set(at(2024, 2, 1, 1))
    container.billing.bill_due()
    (draft,) = list_invoices(client, status="draft")
    r = download(client, draft["lago_id"])  # Lago: invoices.finalized.find_by → not found
    assert r.status_code == 404 and r.json()["code"] == "invoice_not_found"
    del client.headers["Authorization"]
    assert (
        client.get(f"/invoices/{draft['lago_id']}/pdf", follow_redirects=False).status_code == 303
    )
    sign_in(client, org[1])
    page = client.get(f"/invoices/{draft['lago_id']}")
    assert f'href="/invoices/{draft["lago_id"]}/pdf"' in page.text
    pdf = client.get(f"/invoices/{draft['lago_id']}/pdf")
    assert pdf.status_code == 200 and pdf.headers["content-type"] == "application/pdf"
    text = pdf_text(pdf.content)
    assert "DRAFT" in text and f"Invoice {draft['number']}" in text
    assert "Total due €10.00" in text
    assert client.get(f"/invoices/{UUID(int=5)}/pdf").status_code == 404


def test_portal_invoice_page_links_to_its_pdf(
    api: TestClient, clock: FakeClock, container: Container, org: tuple[UUID, str]
) -> None:
    invoice = january_invoice(api, clock, container)
    post(api, "customers", {"customer": {"external_id": "cus_2", "name": "Other"}})
    token = container.portal.issue_token(org[0], "cus_1")
    page = anonymous(api, f"/portal/{token}/invoices/{invoice['lago_id']}")
    link = f"/portal/{token}/invoices/{invoice['lago_id']}/pdf"
    assert page.status_code == 200 and f'href="{link}"' in page.text
    assert "Download PDF" in page.text
    pdf = anonymous(api, link)
    assert pdf.status_code == 200 and pdf.headers["content-type"] == "application/pdf"
    assert f"Invoice {invoice['number']}" in pdf_text(pdf.content)
    # Another customer's link does not open this invoice; a forged link is refused.
    other = container.portal.issue_token(org[0], "cus_2")
    assert anonymous(api, f"/portal/{other}/invoices/{invoice['lago_id']}/pdf").status_code == 404
    assert anonymous(api, f"/portal/x{token}/invoices/{invoice['lago_id']}/pdf").status_code == 403


def test_pdfs_are_stored_once_per_version_in_the_configured_directory(
    api: TestClient,
    clock: FakeClock,
    container: Container,
    org: tuple[UUID, str],
    tmp_path: Path,
) -> None:
    invoice = january_invoice(api, clock, container)
    store = FileDocumentStore(tmp_path / "invoices")
    service = InvoiceDocumentService(
        InvoiceQueries(SqlUnitOfWorkFactory(container.engine), clock),
        SqlUnitOfWorkFactory(container.engine),
        clock,
        WeasyPrintRenderer(),
        store,
        "https://billing.example.com/",
    )
    view = container.invoices.get(org[0], invoice["lago_id"])
    first = service.pdf(view).content
    assert service.pdf(view).content == first
    files = sorted(p.name for p in (tmp_path / "invoices").iterdir())
    assert files == [f"{invoice['lago_id']}.finalized.v1.pdf"]
    assert store.put(f"{invoice['lago_id']}.finalized.v1", b"other") is False
    assert (tmp_path / "invoices" / files[0]).read_bytes() == first
    assert service.file_url(view).startswith("https://billing.example.com/files/invoices/")
    with pytest.raises(ValueError):
        store.get("../etc/passwd")


class MissingRenderer:
    def render(self, document: InvoiceDocument) -> bytes:
        raise RendererUnavailable("install WeasyPrint and Pango")


def test_without_the_renderer_downloads_answer_503_naming_what_to_install(
    api: TestClient, clock: FakeClock, container: Container, org: tuple[UUID, str]
) -> None:
    invoice = january_invoice(api, clock, container)
    uow = SqlUnitOfWorkFactory(container.engine)
    broken = dataclasses.replace(
        container,
        invoice_documents=InvoiceDocumentService(
            InvoiceQueries(uow, clock), uow, clock, MissingRenderer(), FileDocumentStore(
                Path("/nonexistent-never-written")), "http://x"),
    )  # fmt: skip
    with TestClient(create_app(broken)) as client:
        r = client.post(
            f"/api/v1/invoices/{invoice['lago_id']}/download",
            headers={"Authorization": f"Bearer {org[1]}"},
        )
    assert r.status_code == 503
    assert r.json() == {
        "status": 503,
        "error": "Service Unavailable",
        "code": "pdf_renderer_unavailable",
        "error_details": {"install": "install WeasyPrint and Pango"},
    }


def test_invoice_generated_is_emitted_once_per_stored_version(
    api: TestClient, clock: FakeClock, container: Container
) -> None:
    endpoint = {"webhook_url": "https://hooks.example.com/x", "event_types": ["invoice.generated"]}
    post(api, "webhook_endpoints", {"webhook_endpoint": endpoint})
    invoice = january_invoice(api, clock, container)

    def generated() -> list[Any]:
        query = sa.select(webhooks.c.object_id).where(
            webhooks.c.webhook_type == "invoice.generated"
        )
        with container.engine.connect() as connection:
            return [str(row[0]) for row in connection.execute(query)]

    assert generated() == []
    for _ in range(2):
        assert download(api, invoice["lago_id"]).status_code == 200
    assert generated() == [invoice["lago_id"]]
    assert api.post(f"/api/v1/invoices/{invoice['lago_id']}/void").status_code == 200
    assert download(api, invoice["lago_id"]).status_code == 200  # the VOID version
    assert generated() == [invoice["lago_id"]] * 2
