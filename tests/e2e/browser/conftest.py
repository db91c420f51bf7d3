"""One real `releve serve` on demo data and one headless Debian Chromium for the browser tests.

Never a downloaded browser: Playwright drives /usr/bin/chromium. Without it the tests skip with
a reason locally, and fail in CI (CI=true), where .ci/run installs it (tests/e2e/NEEDS_CHROMIUM).
Screenshots go to artifacts/screenshots/ (gitignored); render times to artifacts/render_times.json.
"""

from __future__ import annotations

import json
import os
import socket
import statistics
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.integration.databases import DatabaseFactory

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
ARTIFACTS = Path(__file__).resolve().parents[3] / "artifacts"
SCREENSHOTS = ARTIFACTS / "screenshots"
DEMO_KEY = "rlv_browser_" + "b" * 32

if not CHROMIUM.exists() and not os.environ.get("CI"):
    pytest.skip(
        "Debian chromium is not installed (/usr/bin/chromium missing); "
        "install it with `apt-get install chromium` to run the browser tests",
        allow_module_level=True,
    )


@dataclass
class DemoServer:
    url: str
    api_key: str
    portal_url: str
    timings: dict[str, dict[str, float]] = field(default_factory=dict)

    def api(self, method: str, path: str, body: Any = None) -> httpx.Response:
        return httpx.request(
            method,
            f"{self.url}/api/v1{path}",
            json=body,
            headers={"Authorization": f"Bearer {self.api_key}"},
            timeout=10,
        )


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="session")
def demo_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DemoServer]:
    workdir = tmp_path_factory.mktemp("browser")
    databases = DatabaseFactory(workdir)
    releve = Path(sys.executable).with_name("releve")
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    with databases.fresh() as database_url:
        env = {
            **os.environ,
            "RELEVE_DATABASE_URL": database_url,
            "RELEVE_DEMO_API_KEY": DEMO_KEY,
            "RELEVE_PUBLIC_URL": url,
        }
        demo = subprocess.run(
            [str(releve), "demo"], env=env, cwd=workdir, capture_output=True, text=True, check=True
        )
        portal = next(line.split()[-1] for line in demo.stdout.splitlines() if "/portal/" in line)
        log = (workdir / "server.log").open("wb")
        process = subprocess.Popen(
            [str(releve), "serve", "--host", "127.0.0.1", "--port", str(port), "--no-scheduler"],
            env=env,
            cwd=workdir,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        try:
            deadline = time.monotonic() + 30
            while True:
                try:
                    if httpx.get(f"{url}/health", timeout=1).status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                if process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError((workdir / "server.log").read_text())
                time.sleep(0.1)
            server = DemoServer(url, DEMO_KEY, portal)
            # A few events under a code no metric has: the explorer's "unmatched" filter.
            server.api(
                "POST",
                "/events/batch",
                {
                    "events": [
                        {
                            "transaction_id": f"typo_{n}",
                            "external_subscription_id": "acme",
                            "code": "api_cals",
                        }
                        for n in range(3)
                    ]
                },
            ).raise_for_status()
            yield server
            ARTIFACTS.mkdir(exist_ok=True)
            (ARTIFACTS / "render_times.json").write_text(json.dumps(server.timings, indent=2))
        finally:
            process.terminate()
            process.wait(timeout=10)
            log.close()
    databases.drop_template()


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
        )
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="en-US")
    context.set_default_timeout(8_000)
    page = context.new_page()
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.console_errors = errors
    yield page
    context.close()


def screenshot(page: Any, name: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)


def sign_in(server: DemoServer, page: Any, path: str = "/") -> None:
    """Open `path` signed out, sign in with the demo key and land back on `path`: every browser
    test starts from a real sign-in, and the dashboard returns the operator where they were
    going."""
    page.goto(server.url + path)
    assert "/sign-in" in page.url
    page.get_by_label("API key").fill(server.api_key)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(server.url + path)


def measure(server: DemoServer, page: Any, name: str, path: str, *, prefix: str = "") -> None:
    """Record the render time of `path` under `prefix + name`: the server's HTML response
    (median of 3 requests, signed in with the page's cookies) and the browser's navigation to
    `load`. Printed and saved in `server.timings`, never asserted (machines differ)."""
    cookies = {c["name"]: c["value"] for c in page.context.cookies()}
    samples = []
    for _ in range(3):
        started = time.perf_counter()
        r = httpx.get(server.url + path, cookies=cookies, timeout=10)
        samples.append((time.perf_counter() - started) * 1000)
        assert r.status_code == 200, (path, r.status_code)
    started = time.perf_counter()
    page.goto(server.url + path, wait_until="load")
    browser_ms = (time.perf_counter() - started) * 1000
    median = statistics.median(samples)
    server.timings[prefix + name] = {
        "server_ms": round(median, 1),
        "browser_load_ms": round(browser_ms, 1),
    }
    print(f"render {prefix}{name:<10} server {median:6.1f} ms   browser {browser_ms:6.1f} ms")
