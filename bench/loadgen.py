"""The load generator: a separate process sending pre-built HTTP/1.1 requests over keep-alive
connections to 127.0.0.1, as fast as the server answers.

Fast enough not to be the bottleneck: requests are built before the clock starts, each
connection is a bare `asyncio.Protocol` (uvloop when installed) that parses only the status line
and Content-Length, and the parent can split the work over several processes. Reference (b)
(the do-nothing endpoint) measures the ceiling of this generator and server stack together.

Protocol with the parent (bench.runner): `python -m bench.loadgen --bodies FILE …` loads and
builds everything, prints `ready`, waits for one line on stdin, sends, then prints one JSON
object: requests, events, ok, statuses, errors (first few bodies), started/ended (wall clock),
latencies p50/p99 in ms. Bounded: it stops after the last request or `--time-limit` seconds.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time
from collections import Counter
from typing import Any, cast


def build_requests(
    bodies_file: str, host: str, port: int, path: str, api_key: str | None, part: int, parts: int
) -> list[tuple[int, bytes]]:
    """(event count, full request bytes) for every `parts`-th line of the bodies file."""
    head = f"POST {path} HTTP/1.1\r\nHost: {host}:{port}\r\nContent-Type: application/json\r\n"
    if api_key:
        head += f"Authorization: Bearer {api_key}\r\n"
    requests = []
    with open(bodies_file, "rb") as f:
        for n, line in enumerate(f):
            if n % parts != part:
                continue
            count, body = line.rstrip(b"\n").split(b"\t", 1)
            requests.append(
                (int(count), f"{head}Content-Length: {len(body)}\r\n\r\n".encode() + body)
            )
    return requests


class _Stats:
    def __init__(self) -> None:
        self.statuses: Counter[int] = Counter()
        self.events = 0
        self.latencies: list[float] = []
        self.errors: list[str] = []


class _Connection(asyncio.Protocol):
    def __init__(self, work: Any, stats: _Stats, done: asyncio.Future[None]) -> None:
        self._work = work
        self._stats = stats
        self._done = done
        self._buffer = bytearray()
        self._need: int | None = None
        self._status = 0
        self._count = 0
        self._sent_at = 0.0
        self._transport: asyncio.Transport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self._transport = cast(asyncio.Transport, transport)
        self._send_next()

    def _send_next(self) -> None:
        assert self._transport is not None
        item = next(self._work, None)
        if item is None:
            self._transport.close()
            if not self._done.done():
                self._done.set_result(None)
            return
        self._count, request = item
        self._sent_at = time.perf_counter()
        self._transport.write(request)

    def data_received(self, data: bytes) -> None:
        self._buffer += data
        while True:
            if self._need is None:
                end = self._buffer.find(b"\r\n\r\n")
                if end < 0:
                    return
                head = bytes(self._buffer[:end]).lower()
                self._status = int(head[9:12])
                at = head.find(b"content-length:")
                if at < 0:
                    raise RuntimeError("response without Content-Length (chunked is unsupported)")
                eol = head.find(b"\r\n", at)
                length = int(head[at + 15 : eol if eol >= 0 else len(head)])
                self._need = end + 4 + length
            if len(self._buffer) < self._need:
                return
            stats = self._stats
            stats.latencies.append(time.perf_counter() - self._sent_at)
            stats.statuses[self._status] += 1
            if 200 <= self._status < 300:
                stats.events += self._count
            elif len(stats.errors) < 5:
                stats.errors.append(
                    bytes(self._buffer[: min(self._need, 600)]).decode(errors="replace")
                )
            del self._buffer[: self._need]
            self._need = None
            self._send_next()

    def connection_lost(self, exc: Exception | None) -> None:
        if not self._done.done():
            self._done.set_exception(ConnectionError(f"server closed the connection: {exc}"))


async def _run(
    requests: list[tuple[int, bytes]], host: str, port: int, connections: int, limit: float
) -> dict[str, Any]:
    loop = asyncio.get_running_loop()
    stats = _Stats()
    work = iter(requests)
    done = [loop.create_future() for _ in range(connections)]
    started_wall, started = time.time(), time.perf_counter()
    for future in done:
        await loop.create_connection(lambda f=future: _Connection(work, stats, f), host, port)
    timed_out = False
    try:
        await asyncio.wait_for(asyncio.gather(*done), timeout=limit)
    except TimeoutError:
        timed_out = True
    elapsed = time.perf_counter() - started
    latencies = sorted(stats.latencies)

    def pct(p: float) -> float:
        return (
            latencies[min(len(latencies) - 1, int(p * len(latencies)))] * 1000 if latencies else 0
        )

    return {
        "requests": sum(stats.statuses.values()),
        "sent": len(requests),
        "events": stats.events,
        "ok": sum(n for s, n in stats.statuses.items() if 200 <= s < 300),
        "statuses": {str(s): n for s, n in stats.statuses.items()},
        "errors": stats.errors,
        "timed_out": timed_out,
        "started": started_wall,
        "ended": started_wall + elapsed,
        "p50_ms": pct(0.50),
        "p99_ms": pct(0.99),
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--bodies", required=True)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--path", default="/api/v1/events/batch")
    parser.add_argument("--api-key")
    parser.add_argument("--connections", type=int, default=4)
    parser.add_argument("--part", type=int, default=0)
    parser.add_argument("--parts", type=int, default=1)
    parser.add_argument("--time-limit", type=float, default=300)
    args = parser.parse_args(argv)
    if args.host not in ("127.0.0.1", "localhost", "::1"):
        parser.error("the load generator only targets this machine")
    requests = build_requests(
        args.bodies, args.host, args.port, args.path, args.api_key, args.part, args.parts
    )
    print("ready", flush=True)
    sys.stdin.readline()
    connections = max(1, min(args.connections, len(requests)))
    coroutine = _run(requests, args.host, args.port, connections, args.time_limit)
    try:
        import uvloop  # optional: the same event loop uvicorn uses

        result = uvloop.run(coroutine)
    except ImportError:  # pragma: no cover - plain asyncio works, a bit slower
        result = asyncio.run(coroutine)
    print(json.dumps(result), flush=True)


if __name__ == "__main__":
    main()
