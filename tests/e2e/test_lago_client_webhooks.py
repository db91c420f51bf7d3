"""The official lago-python-client manages webhook endpoints; `releve serve` delivers to them.

The delivery half uses a real HTTP receiver on 127.0.0.1 and the server's own delivery thread
(default interval 5 s), so it proves the serve wiring, not only the service.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import threading
import time
import warnings
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx
import pytest

from tests.e2e.conftest import Server

with warnings.catch_warnings():
    # The client imports pydantic.v1, which warns on import under pydantic 2; not our code.
    warnings.simplefilter("ignore")
    from lago_python_client.client import Client
    from lago_python_client.exceptions import LagoApiError
    from lago_python_client.models import Customer, Plan, Subscription
    from lago_python_client.models.webhook_endpoint import WebhookEndpoint

pytestmark = [pytest.mark.e2e, pytest.mark.store]


@pytest.fixture
def received() -> Iterator[tuple[str, list[tuple[dict[str, str], bytes]]]]:
    requests: list[tuple[dict[str, str], bytes]] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # http.server's name
            body = self.rfile.read(int(self.headers["Content-Length"]))
            requests.append((dict(self.headers.items()), body))
            self.send_response(200)
            self.end_headers()

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}/hooks", requests
    server.shutdown()
    server.server_close()


def test_webhook_endpoints_crud_with_the_lago_client(server: Server) -> None:
    client = Client(api_key=server.api_key, api_url=server.url)
    created = client.webhook_endpoints.create(
        WebhookEndpoint(webhook_url="https://example.com/hooks", signature_algo="hmac")
    )
    assert created.webhook_url == "https://example.com/hooks"
    assert created.signature_algo == "hmac" and created.lago_organization_id
    found = client.webhook_endpoints.find(created.lago_id)
    assert found.lago_id == created.lago_id
    client.webhook_endpoints.create(WebhookEndpoint(webhook_url="https://example.com/other"))
    listed = client.webhook_endpoints.find_all({"per_page": 1})
    assert len(listed["webhook_endpoints"]) == 1 and listed["meta"]["total_count"] == 2
    updated = client.webhook_endpoints.update(
        WebhookEndpoint(webhook_url="https://example.com/moved", name="ops"), created.lago_id
    )
    assert (updated.webhook_url, updated.name) == ("https://example.com/moved", "ops")
    destroyed = client.webhook_endpoints.destroy(created.lago_id)
    assert destroyed.lago_id == created.lago_id
    with pytest.raises(LagoApiError) as missing:
        client.webhook_endpoints.find(created.lago_id)
    assert missing.value.status_code == 404
    with pytest.raises(LagoApiError) as bad:
        client.webhook_endpoints.create(WebhookEndpoint(webhook_url="not a url"))
    assert bad.value.status_code == 422


def test_serve_delivers_a_signed_subscription_started_webhook(
    server: Server, received: tuple[str, list[tuple[dict[str, str], bytes]]]
) -> None:
    url, requests = received
    client = Client(api_key=server.api_key, api_url=server.url)
    client.webhook_endpoints.create(WebhookEndpoint(webhook_url=url))
    client.customers.create(Customer(external_id="cus_wh", name="Webhook Co", currency="EUR"))
    client.plans.create(
        Plan(
            name="Basic", code="basic", interval="monthly", amount_cents=500, amount_currency="EUR"
        )
    )
    client.subscriptions.create(
        Subscription(external_customer_id="cus_wh", plan_code="basic", external_id="sub_wh")
    )
    deadline = time.monotonic() + 20
    while not requests and time.monotonic() < deadline:
        time.sleep(0.2)
    assert requests, "no webhook delivered within 20 s"
    headers, body = requests[0]
    envelope = json.loads(body)
    assert envelope["webhook_type"] == "subscription.started"
    assert envelope["subscription"]["external_id"] == "sub_wh"
    # The signature is base64(HMAC-SHA256); its key is the organization's secret, which the
    # API does not expose, so only its shape is checked here (integration tests verify it).
    assert len(base64.b64decode(headers["X-Lago-Signature"])) == hashlib.sha256().digest_size
    assert hmac.compare_digest(headers["X-Lago-Signature-Algorithm"], "hmac")
    endpoint_id = client.webhook_endpoints.find_all()["webhook_endpoints"][0].lago_id
    deliveries: list[dict[str, Any]] = []
    while not deliveries and time.monotonic() < deadline + 5:  # recorded after the response
        deliveries = httpx.get(
            f"{server.url}/api/v1/webhook_endpoints/{endpoint_id}/deliveries",
            headers={"Authorization": f"Bearer {server.api_key}"},
        ).json()["deliveries"]
        time.sleep(0.1)
    assert [d["http_status"] for d in deliveries] == [200]
