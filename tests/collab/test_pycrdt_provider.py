"""pycrdt-websocket's client (`pycrdt.Provider` over its `HttpxWebsocket` channel) syncs
with our server beside a real yjs client: what the design's named Python client needs
from us stays true."""

from __future__ import annotations

import anyio
import pycrdt
import pytest
from httpx import AsyncClient
from httpx_ws import aconnect_ws
from pycrdt.websocket.websocket import HttpxWebsocket

from tests.collab.conftest import CollabWorld
from tests.support.node_peer import NodePeer

pytestmark = pytest.mark.node
TIMEOUT_S = 30


async def _wait_until(doc: pycrdt.Doc, ready: object) -> None:
    """Wait for `ready()` to hold, re-checking on each change of `doc`."""
    assert callable(ready)
    changed = anyio.Event()

    def on_change(_event: object) -> None:
        changed.set()

    subscription = doc.observe(on_change)
    try:
        while not ready():
            await changed.wait()
            changed = anyio.Event()
    finally:
        doc.unobserve(subscription)


async def test_pycrdt_provider_and_yjs_converge(world: CollabWorld) -> None:
    doc = pycrdt.Doc()
    lyrics = doc.get("lyrics", type=pycrdt.Text)
    meta = doc.get("meta", type=pycrdt.Map)
    url = f"{world.url()}?token={world.editor.access_token}"
    with anyio.fail_after(TIMEOUT_S):
        async with (
            NodePeer(label="yjs") as js,
            AsyncClient() as http,
            aconnect_ws(url, http) as websocket,
            pycrdt.Provider(doc, HttpxWebsocket(websocket, world.project_id)) as provider,
        ):
            await js.connect(
                f"{world.server.ws_url}/collab",
                world.project_id,
                params={"token": world.owner.access_token},
                per_message_deflate=False,
            )
            await js.wait_synced(timeout_s=10)
            await provider.synced.wait()

            await js.text_insert("lyrics", 0, "from yjs ")
            await _wait_until(doc, lambda: str(lyrics) == "from yjs ")
            lyrics.insert(len(lyrics), "and pycrdt")
            meta["bpm"] = 104.0
            await js.wait_for("text_length", name="lyrics", length=len("from yjs and pycrdt"))
            await js.wait_for("map_key", name="meta", key="bpm", value=104.0)
            assert await js.text_get("lyrics") == "from yjs and pycrdt"

    # What the provider wrote was persisted, not only relayed.
    async with world.peer(world.owner) as fresh:
        await fresh.wait_synced()
        assert str(fresh.doc.get("lyrics", type=pycrdt.Text)) == "from yjs and pycrdt"
        assert fresh.doc.get("meta", type=pycrdt.Map)["bpm"] == 104.0
