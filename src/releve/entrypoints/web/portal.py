"""The customer portal page: /portal/<signed token> → the customer's recent usage.

Server-rendered (Jinja2, autoescaped). A bad or expired token is a plain 404 page.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse
from jinja2 import Environment

from releve.bootstrap import Container
from releve.services.errors import NotFound

router = APIRouter(tags=["portal"], include_in_schema=False)

_env = Environment(autoescape=True)
_PAGE = _env.from_string(
    """<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{ name }} · usage</title>
<style>
 body{font-family:system-ui,sans-serif;max-width:44rem;margin:2rem auto;padding:0 1rem;color:#222}
 table{border-collapse:collapse;width:100%} td,th{padding:.4rem;border-bottom:1px solid #ddd}
 td.n{text-align:right;font-variant-numeric:tabular-nums} small{color:#666}
</style></head>
<body>
<small>{{ organization }}</small>
<h1>{{ name }}</h1>
<p>Events received since {{ since }} (UTC).</p>
{% if counts %}
<table><thead><tr><th>Metric</th><th>Events</th></tr></thead><tbody>
{% for code, n in counts %}<tr><td>{{ code }}</td><td class="n">{{ n }}</td></tr>{% endfor %}
</tbody></table>
{% else %}<p>No usage yet in this period.</p>{% endif %}
</body></html>"""
)


@router.get("/portal/{token}", response_class=HTMLResponse)
def portal_page(token: str, request: Request) -> HTMLResponse:
    container: Container = request.app.state.container
    try:
        view = container.portal.view(token)
    except NotFound:
        return HTMLResponse("<h1>Link not found or expired</h1>", status_code=404)
    customer = view.customer
    html = _PAGE.render(
        name=customer.name or customer.external_id,
        organization=view.organization_name,
        since=view.since.strftime("%Y-%m-%d %H:%M"),
        counts=sorted(view.event_counts.items()),
    )
    return HTMLResponse(html)
