"""End-to-end browser tests: the built web client in Chromium against ``jacameno serve``.

One server and one browser serve the whole package (package scope: they stop before
the next package's tests run); every test opens its own browser contexts, so tests
share nothing but the server. Without Chromium (``/usr/bin/chromium``, Debian's
package) or the built client (``make web``), the tests skip; with
``JACAMENO_REQUIRE_SERVICES=1`` they fail instead.

``JACAMENO_TEST_WEB_DIST`` points at another build of the client (e.g.
``npx vite build --outDir /tmp/e2e/dist``) and ``JACAMENO_TEST_CHROMIUM`` at another
Chromium binary.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Generator, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import (
    Browser,
    BrowserContext,
    Page,
    Playwright,
    expect,
    sync_playwright,
)

from tests.browser.support import REPO_ROOT, SESSION_KEY, Api, User
from tests.conftest import service_missing
from tests.support.app_server import free_port

SERVER_START_TIMEOUT_S = 60.0
SERVER_STOP_TIMEOUT_S = 15.0
LOG_TAIL_LINES = 80
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--autoplay-policy=no-user-gesture-required",
]
#: Playwright's default wait for every action and ``expect`` (ms).
DEFAULT_TIMEOUT_MS = 10_000

_BROWSER_LOGS = pytest.StashKey[list[str]]()


@dataclass
class ServerProcess:
    base_url: str
    log_path: Path
    process: subprocess.Popen[bytes]

    def log_tail(self, lines: int = LOG_TAIL_LINES) -> str:
        try:
            text = self.log_path.read_text(errors="replace")
        except OSError as exc:
            return f"(no server log: {exc})"
        return "\n".join(text.splitlines()[-lines:])


# --------------------------------------------------------------------------- services


def _web_dist() -> Path:
    override = os.environ.get("JACAMENO_TEST_WEB_DIST")
    return Path(override) if override else REPO_ROOT / "web" / "dist"


@pytest.fixture(scope="package")
def web_dist() -> Path:
    """The built client; missing: skip (fail under JACAMENO_REQUIRE_SERVICES=1)."""
    dist = _web_dist()
    if not (dist / "index.html").is_file():
        service_missing(
            f"the web client is not built ({dist / 'index.html'} is missing): run make web"
        )
    return dist


@pytest.fixture(scope="package")
def chromium_path() -> str:
    path = os.environ.get("JACAMENO_TEST_CHROMIUM", "/usr/bin/chromium")
    if not os.access(path, os.X_OK):
        service_missing(
            f"Chromium is not installed at {path} (Debian's chromium package: make browser-deps)"
        )
    return path


def _jacameno_command() -> list[str]:
    script = Path(sys.executable).parent / "jacameno"
    return [str(script)] if script.exists() else [sys.executable, "-m", "jacameno.api.cli"]


@pytest.fixture(scope="package")
def server(web_dist: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    """``jacameno serve`` on a free loopback port, on SQLite and local disk under a tmp dir."""
    with serve_jacameno(web_dist, tmp_path_factory.mktemp("browser-server")) as running:
        yield running


@contextmanager
def serve_jacameno(
    web_dist: Path,
    workdir: Path,
    *,
    port: int | None = None,
    env: Mapping[str, str] | None = None,
) -> Iterator[ServerProcess]:
    """``jacameno serve`` on ``port`` (a free one when None) until the block exits, its
    data under ``workdir``; ``env`` adds ``JACAMENO_`` settings (or overrides ours)."""
    data = workdir / "var"
    port = port or free_port()
    child_env = {k: v for k, v in os.environ.items() if not k.startswith("JACAMENO_")}
    child_env.update(
        {
            "JACAMENO_ENV": "development",
            "JACAMENO_DATA_DIR": str(data),
            "JACAMENO_DATABASE_URL": f"sqlite+aiosqlite:///{data / 'jacameno.db'}",
            "JACAMENO_STORAGE_URL": f"file://{data / 'storage'}",
            "JACAMENO_LANCEDB_URI": str(data / "memory"),
            "JACAMENO_WEB_DIST": str(web_dist),
            "JACAMENO_PUBLIC_URL": f"http://127.0.0.1:{port}",
            # Cheap password hashing and no rate limits: many accounts in little time.
            "JACAMENO_ARGON2_TIME_COST": "1",
            "JACAMENO_ARGON2_MEMORY_KIB": "64",
            "JACAMENO_RATE_LIMITS_ENABLED": "false",
            "JACAMENO_LOG_FORMAT": "console",
            "JACAMENO_LOG_LEVEL": "WARNING",
            "PYTHONPATH": str(REPO_ROOT),
            **(env or {}),
        }
    )
    log_path = workdir / "server.log"
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [*_jacameno_command(), "serve", "--host", "127.0.0.1", "--port", str(port)],
            cwd=workdir,
            env=child_env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    running = ServerProcess(f"http://127.0.0.1:{port}", log_path, process)
    try:
        _wait_healthy(running)
        yield running
    finally:
        _stop(process)


def _wait_healthy(running: ServerProcess) -> None:
    deadline = time.monotonic() + SERVER_START_TIMEOUT_S
    with httpx.Client(timeout=2) as http:
        while True:
            if running.process.poll() is not None:
                pytest.fail(
                    f"jacameno serve exited with {running.process.returncode} during start-up:\n"
                    + running.log_tail(),
                    pytrace=False,
                )
            try:
                if http.get(f"{running.base_url}/healthz").status_code == 200:
                    return
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                pytest.fail(
                    f"jacameno serve did not answer /healthz in {SERVER_START_TIMEOUT_S:.0f} s:\n"
                    + running.log_tail(),
                    pytrace=False,
                )
            time.sleep(0.05)  # polling a starting process: there is no event to wait on


def _stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(SERVER_STOP_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


# --------------------------------------------------------------------------- browser


@pytest.fixture(scope="package")
def playwright() -> Iterator[Playwright]:
    expect.set_options(timeout=DEFAULT_TIMEOUT_MS)
    with sync_playwright() as pw:
        yield pw


@pytest.fixture(scope="package")
def browser(playwright: Playwright, chromium_path: str) -> Iterator[Browser]:
    browser = playwright.chromium.launch(executable_path=chromium_path, args=CHROMIUM_ARGS)
    try:
        yield browser
    finally:
        browser.close()


@pytest.fixture
def api(server: ServerProcess) -> Iterator[Api]:
    client = Api(server.base_url)
    try:
        yield client
    finally:
        client.close()


ContextFactory = Callable[..., BrowserContext]


@pytest.fixture
def new_context(
    browser: Browser, server: ServerProcess, request: pytest.FixtureRequest
) -> Iterator[ContextFactory]:
    """Factory: a fresh browser context, signed in as ``user`` when given (``user_agent``:
    another browser's, as the server sees it).

    Console errors and page errors of every page go to the test's report when it fails.
    """
    contexts: list[BrowserContext] = []
    logs: list[str] = []
    request.node.stash[_BROWSER_LOGS] = logs

    def make(
        user: User | None = None,
        *,
        label: str | None = None,
        width: int = 1280,
        height: int = 800,
        user_agent: str | None = None,
    ) -> BrowserContext:
        state: Any = None
        if user is not None:
            state = {
                "cookies": [],
                "origins": [
                    {
                        "origin": server.base_url,
                        "localStorage": [{"name": SESSION_KEY, "value": user.session_json()}],
                    }
                ],
            }
        context = browser.new_context(
            base_url=server.base_url,
            viewport={"width": width, "height": height},
            storage_state=state,
            service_workers="allow",
            user_agent=user_agent,
        )
        context.set_default_timeout(DEFAULT_TIMEOUT_MS)
        name = label or (user.name if user else "anonymous")

        def watch(page: Page) -> None:
            page.on(
                "console",
                lambda msg: (
                    logs.append(f"[{name} console.{msg.type}] {msg.text}")
                    if msg.type in ("error", "warning")
                    else None
                ),
            )
            page.on("pageerror", lambda exc: logs.append(f"[{name} pageerror] {exc}"))

        context.on("page", watch)
        contexts.append(context)
        return context

    try:
        yield make
    finally:
        for context in contexts:
            try:
                context.close()
            except Exception as exc:  # a crashed context must not hide the test's failure
                logs.append(f"(closing a context failed: {exc})")


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    """A failed browser test's report carries the server's log tail and the pages' errors."""
    report = yield
    if report.failed:
        funcargs = getattr(item, "funcargs", {})
        running = funcargs.get("server")
        if isinstance(running, ServerProcess):
            report.sections.append(("jacameno serve log (tail)", running.log_tail()))
        logs = item.stash.get(_BROWSER_LOGS, None)
        if logs:
            report.sections.append(("browser console", "\n".join(logs[-200:])))
    return report


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Every test here needs Chromium: mark them ``browser``."""
    here = Path(__file__).parent
    for item in items:
        if Path(str(item.fspath)).is_relative_to(here):
            item.add_marker(pytest.mark.browser)
