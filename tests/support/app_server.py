"""Run the real application under uvicorn on a free loopback port, for tests.

The server runs in a thread with its own event loop, like a separate process:
tests talk to it over real HTTP and WebSocket connections, and fixtures may
start it in one task and stop it in another.
"""

from __future__ import annotations

import socket
import threading
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass
from typing import Any

import anyio
import uvicorn

from jacameno.api.app import create_app, uvicorn_proxy_options, uvicorn_ws_options
from jacameno.api.settings import Settings

START_TIMEOUT_S = 30.0


def free_port() -> int:
    """A TCP port on 127.0.0.1 that was free a moment ago."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


class _Server(uvicorn.Server):
    """uvicorn's server with a thread event set once it listens (or gave up)."""

    def __init__(self, config: uvicorn.Config) -> None:
        super().__init__(config)
        self.ready = threading.Event()

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        try:
            await super().startup(sockets)
        finally:
            self.ready.set()


@dataclass(frozen=True)
class RunningServer:
    base_url: str
    ws_url: str
    settings: Settings
    server: uvicorn.Server


@contextmanager
def serve_in_thread(settings: Settings, **app_options: Any) -> Iterator[RunningServer]:
    """Serve ``create_app(settings, **app_options)`` in a thread until the block exits
    (blocking calls)."""
    port = settings.port if settings.port != 8000 else free_port()
    settings = settings.model_copy(
        update={"host": "127.0.0.1", "port": port, "public_url": f"http://127.0.0.1:{port}"}
    )
    app = create_app(settings, **app_options)
    options = {**uvicorn_proxy_options(settings), **uvicorn_ws_options(settings)}
    with serve_asgi_in_thread(app, port, lifespan="on", **options) as server:
        yield RunningServer(f"http://127.0.0.1:{port}", f"ws://127.0.0.1:{port}", settings, server)


@contextmanager
def serve_asgi_in_thread(app: Any, port: int, **options: Any) -> Iterator[uvicorn.Server]:
    """Serve any ASGI ``app`` on 127.0.0.1:``port`` in a thread until the block exits;
    ``options`` go to ``uvicorn.Config``."""
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_config=None, **options)
    server = _Server(config)
    thread = threading.Thread(target=server.run, name=f"test-server-{port}", daemon=True)
    thread.start()
    try:
        if not server.ready.wait(START_TIMEOUT_S) or not server.started:
            raise RuntimeError("the test server failed to start (see the log above)")
        yield server
    finally:
        server.should_exit = True
        thread.join(START_TIMEOUT_S)


@asynccontextmanager
async def run_server(settings: Settings, **app_options: Any) -> AsyncIterator[RunningServer]:
    """Serve ``create_app(settings, **app_options)`` until the block exits, without
    blocking the test loop."""
    manager = serve_in_thread(settings, **app_options)
    running = await anyio.to_thread.run_sync(manager.__enter__)
    try:
        yield running
    finally:
        await anyio.to_thread.run_sync(manager.__exit__, None, None, None)
