"""End-to-end fixtures: a live ``hyper-registry serve --demo`` on loopback and Debian's
Chromium driven by Playwright (headless; never a downloaded browser).

The tests need the built UI (``web/dist``: ``cd web && npm ci && npm run build``) and
``/usr/bin/chromium`` (``apt-get install chromium``). Without either they are skipped
with the reason, except under ``CI=true``, where they fail: CI must run them.
Screenshots go to ``tests/web/artifacts/`` (gitignored).
"""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

ROOT = Path(__file__).resolve().parents[2]
DIST = ROOT / "web" / "dist"
CHROMIUM = Path(os.environ.get("HYPER_REGISTRY_TEST_CHROMIUM", "/usr/bin/chromium"))
ARTIFACTS = Path(__file__).parent / "artifacts"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-dev-shm-usage",
    # WebGL on the CPU (SwiftShader): headless with --disable-gpu has no other GL.
    "--use-angle=swiftshader",
    "--enable-unsafe-swiftshader",
]


def in_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() == "true"


def unavailable(reason: str) -> None:
    if in_ci():
        pytest.fail(f"UI tests cannot run under CI=true: {reason}")
    pytest.skip(reason)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@dataclass
class Server:
    url: str
    token: str
    data_dir: Path

    def api(self) -> httpx.Client:
        return httpx.Client(
            base_url=self.url, headers={"Authorization": f"Bearer {self.token}"}, timeout=30
        )


@pytest.fixture(scope="session")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """``hyper-registry serve --demo`` in a subprocess, on a fresh SQLite data directory."""
    if not (DIST / "index.html").is_file():
        unavailable(f"the UI is not built ({DIST}): cd web && npm ci && npm run build")
    data = tmp_path_factory.mktemp("web-e2e")
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("HYPER_REGISTRY_")}
    env["HYPER_REGISTRY_DATA_DIR"] = str(data)
    # Loopback only: the demo's services name cluster hosts, so no health probes go out.
    env["HYPER_REGISTRY_CHECKER_ENABLED"] = "false"
    log = (data / "server.log").open("wb")
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "hyper_registry",
            "serve",
            "--demo",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
        ],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        cwd=str(data),
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 90
        while True:
            if proc.poll() is not None:
                pytest.fail(f"the server exited: {(data / 'server.log').read_text()[-2000:]}")
            try:
                if httpx.get(f"{url}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                pytest.fail("the server did not answer /healthz within 90 s")
            time.sleep(0.2)
        token = (data / "admin-token").read_text().strip()
        yield Server(url=url, token=token, data_dir=data)
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    if not CHROMIUM.is_file():
        unavailable(f"{CHROMIUM} is missing: apt-get install -y chromium")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)
        try:
            yield b
        finally:
            b.close()


@pytest.fixture
def page(browser: Any, server: Server, request: pytest.FixtureRequest) -> Iterator[Any]:
    """A fresh browser context (empty session storage) with console errors collected."""
    context = browser.new_context(viewport={"width": 1360, "height": 900}, base_url=server.url)
    pg = context.new_page()
    errors: list[str] = []
    pg.on("pageerror", lambda exc: errors.append(str(exc)))
    pg.errors = errors
    pg.set_default_timeout(20_000)
    try:
        yield pg
    finally:
        ARTIFACTS.mkdir(exist_ok=True)
        with contextlib.suppress(Exception):
            pg.screenshot(path=str(ARTIFACTS / f"{request.node.name}-final.png"), full_page=True)
        context.close()


def shot(page: Any, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


def login(page: Any, server: Server, path: str = "/") -> None:
    page.goto(path)
    page.get_by_label("API token").fill(server.token)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_selector("header.top:not([hidden])")
