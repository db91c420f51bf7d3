"""Processes: servers under test (started, health-checked, stopped) and load-generator runs."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

RELEVE_SERVE = "from releve.entrypoints.cli import app; app()"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Server:
    port: int
    process: subprocess.Popen[bytes]


def releve_serve_command(port: int, workers: int = 1) -> list[str]:
    """`releve serve` exactly (the installed Typer app), in this interpreter."""
    return [
        sys.executable,
        "-c",
        RELEVE_SERVE,
        "serve",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--no-scheduler",
        *(["--workers", str(workers)] if workers > 1 else []),
    ]


def noop_command(port: int) -> list[str]:
    return [sys.executable, "-m", "bench.noop_app", str(port)]


@contextmanager
def server(
    command: list[str], port: int, log: Path, env: dict[str, str] | None = None
) -> Iterator[Server]:
    """Start `command`, wait until GET /health answers 200 (30 s at most), stop it at the end."""
    with log.open("wb") as out:
        process = subprocess.Popen(
            command, stdout=out, stderr=subprocess.STDOUT, env={**os.environ, **(env or {})}
        )
        try:
            deadline = time.monotonic() + 30
            while True:
                if process.poll() is not None:
                    raise RuntimeError(f"server exited ({process.returncode}); see {log}")
                try:
                    with urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=1) as r:
                        if r.status == 200:
                            break
                except OSError:
                    pass
                if time.monotonic() > deadline:
                    raise RuntimeError(f"server not healthy after 30 s; see {log}")
                time.sleep(0.1)
            yield Server(port, process)
        finally:
            if process.poll() is None:
                process.send_signal(signal.SIGINT)
                try:
                    process.wait(timeout=15)
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.wait()


@dataclass(frozen=True)
class LoadResult:
    events: int
    requests: int
    seconds: float
    p50_ms: float
    p99_ms: float

    @property
    def rate(self) -> float:
        return self.events / self.seconds


class LoadError(AssertionError):
    """A request failed, timed out or was refused: the run reports no figure."""


def load(
    port: int,
    bodies: Path,
    *,
    api_key: str | None,
    connections: int,
    processes: int,
    time_limit: float,
) -> LoadResult:
    """Send every body of `bodies` once, over `connections` split across `processes`."""
    per_process = [
        connections // processes + (i < connections % processes) for i in range(processes)
    ]
    procs = [
        subprocess.Popen(
            [
                sys.executable,
                "-m",
                "bench.loadgen",
                "--bodies",
                str(bodies),
                "--port",
                str(port),
                "--connections",
                str(max(1, n)),
                "--part",
                str(i),
                "--parts",
                str(processes),
                "--time-limit",
                str(time_limit),
                *(["--api-key", api_key] if api_key else []),
            ],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
        )
        for i, n in enumerate(per_process)
    ]
    try:
        for p in procs:
            assert p.stdout is not None
            if p.stdout.readline().strip() != b"ready":
                raise LoadError("the load generator did not start")
        for p in procs:  # all start together
            assert p.stdin is not None
            p.stdin.write(b"go\n")
            p.stdin.flush()
        results = []
        for p in procs:
            out, _ = p.communicate(timeout=time_limit + 30)
            results.append(json.loads(out))
    finally:
        for p in procs:
            if p.poll() is None:
                p.kill()
                p.wait()
    failed = [r for r in results if r["timed_out"] or r["ok"] != r["sent"]]
    if failed:
        r = failed[0]
        raise LoadError(
            f"{r['sent'] - r['ok']} of {r['sent']} requests failed "
            f"(statuses {r['statuses']}, timed out: {r['timed_out']}): {r['errors'][:2]}"
        )
    seconds = max(r["ended"] for r in results) - min(r["started"] for r in results)
    return LoadResult(
        events=sum(r["events"] for r in results),
        requests=sum(r["requests"] for r in results),
        seconds=seconds,
        p50_ms=max(r["p50_ms"] for r in results),
        p99_ms=max(r["p99_ms"] for r in results),
    )
