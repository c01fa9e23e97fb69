"""The node test tooling (real yjs peers) proved against the reference y-websocket server.

These tests check the tooling, not our server: once `NodePeer` is trusted
here, tests of ``collab`` and ``api`` use it to meet the stock browser client.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager

import anyio
import pytest
from websockets.asyncio.server import ServerConnection, serve

from tests.support.node_peer import (
    NodePeer,
    PeerCommandError,
    ReferenceServer,
)

pytestmark = pytest.mark.node

TEST_TIMEOUT_S = 15


def _room() -> str:
    return f"tooling-{uuid.uuid4().hex[:12]}"


@asynccontextmanager
async def _synced_peers(
    count: int,
) -> AsyncIterator[tuple[ReferenceServer, str, list[NodePeer]]]:
    """A reference server, a fresh room, and `count` peers synced in it."""
    room = _room()
    async with AsyncExitStack() as stack:
        server = await stack.enter_async_context(ReferenceServer())
        peers = [await stack.enter_async_context(NodePeer(label=f"peer{i}")) for i in range(count)]
        for peer in peers:
            await peer.connect(server.url, room, params={"token": "not-checked-here"})
        for peer in peers:
            await peer.wait_synced(timeout_s=5)
        yield server, room, peers


async def test_concurrent_text_edits_converge() -> None:
    with anyio.fail_after(TEST_TIMEOUT_S):
        async with _synced_peers(2) as (_, _, (alice, bob)):
            async with anyio.create_task_group() as tg:
                tg.start_soon(alice.text_insert, "lyrics", 0, "hello ")
                tg.start_soon(bob.text_insert, "lyrics", 0, "world ")
            for peer in (alice, bob):
                await peer.wait_for("text_length", name="lyrics", length=12, timeout_s=5)
            alice_state = await alice.state({"lyrics": "text"})
            bob_state = await bob.state({"lyrics": "text"})
            assert alice_state.json == bob_state.json
            assert sorted(alice_state.json["lyrics"].split()) == ["hello", "world"]
            assert alice_state.state_vector == bob_state.state_vector
            assert alice_state.update == bob_state.update
            assert await bob.count_updates() >= 1


async def test_offline_edits_merge_on_reconnect() -> None:
    with anyio.fail_after(TEST_TIMEOUT_S):
        async with _synced_peers(2) as (server, room, (alice, bob)):
            await alice.map_set("meta", "title", "draft")
            await bob.wait_for("map_key", name="meta", key="title", value="draft", timeout_s=5)

            await alice.disconnect()
            await alice.wait_for("status", status="disconnected", timeout_s=5)
            await alice.text_insert("lyrics", 0, "written offline")
            await alice.array_push("comments", [{"text": "offline note"}])
            await bob.map_set("meta", "bpm", 120.0)
            await bob.text_insert("lyrics", 0, "online ")
            # The server never saw alice's offline edits.
            assert await bob.text_get("lyrics") == "online "

            await alice.connect(server.url, room)
            await alice.wait_synced(timeout_s=5)
            expected_length = len("written offline") + len("online ")
            for peer in (alice, bob):
                await peer.wait_for("text_length", name="lyrics", length=expected_length)
                await peer.wait_for("array_len", name="comments", length=1)
                await peer.wait_for("map_key", name="meta", key="bpm", value=120.0)
            roots = {"lyrics": "text", "meta": "map", "comments": "array"}
            alice_state, bob_state = await alice.state(roots), await bob.state(roots)
            assert alice_state.json == bob_state.json
            assert alice_state.json["meta"] == {"title": "draft", "bpm": 120.0}
            assert alice_state.json["comments"] == [{"text": "offline note"}]


async def test_awareness_reaches_the_other_peer() -> None:
    with anyio.fail_after(TEST_TIMEOUT_S):
        async with _synced_peers(2) as (server, room, (alice, bob)):
            cursor = {"user": {"name": "alice"}, "playhead_s": 12.5}
            await alice.set_awareness(cursor)
            await bob.wait_for("awareness_client", client_id=alice.client_id, state=cursor)
            assert (await bob.awareness_states())[alice.client_id] == cursor

            await alice.set_awareness(None)
            await bob.wait_for("awareness_count", count=1)
            assert alice.client_id not in await bob.awareness_states()

            # State set before connecting is published on connect, as in a browser.
            async with NodePeer(label="carol") as carol:
                await carol.set_awareness({"user": {"name": "carol"}})
                await carol.connect(server.url, room)
                await bob.wait_for(
                    "awareness_client", client_id=carol.client_id, state={"user": {"name": "carol"}}
                )


async def test_update_round_trip_through_state_and_apply_update() -> None:
    with anyio.fail_after(TEST_TIMEOUT_S):
        async with NodePeer(label="source") as source, NodePeer(label="copy") as copy:
            await source.transact(
                [
                    {"cmd": "text_insert", "name": "lyrics", "index": 0, "text": "la la"},
                    {"cmd": "map_set", "name": "meta", "key": "key", "value": "A minor"},
                ]
            )
            await copy.apply_update((await source.state()).update)
            state = await copy.state({"lyrics": "text", "meta": "map"})
            assert state.json == {"lyrics": "la la", "meta": {"key": "A minor"}}


@pytest.mark.parametrize(
    ("code", "terminal"),
    [(4401, True), (4003, False)],
    ids=["4401-stops-reconnecting", "4003-would-retry"],
)
async def test_server_close_codes_are_reported(code: int, terminal: bool) -> None:
    async def refuse(connection: ServerConnection) -> None:
        await connection.close(code, "token expired")

    with anyio.fail_after(TEST_TIMEOUT_S):
        async with (
            serve(refuse, "127.0.0.1", 0) as server,
            NodePeer(label="refused") as peer,
        ):
            port = next(iter(server.sockets)).getsockname()[1]
            await peer.connect(f"ws://127.0.0.1:{port}/collab", _room(), reconnect=terminal)
            close = await peer.wait_close(timeout_s=5)
            assert (close["code"], close["reason"]) == (code, "token expired")
            event = await peer.wait_event("connection-close", where=lambda e: not e.fields["local"])
            assert event.fields["code"] == code
            if terminal:
                # y-websocket itself gives up on 4400-4499 and says so.
                closed = await peer.wait_event("closed")
                assert closed.fields["code"] == code
                with pytest.raises(PeerCommandError) as refused:
                    await peer.wait_synced(timeout_s=5)
                assert refused.value.type == "closed"


async def test_bad_commands_answer_errors_and_the_peer_survives() -> None:
    with anyio.fail_after(TEST_TIMEOUT_S):
        async with NodePeer() as peer:
            with pytest.raises(PeerCommandError) as unknown:
                await peer.request("no_such_command")
            assert unknown.value.type == "unknown_command"
            with pytest.raises(PeerCommandError) as bad:
                await peer.request("text_insert", name=3, text="x")
            assert bad.value.type == "bad_request"
            with pytest.raises(PeerCommandError) as timeout:
                await peer.wait_for("text_equals", name="t", text="never", timeout_s=0.2)
            assert timeout.value.type == "timeout"
            assert await peer.text_insert("t", 0, "still alive") == len("still alive")
