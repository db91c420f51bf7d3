"""The HTTP webhook sender (the `WebhookSender` port), on httpx.

Every outcome is a result, never an exception: a status code (any), or the error when no answer
came (DNS, refused connection, TLS, timeout). Redirects are not followed: a receiver that moved
must be updated by its owner, not silently re-targeted. Only the first `EXCERPT` characters of
the response are kept for the delivery log.
"""

from __future__ import annotations

import time
from collections.abc import Mapping

import httpx

from releve.services.webhook_ports import SendResult

EXCERPT = 1000
DEFAULT_TIMEOUT = httpx.Timeout(10.0, connect=5.0)


class HttpWebhookSender:
    def __init__(
        self, timeout: httpx.Timeout = DEFAULT_TIMEOUT, transport: httpx.BaseTransport | None = None
    ) -> None:
        self._timeout = timeout
        self._transport = transport

    def send(self, url: str, body: bytes, headers: Mapping[str, str]) -> SendResult:
        started = time.monotonic()
        try:
            with httpx.Client(
                timeout=self._timeout, follow_redirects=False, transport=self._transport
            ) as client:
                response = client.post(url, content=body, headers=dict(headers))
                text = response.text[:EXCERPT]
        except httpx.HTTPError as exc:
            return SendResult(None, None, f"{type(exc).__name__}: {exc}", _ms(started))
        return SendResult(response.status_code, text, None, _ms(started))


def _ms(started: float) -> int:
    return int((time.monotonic() - started) * 1000)
