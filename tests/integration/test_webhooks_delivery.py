"""Webhook delivery against a real HTTP receiver on 127.0.0.1: signatures, retries with backoff,
the outbox surviving a restart, rollbacks never sent, concurrent deliverers, invoice bodies.

Retry policy under test (RetryPolicy defaults): attempt n fails → next one after 2^(n−1) min,
8 attempts at most.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from uuid import UUID

import pytest
from fastapi.testclient import TestClient

from releve.adapters.sql.engine import create_engine
from releve.adapters.sql.uow import SqlUnitOfWorkFactory
from releve.bootstrap import Container, bootstrap
from releve.entrypoints.webhook_loop import deliver_once
from releve.services import exact_json
from releve.services.webhooks import emit
from releve.settings import Settings
from tests.integration.billing_support import catalog, post, subscribe, usage
from tests.integration.support import FakeClock

pytestmark = pytest.mark.store


class Receiver:
    """A real HTTP server recording every POST; answers the queued statuses, then 200."""

    def __init__(self) -> None:
        self.requests: list[tuple[dict[str, str], bytes]] = []
        self.statuses: list[int] = []
        self._lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # http.server's name
                body = self.rfile.read(int(self.headers["Content-Length"]))
                with receiver._lock:
                    receiver.requests.append((dict(self.headers.items()), body))
                    status = receiver.statuses.pop(0) if receiver.statuses else 200
                self.send_response(status)
                self.end_headers()
                self.wfile.write(b"ok" if status < 300 else b"boom")

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}/hooks"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()

    def bodies(self, webhook_type: str | None = None) -> list[dict[str, Any]]:
        found = [exact_json.loads(body) for _, body in self.requests]
        return [b for b in found if webhook_type is None or b["webhook_type"] == webhook_type]

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    r = Receiver()
    yield r
    r.close()


def endpoint(api: TestClient, url: str, **extra: Any) -> dict[str, Any]:
    created: dict[str, Any] = post(
        api, "webhook_endpoints", {"webhook_endpoint": {"webhook_url": url, **extra}}
    )["webhook_endpoint"]
    return created


def emit_alert(container: Container, organization_id: UUID, n: int = 1) -> None:
    """Commit `n` `alert.triggered` webhooks carrying a payload (no stored object needed)."""
    with SqlUnitOfWorkFactory(container.engine)() as uow:
        for i in range(n):
            payload = {"lago_id": f"alert-{i}", "current_value": Decimal("0.1")}
            emit(uow, organization_id, "alert.triggered", "alert", payload=payload)
        uow.commit()


def hmac_key(container: Container, organization_id: UUID) -> str:
    with SqlUnitOfWorkFactory(container.engine)(read_only=True) as uow:
        organization = uow.organizations.get(organization_id)
        assert organization is not None
        return organization.webhook_hmac_key


def test_lago_and_timestamped_signatures_verify_with_the_organization_key(
    api: TestClient, container: Container, org: tuple[UUID, str], receiver: Receiver
) -> None:
    endpoint(api, receiver.url)
    emit_alert(container, org[0])
    run = deliver_once(container)
    assert len(run.succeeded) == 1
    ((headers, body),) = receiver.requests
    key = hmac_key(container, org[0]).encode()
    lago = base64.b64encode(hmac.new(key, body, hashlib.sha256).digest()).decode()
    assert headers["X-Lago-Signature"] == lago
    assert headers["X-Lago-Signature-Algorithm"] == "hmac"
    assert headers["X-Lago-Unique-Key"] == str(run.succeeded[0])
    t = headers["X-Releve-Timestamp"]
    assert t == str(int(datetime(2024, 3, 15, 12, tzinfo=UTC).timestamp()))  # the FakeClock
    v1 = hmac.new(key, f"{t}.".encode() + body, hashlib.sha256).hexdigest()
    assert headers["X-Releve-Signature"] == f"t={t},v1={v1}"
    assert headers["Content-Type"] == "application/json"
    # Lago's envelope; the decimal stays exactly 0.1 on the wire.
    assert body == (
        b'{"webhook_type":"alert.triggered","object_type":"alert","organization_id":"'
        + str(org[0]).encode()
        + b'","alert":{"lago_id":"alert-0","current_value":0.1}}'
    )
    assert deliver_once(container).attempted == 0  # sent once


def test_a_failing_receiver_is_retried_after_the_backoff_and_every_attempt_is_logged(
    api: TestClient,
    container: Container,
    clock: FakeClock,
    org: tuple[UUID, str],
    receiver: Receiver,
) -> None:
    hook = endpoint(api, receiver.url)
    emit_alert(container, org[0])
    receiver.statuses = [500, 503]
    first = deliver_once(container)
    assert len(first.retrying) == 1
    clock.advance(timedelta(seconds=59))
    assert deliver_once(container).attempted == 0  # 1 min backoff not over
    clock.advance(timedelta(seconds=1))
    assert len(deliver_once(container).retrying) == 1  # 503; next in 2 min
    clock.advance(timedelta(seconds=119))
    assert deliver_once(container).attempted == 0
    clock.advance(timedelta(seconds=1))
    assert len(deliver_once(container).succeeded) == 1
    assert deliver_once(container).attempted == 0

    assert len(receiver.requests) == 3
    assert len({body for _, body in receiver.requests}) == 1  # identical bytes every time
    assert len({h["X-Lago-Unique-Key"] for h, _ in receiver.requests}) == 1
    log = api.get(f"/api/v1/webhook_endpoints/{hook['lago_id']}/deliveries").json()
    assert log["meta"]["total_count"] == 3
    rows = log["deliveries"]
    assert [(d["attempt"], d["http_status"], d["response"]) for d in rows] == [
        (3, 200, "ok"),
        (2, 503, "boom"),
        (1, 500, "boom"),
    ]
    assert [d["attempted_at"] for d in rows] == [
        "2024-03-15T12:03:00Z",
        "2024-03-15T12:01:00Z",
        "2024-03-15T12:00:00Z",
    ]
    assert {d["webhook_status"] for d in rows} == {"succeeded"}
    page = api.get(
        f"/api/v1/webhook_endpoints/{hook['lago_id']}/deliveries", params={"per_page": 2, "page": 2}
    ).json()
    assert [d["attempt"] for d in page["deliveries"]] == [1]
    assert page["meta"] == {
        "current_page": 2,
        "next_page": None,
        "prev_page": 1,
        "total_pages": 2,
        "total_count": 3,
    }


def test_after_the_last_attempt_it_fails_and_a_manual_retry_sends_it_again(
    api: TestClient,
    container: Container,
    clock: FakeClock,
    org: tuple[UUID, str],
    receiver: Receiver,
) -> None:
    endpoint(api, receiver.url)
    emit_alert(container, org[0])
    receiver.statuses = [500] * 8
    waits = []
    for n in range(1, 9):
        run = deliver_once(container)
        assert run.attempted == 1, n
        if n < 8:
            assert len(run.retrying) == 1
            waits.append(2 ** (n - 1))
            clock.advance(timedelta(minutes=2 ** (n - 1)))
    assert waits == [1, 2, 4, 8, 16, 32, 64]
    (webhook_id,) = run.failed
    clock.advance(timedelta(days=30))
    assert deliver_once(container).attempted == 0  # failed stays failed
    webhook = api.get(f"/api/v1/webhooks/{webhook_id}").json()["webhook"]
    assert (webhook["status"], webhook["attempts"], webhook["http_status"]) == ("failed", 8, 500)

    r = api.post(f"/api/v1/webhooks/{webhook_id}/retry")
    assert r.status_code == 200, r.text
    assert r.json()["webhook"]["status"] == "pending"
    assert len(deliver_once(container).succeeded) == 1
    assert len(receiver.requests) == 9
    r = api.post(f"/api/v1/webhooks/{webhook_id}/retry")
    assert r.status_code == 422 and r.json()["error_details"] == {
        "status": ["webhook_already_succeeded"]
    }


def test_an_unreachable_receiver_is_logged_as_an_error_without_status(
    api: TestClient, container: Container, org: tuple[UUID, str], receiver: Receiver
) -> None:
    url = receiver.url
    receiver.close()  # nothing listens on that port any more
    hook = endpoint(api, url)
    emit_alert(container, org[0])
    assert len(deliver_once(container).retrying) == 1
    (row,) = api.get(f"/api/v1/webhook_endpoints/{hook['lago_id']}/deliveries").json()["deliveries"]
    assert row["http_status"] is None and row["error"].startswith("ConnectError")
    assert row["webhook_status"] == "pending"


def test_nothing_is_lost_when_the_server_restarts_before_delivery(
    api: TestClient,
    container: Container,
    clock: FakeClock,
    org: tuple[UUID, str],
    receiver: Receiver,
    database_url: str,
) -> None:
    endpoint(api, receiver.url)
    emit_alert(container, org[0])
    container.engine.dispose()  # the first process is gone
    engine = create_engine(database_url)
    try:
        restarted = bootstrap(Settings(database_url=database_url), engine=engine, clock=clock)
        assert len(deliver_once(restarted).succeeded) == 1
        assert deliver_once(restarted).attempted == 0
    finally:
        engine.dispose()
    assert len(receiver.requests) == 1


def test_a_webhook_emitted_in_a_rolled_back_unit_of_work_is_never_sent(
    api: TestClient, container: Container, org: tuple[UUID, str], receiver: Receiver
) -> None:
    endpoint(api, receiver.url)
    with pytest.raises(RuntimeError), SqlUnitOfWorkFactory(container.engine)() as uow:
        emit(uow, org[0], "alert.triggered", "alert", payload={"lago_id": "a"})
        raise RuntimeError("the change failed")
    with SqlUnitOfWorkFactory(container.engine)() as uow:
        emit(uow, org[0], "alert.triggered", "alert", payload={"lago_id": "b"})
        # left without commit
    assert deliver_once(container).attempted == 0
    assert receiver.requests == []


def test_two_concurrent_deliverers_send_each_webhook_once(
    api: TestClient,
    container: Container,
    clock: FakeClock,
    org: tuple[UUID, str],
    receiver: Receiver,
    database_url: str,
) -> None:
    endpoint(api, receiver.url)
    emit_alert(container, org[0], n=30)
    engines = [create_engine(database_url) for _ in range(2)]
    containers = [
        bootstrap(Settings(database_url=database_url), engine=e, clock=clock) for e in engines
    ]
    barrier = threading.Barrier(2)
    runs: list[int] = []

    def work(c: Container) -> None:
        barrier.wait()
        runs.append(deliver_once(c).attempted)

    threads = [threading.Thread(target=work, args=(c,)) for c in containers]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    for e in engines:
        e.dispose()
    assert sum(runs) == 30
    keys = [h["X-Lago-Unique-Key"] for h, _ in receiver.requests]
    assert len(keys) == 30 and len(set(keys)) == 30
    assert sorted(b["alert"]["lago_id"] for b in receiver.bodies()) == sorted(
        f"alert-{i}" for i in range(30)
    )


def test_a_finalized_invoice_sends_one_invoice_created_equal_to_the_api_object(
    api: TestClient,
    container: Container,
    clock: FakeClock,
    org: tuple[UUID, str],
    receiver: Receiver,
) -> None:
    endpoint(api, receiver.url)
    other = Receiver()  # a second endpoint that wants invoices only
    try:
        endpoint(api, other.url, event_types=["invoice.created"])
        catalog(api)
        subscribe(api, clock, datetime(2024, 1, 1, tzinfo=UTC))
        usage(api, clock, datetime(2024, 1, 10, tzinfo=UTC), "api_calls", {"value": 100})
        clock.set(datetime(2024, 2, 1, 1, tzinfo=UTC))
        (invoice,) = container.billing.bill_due().issued
        assert invoice.status == "finalized"
        deliver_once(container)
        (created,) = receiver.bodies("invoice.created")
        got = api.get(f"/api/v1/invoices/{invoice.id}").json()["invoice"]
        assert created == {
            "webhook_type": "invoice.created",
            "object_type": "invoice",
            "organization_id": str(org[0]),
            "invoice": got,
        }
        # 10.00 EUR plan + 100 × 0.05 = 15.00, VAT 20 % → 18.00
        assert created["invoice"]["total_amount_cents"] == 1800
        (started,) = receiver.bodies("subscription.started")
        # Rendered at delivery (same clock as this GET): the very API object.
        sub = api.get("/api/v1/subscriptions/sub_1").json()["subscription"]
        assert started["subscription"] == sub
        assert [b["webhook_type"] for b in other.bodies()] == ["invoice.created"]

        r = api.put(
            f"/api/v1/invoices/{invoice.id}", json={"invoice": {"payment_status": "succeeded"}}
        )
        assert r.status_code == 200, r.text
        api.put(f"/api/v1/invoices/{invoice.id}", json={"invoice": {"payment_status": "succeeded"}})
        deliver_once(container)
        (updated,) = receiver.bodies("invoice.payment_status_updated")  # not for a no-op PUT
        assert updated["invoice"]["payment_status"] == "succeeded"
    finally:
        other.close()


def test_a_webhook_whose_object_is_gone_fails_at_once(
    api: TestClient, container: Container, org: tuple[UUID, str], receiver: Receiver
) -> None:
    hook = endpoint(api, receiver.url)
    with SqlUnitOfWorkFactory(container.engine)() as uow:
        emit(uow, org[0], "invoice.created", "invoice", object_id=str(UUID(int=7)))
        uow.commit()
    assert len(deliver_once(container).failed) == 1
    assert receiver.requests == []
    (row,) = api.get(f"/api/v1/webhook_endpoints/{hook['lago_id']}/deliveries").json()["deliveries"]
    assert row["error"] == f"invoice {UUID(int=7)} not found"


def test_no_endpoint_no_webhook_and_a_deleted_endpoint_drops_its_queue(
    api: TestClient, container: Container, org: tuple[UUID, str], receiver: Receiver
) -> None:
    emit_alert(container, org[0])  # no endpoint yet: nothing recorded
    hook = endpoint(api, receiver.url)
    assert deliver_once(container).attempted == 0
    emit_alert(container, org[0])
    assert api.delete(f"/api/v1/webhook_endpoints/{hook['lago_id']}").status_code == 200
    assert deliver_once(container).attempted == 0
    assert receiver.requests == []
