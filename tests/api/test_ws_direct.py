"""Frames written straight to uvicorn's transport: byte-exact, and only where equivalent."""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any

import anyio
import pycrdt
import pytest
from starlette.types import Scope
from websockets.frames import Frame, Opcode

from jacameno.api.ws_direct import DirectFrames, frame_header
from tests.collab.conftest import start_world  # noqa: F401
from tests.support.node_peer import NodePeer

TIMEOUT_S = 30


@pytest.mark.parametrize("length", [0, 1, 125, 126, 127, 4096, 65535, 65536, 70_000])
def test_frame_is_what_the_websockets_library_would_send(length: int) -> None:
    payload = bytes(i % 251 for i in range(length))
    expected = Frame(Opcode.BINARY, payload).serialize(mask=False, extensions=[])
    assert frame_header(length) + payload == expected


class _Spy:
    """Counts direct writers made (and refused) and frames they wrote; the server gets
    its :meth:`for_scope` as ``create_app``'s ``frames_factory``."""

    def __init__(self) -> None:
        self.direct_channels = 0
        self.asgi_channels = 0
        self.direct_frames = 0

    def for_scope(self, scope: Scope) -> DirectFrames | None:
        spy = self

        class Recording(DirectFrames):
            def try_send(self, payload: bytes) -> bool:
                sent = super().try_send(payload)
                spy.direct_frames += sent
                return sent

        made = Recording.for_scope(scope)
        if made is None:
            self.asgi_channels += 1
        else:
            self.direct_channels += 1
        return made


@pytest.fixture
def spy() -> _Spy:
    return _Spy()


def _lyrics(doc: pycrdt.Doc[Any]) -> str:
    return str(doc.get("lyrics", type=pycrdt.Text))


async def test_relay_writes_frames_directly(
    start_world: Callable[..., Any],  # noqa: F811
    spy: _Spy,
) -> None:
    async with (
        start_world(app_options={"frames_factory": spy.for_scope}) as world,
        world.peer() as a,
        world.peer(world.owner) as b,
    ):
        await a.wait_synced()
        await b.wait_synced()
        with anyio.fail_after(TIMEOUT_S):
            for i in range(20):
                a.doc.get("lyrics", type=pycrdt.Text).insert(0, f"{i} ")
                await b.wait_for(lambda i=i: _lyrics(b.doc).startswith(f"{i} "))
    assert _lyrics(a.doc) == _lyrics(b.doc)
    assert spy.direct_channels == 2
    assert spy.asgi_channels == 0
    # Sync steps, awareness and the 20 relayed updates went out as direct frames.
    assert spy.direct_frames >= 20


@pytest.mark.node
@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
async def test_deflate_connections_go_through_uvicorn(
    start_world: Callable[..., Any],  # noqa: F811
    spy: _Spy,
) -> None:
    async with (
        start_world(
            collab_ws_deflate=True, app_options={"frames_factory": spy.for_scope}
        ) as running,
        NodePeer(label="js-deflate") as js,
    ):
        await js.connect(
            f"{running.server.ws_url}/collab",
            running.project_id,
            params={"token": running.editor.access_token},
            per_message_deflate=True,
        )
        async with running.peer(running.owner) as py:
            with anyio.fail_after(TIMEOUT_S):
                await js.wait_synced(timeout_s=10)
                await py.wait_synced()
                await js.text_insert("lyrics", 0, "compressed ")
                await py.wait_for(lambda: _lyrics(py.doc) == "compressed ")
                py.doc.get("lyrics", type=pycrdt.Text).insert(0, "plain ")
                await js.wait_for("text_equals", name="lyrics", text="plain compressed ")
    # The deflate peer's frames are compressed by uvicorn; the plain peer's go direct.
    assert spy.asgi_channels == 1
    assert spy.direct_channels == 1


def test_the_uvicorn_internals_direct_frames_use_are_there() -> None:
    """Fails loudly when a uvicorn release moves what api/ws_direct.py relies on."""
    from uvicorn.protocols.websockets.websockets_sansio_impl import WebSocketsSansIOProtocol

    from jacameno.api import ws_direct

    assert ws_direct.WebSocketsSansIOProtocol is WebSocketsSansIOProtocol
    source = inspect.getsource(WebSocketsSansIOProtocol)
    for attribute in (
        "self.handshake_complete",
        "self.close_sent",
        "self.disconnected",
        "self.writable",
        "self.transport",
        "self.conn",
    ):
        assert attribute in source, f"uvicorn's protocol no longer has {attribute}"


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
async def test_without_direct_frames_everything_goes_through_asgi(
    start_world: Callable[..., Any],  # noqa: F811
    spy: _Spy,
) -> None:
    async with (
        start_world(
            collab_direct_frames=False, app_options={"frames_factory": spy.for_scope}
        ) as running,
        running.peer() as a,
        running.peer(running.owner) as b,
    ):
        await a.wait_synced()
        await b.wait_synced()
        with anyio.fail_after(TIMEOUT_S):
            a.doc.get("lyrics", type=pycrdt.Text).insert(0, "through ASGI ")
            await b.wait_for(lambda: _lyrics(b.doc) == "through ASGI ")
    assert spy.direct_channels == 0
    assert spy.direct_frames == 0
