"""The headers a webhook is signed with: Lago's, plus a timestamped signature against replays.

Lago's (unchanged, so Lago receivers keep working):

- ``X-Lago-Signature``: ``base64(HMAC-SHA256(key=organization.webhook_hmac_key, msg=body))``
- ``X-Lago-Signature-Algorithm``: ``hmac``
- ``X-Lago-Unique-Key``: the webhook's id, the same on every retry (de-duplicate on it).

Relevé's, because Lago's signature never expires (a captured request can be replayed forever):

- ``X-Releve-Timestamp``: Unix seconds of this attempt.
- ``X-Releve-Signature``: ``t=<timestamp>,v1=<hex HMAC-SHA256(key, "<timestamp>.<body>")>``.

Receiver's recipe (body = the raw request bytes, before any JSON parsing)::

    t, v1 = dict(p.split("=", 1) for p in header.split(",")).values()
    expected = hmac.new(key.encode(), f"{t}.".encode() + body, hashlib.sha256).hexdigest()
    ok = hmac.compare_digest(expected, v1) and abs(time.time() - int(t)) <= 300
    # then drop a request whose X-Lago-Unique-Key was already processed

The tolerance (5 minutes here) is the receiver's choice; each retry is signed afresh with its own
timestamp while the body stays byte-identical.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from datetime import datetime

from releve import __version__

CONTENT_TYPE = "application/json"


def lago_signature(key: str, body: bytes) -> str:
    digest = hmac.new(key.encode("utf-8"), body, hashlib.sha256).digest()
    return base64.b64encode(digest).decode("ascii")


def timestamped_signature(key: str, body: bytes, timestamp: int) -> str:
    message = f"{timestamp}.".encode("ascii") + body
    digest = hmac.new(key.encode("utf-8"), message, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={digest}"


def headers(key: str, body: bytes, unique_key: str, at: datetime) -> dict[str, str]:
    """Every header of one attempt (`at`: the attempt time, aware)."""
    timestamp = int(at.timestamp())
    return {
        "Content-Type": CONTENT_TYPE,
        "User-Agent": f"Releve-Webhooks/{__version__}",
        "X-Lago-Signature": lago_signature(key, body),
        "X-Lago-Signature-Algorithm": "hmac",
        "X-Lago-Unique-Key": unique_key,
        "X-Releve-Timestamp": str(timestamp),
        "X-Releve-Signature": timestamped_signature(key, body, timestamp),
    }
