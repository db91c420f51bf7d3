"""`InvoiceRenderer` with WeasyPrint: the document laid out by a Jinja2 template, then printed.

WeasyPrint is imported on first use, so the app starts (and every other page works) on a machine
without Pango; rendering then raises `RendererUnavailable` naming what to install. The renderer
never fetches anything: the template is self-contained and every URL is refused, so a customer
field can never make the server call out.
"""

from __future__ import annotations

import warnings
from typing import Any

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

from releve.services.invoice_document_view import InvoiceDocument
from releve.services.invoice_documents import RendererUnavailable

INSTALL = (
    "install WeasyPrint (pip install weasyprint) and Pango "
    "(Debian: apt-get install libpango-1.0-0 libpangoft2-1.0-0)"
)


class WeasyPrintRenderer:
    def __init__(self) -> None:
        self._templates = Environment(
            loader=PackageLoader("releve.adapters.pdf", "templates"),
            autoescape=select_autoescape(["html"]),
            undefined=StrictUndefined,
            trim_blocks=True,
            lstrip_blocks=True,
        )

    def html(self, document: InvoiceDocument) -> str:
        return self._templates.get_template("invoice.html").render(doc=document)

    def render(self, document: InvoiceDocument) -> bytes:
        html_class, fetcher_class = _weasyprint()
        no_fetching = fetcher_class(allowed_protocols=frozenset())  # every URL is refused
        pdf: bytes = html_class(string=self.html(document), url_fetcher=no_fetching).write_pdf()
        return pdf


def _weasyprint() -> tuple[Any, Any]:
    try:
        with warnings.catch_warnings():
            # Without libharfbuzz-subset WeasyPrint warns at import that a future version will
            # need it; fonts are still subset (by fontTools). Not an error for us.
            warnings.filterwarnings(
                "ignore", message="HarfBuzz-Subset", category=DeprecationWarning
            )
            # WeasyPrint ships no type information; both names are used as Any here.
            from weasyprint import HTML  # type: ignore[import-untyped]
            from weasyprint.urls import URLFetcher  # type: ignore[import-untyped]
    except (ImportError, OSError) as exc:
        raise RendererUnavailable(INSTALL) from exc
    return HTML, URLFetcher
