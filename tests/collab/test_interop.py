"""Our server with the real JavaScript client: yjs 13 + y-websocket 3 in Node, unchanged."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager

import anyio
import pycrdt
import pytest

from tests.collab.conftest import CollabWorld
from tests.support.api_client import Account
from tests.support.node_peer import NodePeer

pytestmark = pytest.mark.node
TIMEOUT_S = 30


@asynccontextmanager
async def js_peers(world: CollabWorld, *accounts: Account) -> AsyncIterator[list[NodePeer]]:
    async with AsyncExitStack() as stack:
        peers = []
        for i, account in enumerate(accounts):
            peer = await stack.enter_async_context(NodePeer(label=f"js{i}"))
            await peer.connect(
                f"{world.server.ws_url}/collab",
                world.project_id,
                params={"token": account.access_token},
                per_message_deflate=False,
            )
            peers.append(peer)
        for peer in peers:
            await peer.wait_synced(timeout_s=10)
        yield peers


def lyrics(doc: pycrdt.Doc) -> str:
    return str(doc.get("lyrics", type=pycrdt.Text))


async def test_js_and_python_peers_converge(world: CollabWorld) -> None:
    with anyio.fail_after(TIMEOUT_S):
        async with js_peers(world, world.editor, world.owner) as (alice, bob), world.peer() as py:
            await py.wait_synced()
            async with anyio.create_task_group() as group:
                group.start_soon(alice.text_insert, "lyrics", 0, "alice ")
                group.start_soon(bob.text_insert, "lyrics", 0, "bob ")
                group.start_soon(alice.map_set, "meta", "bpm", 96.0)
            py.doc.get("lyrics", type=pycrdt.Text).insert(0, "python ")
            total = len("alice ") + len("bob ") + len("python ")
            for peer in (alice, bob):
                await peer.wait_for("text_length", name="lyrics", length=total)
            await py.wait_for(lambda: len(lyrics(py.doc)) == total)
            roots = {"lyrics": "text", "meta": "map"}
            a, b = await alice.state(roots), await bob.state(roots)
            assert a.json == b.json
            assert a.json["lyrics"] == lyrics(py.doc)
            assert sorted(a.json["lyrics"].split()) == ["alice", "bob", "python"]
            assert a.state_vector == b.state_vector
            assert py.doc.get("meta", type=pycrdt.Map)["bpm"] == 96.0


async def test_js_viewer_edits_do_not_reach_others(world: CollabWorld) -> None:
    with anyio.fail_after(TIMEOUT_S):
        async with js_peers(world, world.viewer, world.editor) as (viewer, editor):
            await viewer.text_insert("lyrics", 0, "VIEWER ")
            await viewer.set_awareness({"user": {"name": "viewer"}})
            await editor.wait_for(
                "awareness_client", client_id=viewer.client_id, state={"user": {"name": "viewer"}}
            )
            await editor.text_insert("lyrics", 0, "editor")
            await viewer.wait_for("text_length", name="lyrics", length=len("VIEWER editor"))
            assert await editor.text_get("lyrics") == "editor"
        async with world.peer(world.owner) as fresh:
            await fresh.wait_synced()
            assert lyrics(fresh.doc) == "editor"


async def test_js_client_edits_offline_and_merges_on_reconnect(world: CollabWorld) -> None:
    with anyio.fail_after(TIMEOUT_S):
        async with js_peers(world, world.editor, world.owner) as (alice, bob):
            await alice.map_set("meta", "title", "draft")
            await bob.wait_for("map_key", name="meta", key="title", value="draft")
            await alice.disconnect()
            await alice.wait_for("status", status="disconnected")
            await alice.text_insert("lyrics", 0, "written on the train")
            await alice.array_push("comments", [{"text": "offline note"}])
            await bob.text_insert("lyrics", 0, "online ")
            assert await bob.text_get("lyrics") == "online "
            await alice.connect(
                f"{world.server.ws_url}/collab",
                world.project_id,
                params={"token": world.editor.access_token},
                per_message_deflate=False,
            )
            await alice.wait_synced()
            total = len("written on the train") + len("online ")
            for peer in (alice, bob):
                await peer.wait_for("text_length", name="lyrics", length=total)
                await peer.wait_for("array_len", name="comments", length=1)
            roots = {"lyrics": "text", "meta": "map", "comments": "array"}
            assert (await alice.state(roots)).json == (await bob.state(roots)).json
        async with world.peer(world.owner) as fresh:
            await fresh.wait_synced()
            assert len(lyrics(fresh.doc)) == total
            assert len(fresh.doc.get("comments", type=pycrdt.Array)) == 1


async def test_js_refusal_is_an_http_answer_to_the_upgrade(world: CollabWorld) -> None:
    """A refusal never opens the socket: y-websocket 1.x/2.x reset their back-off on open."""
    stranger = await world.api.signup()
    with anyio.fail_after(TIMEOUT_S):
        async with NodePeer(label="stranger") as peer:
            await peer.connect(
                f"{world.server.ws_url}/collab",
                world.project_id,
                params={"token": stranger.access_token},
                reconnect=False,
            )
            error = await peer.wait_event("connection-error")
            assert not [
                e
                for e in peer.events
                if e.name == "status" and e.fields.get("status") == "connected"
            ]
    assert error.fields["http_status"] == 404
