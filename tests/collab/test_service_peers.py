"""Services as peers: in-process writes next to real yjs clients, and restores peers receive.

The first test serves a `RoomServer` over the SQL store from the test's own event loop
(a small websockets adapter stands in for the API's route), so a test service can use
``rooms.document`` and ``rooms.add_room_listener`` in-process while Node clients edit.
The restore tests go through the running application: a REST restore is a service write.
"""

from __future__ import annotations

import os
import sys
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from pathlib import Path
from typing import Any

import anyio
import pycrdt
import pytest
from anyio.abc import TaskGroup
from anyio.streams.memory import MemoryObjectReceiveStream, MemoryObjectSendStream
from websockets.asyncio.server import ServerConnection, serve
from websockets.exceptions import ConnectionClosed

from examples.bot import main as run_bot
from jacameno.api.db import Database
from jacameno.api.db.migrate import upgrade
from jacameno.collab.access import Grant
from jacameno.collab.channel import ChannelClosedError
from jacameno.collab.client import CollabClient, NotStoredError
from jacameno.collab.protocol import is_empty_update
from jacameno.collab.room import Room
from jacameno.collab.server import RoomServer
from jacameno.collab.store_backends import create_document_store
from jacameno.docs_model import ProjectDocument, event_origin
from tests.collab.conftest import CollabWorld
from tests.support.api_client import Account
from tests.support.node_peer import NodePeer

TIMEOUT_S = 30
REPO_ROOT = Path(__file__).resolve().parents[2]


# ---------------------------------------------------------------------- in-process rooms


class WebSocketChannel:
    """A `websockets` server connection as a collab ``Channel`` (no auth: a test harness)."""

    def __init__(self, ws: ServerConnection) -> None:
        self._ws = ws

    @property
    def remote(self) -> str:
        return str(self._ws.remote_address)

    async def receive(self) -> bytes:
        try:
            frame = await self._ws.recv()
        except ConnectionClosed as exc:
            raise ChannelClosedError(str(exc)) from exc
        return frame if isinstance(frame, bytes) else b"\xff" + frame.encode()

    def send_now(self, message: bytes) -> bool:
        return False

    async def send(self, message: bytes) -> None:
        try:
            await self._ws.send(message)
        except ConnectionClosed as exc:
            raise ChannelClosedError(str(exc)) from exc

    async def close(self, code: int, reason: str) -> None:
        await self._ws.close(code, reason)


@asynccontextmanager
async def serve_rooms(db_url: str) -> AsyncIterator[tuple[RoomServer, str]]:
    """A RoomServer over the SQL store, served at the returned ``ws://.../collab`` URL."""
    await upgrade(db_url)
    database = Database(db_url)
    try:
        async with create_document_store(database.engine) as store, RoomServer(store) as rooms:

            async def handler(ws: ServerConnection) -> None:
                assert ws.request is not None
                room = ws.request.path.split("?")[0].rsplit("/", 1)[-1]
                await rooms.serve(
                    WebSocketChannel(ws), room, Grant(actor="user:test", can_write=True)
                )

            async with serve(handler, "127.0.0.1", 0, compression=None) as server:
                port = next(iter(server.sockets)).getsockname()[1]
                yield rooms, f"ws://127.0.0.1:{port}/collab"
    finally:
        await database.aclose()


WATCHED_ROOTS: dict[str, Any] = {
    "lyrics": pycrdt.Text,
    "meta": pycrdt.Map,
    "comments": pycrdt.Array,
    "seen": pycrdt.Array,
}


class SeenService:
    """A tiny service: for every transaction someone else makes, it appends one entry
    to the ``seen`` Array. It skips transactions carrying its own origin; were it not to,
    each of its writes would trigger another one, forever."""

    ORIGIN = "service:seen"

    def __init__(self, rooms: RoomServer) -> None:
        self.rooms = rooms
        self.foreign = 0
        self.own_skipped = 0
        self.written = 0
        self._send: MemoryObjectSendStream[str]
        self._receive: MemoryObjectReceiveStream[str]
        self._send, self._receive = anyio.create_memory_object_stream[str](10_000)
        # pycrdt drops observers whose subscription (or shared type) is garbage-collected.
        self._subscriptions: list[tuple[Room, Any, pycrdt.Subscription]] = []
        self._wrote = anyio.Event()

    async def caught_up(self) -> None:
        """Wait until every foreign transaction seen so far has its entry."""
        while self.written < self.foreign:
            await self._wrote.wait()

    def attach(self, room: Room) -> None:
        def on_change(events: list[Any]) -> None:
            # Inside the commit: only note it; the writing happens in `_drain`.
            if event_origin(events) == self.ORIGIN:
                self.own_skipped += 1
            else:
                self.foreign += 1
                self._send.send_nowait(room.name)

        # One observer per root the test edits (each edit touches one root). The root
        # objects must stay referenced with their subscriptions, or pycrdt drops them.
        for name, kind in WATCHED_ROOTS.items():
            root = room.doc.get(name, type=kind)
            self._subscriptions.append((room, root, root.observe_deep(on_change)))

    async def run(self, group: TaskGroup) -> None:
        self.rooms.add_room_listener(self.attach)
        group.start_soon(self._drain)

    async def _drain(self) -> None:
        async with self._receive:
            async for room_name in self._receive:
                notes = 1
                while True:  # everything queued so far goes into one write
                    try:
                        self._receive.receive_nowait()
                    except anyio.WouldBlock:
                        break
                    notes += 1
                async with self.rooms.document(room_name, origin=self.ORIGIN) as doc:
                    seen = doc.get("seen", type=pycrdt.Array)
                    with doc.transaction(origin=self.ORIGIN):
                        for _ in range(notes):
                            seen.append(len(seen))
                self.written += notes
                self._wrote.set()
                self._wrote = anyio.Event()

    def close(self) -> None:
        for _room, root, subscription in self._subscriptions:
            root.unobserve(subscription)
        self._send.close()


@pytest.mark.node
@pytest.mark.usefixtures("node")
async def test_service_writes_while_js_clients_edit(db_url: str) -> None:
    room = "song-1"
    with anyio.fail_after(TIMEOUT_S):
        async with (
            serve_rooms(db_url) as (rooms, url),
            anyio.create_task_group() as group,
            NodePeer(label="alice") as alice,
            NodePeer(label="bob") as bob,
        ):
            service = SeenService(rooms)
            await service.run(group)
            for peer in (alice, bob):
                await peer.connect(url, room, per_message_deflate=False)
                await peer.wait_synced()

            async def service_writes() -> None:
                for i in range(20):
                    async with rooms.document(room, origin=SeenService.ORIGIN) as doc:
                        ProjectDocument(doc).add_comment("service", f"note {i}")

            async def alice_writes() -> None:
                for i in range(20):
                    await alice.text_insert("lyrics", 0, f"a{i};")

            async def bob_writes() -> None:
                for i in range(20):
                    await bob.map_set("meta", f"b{i}", float(i))

            async with anyio.create_task_group() as writers:
                for writer in (service_writes, alice_writes, bob_writes):
                    writers.start_soon(writer)

            # Quiescent once every foreign transaction got its "seen" entry.
            await bob.wait_for(
                "text_length", name="lyrics", length=len("".join(f"a{i};" for i in range(20)))
            )
            await alice.wait_for("map_key", name="meta", key="b19")
            # Every peer edit is in the room now (each peer saw the other's); the service
            # is done once it answered each of them.
            await service.caught_up()
            live = rooms.rooms[room]
            await live.flushed()
            state, final = live.doc.get_state(), live.doc.get_update()
            for peer in (alice, bob):
                await peer.wait_for("state_vector_equals", state_vector=_b64(state), timeout_s=10)

            roots = {"lyrics": "text", "meta": "map", "comments": "array", "seen": "array"}
            a, b = await alice.state(roots), await bob.state(roots)
            assert a.json == b.json
            assert len(a.json["comments"]) == 20
            assert {c["text"] for c in a.json["comments"]} == {f"note {i}" for i in range(20)}
            # One "seen" entry per foreign transaction, none for its own: no feedback loop.
            assert len(a.json["seen"]) == service.foreign == service.written
            assert service.foreign >= 40  # alice's and bob's edits, one transaction each
            assert service.own_skipped >= 21  # its 20 comments and at least one "seen" write
            group.cancel_scope.cancel()
            service.close()

        # What the peers saw is what was stored.
        async with (
            serve_rooms(db_url) as (reloaded, _url),
            reloaded.document(room, origin="test") as stored,
        ):
            reference: pycrdt.Doc[Any] = pycrdt.Doc()
            reference.apply_update(final)
            assert is_empty_update(stored.get_update(reference.get_state()))
            assert is_empty_update(reference.get_update(stored.get_state()))


def _b64(data: bytes) -> str:
    import base64

    return base64.b64encode(data).decode()


# ---------------------------------------------------------------------- restores


@asynccontextmanager
async def js_peer(world: CollabWorld, account: Account) -> AsyncIterator[NodePeer]:
    async with NodePeer(label="js") as peer:
        await peer.connect(
            f"{world.server.ws_url}/collab",
            world.project_id,
            params={"token": account.access_token},
            per_message_deflate=False,
        )
        await peer.wait_synced()
        yield peer


async def _call(world: CollabWorld, method: str, suffix: str, **kwargs: Any) -> Any:
    response = await world.api.call(
        method,
        f"/api/v1/projects/{world.project_id}{suffix}",
        world.editor.access_token,
        **kwargs,
    )
    assert response.status_code in (200, 201), response.text
    return response.json()


@pytest.mark.node
@pytest.mark.usefixtures("node")
async def test_restore_reaches_connected_peers_and_offline_edits_merge(world: CollabWorld) -> None:
    roots = {"lyrics": "text", "comments": "array", "tracks": "map"}
    with anyio.fail_after(TIMEOUT_S):
        async with AsyncExitStack() as stack:
            js = await stack.enter_async_context(js_peer(world, world.owner))
            online = await stack.enter_async_context(world.peer(world.editor))
            offline = await stack.enter_async_context(world.peer(world.editor))
            await online.wait_synced()
            await offline.wait_synced()

            song = online.project
            drums = song.add_track("Drums", "audio")
            song.set_lyrics_text("verse\nchorus\n")
            song.add_comment("ann", "good take")
            await online.flush()
            await offline.wait_for(lambda: offline.project.lyrics_text() == "verse\nchorus\n")
            version = await _call(world, "POST", "/versions", json={"name": "take 1"})
            at_version = (await js.state(roots)).json

            # Edit further, then one peer goes offline and keeps editing.
            song.remove_track(drums)
            song.add_track("Strings", "instrument")
            song.set_lyrics_text("verse\nnew bridge\nchorus\n")
            song.add_comment("bob", "bridge added")
            await online.flush()
            await offline.wait_for(lambda: len(offline.project.list_comments()) == 2)
            await offline.disconnect()
            await offline.wait_disconnected()
            offline.project.edit_lyrics(0, 0, "INTRO\n")
            offline.project.add_comment("carol", "written offline")
            await js.wait_for("text_equals", name="lyrics", text="verse\nnew bridge\nchorus\n")
            updates_before = await js.count_updates()

            restored = await _call(world, "POST", f"/versions/{version['id']}/restore")
            assert restored["changes"]["lyrics"]["chars_removed"] == len("new bridge\n")

            # Connected peers receive the restore as ordinary updates.
            await js.wait_for("text_equals", name="lyrics", text="verse\nchorus\n")
            await online.wait_for(lambda: online.project.lyrics_text() == "verse\nchorus\n")
            assert await js.count_updates() > updates_before
            after_restore = (await js.state(roots)).json
            assert after_restore["lyrics"] == at_version["lyrics"]
            assert [c["text"] for c in after_restore["comments"]] == ["good take"]
            assert [t.name for t in online.project.tracks_in_order()] == ["Drums"]

            # The offline peer comes back: its edits land on top of the restored state.
            offline.connect()
            await offline.wait_synced()
            expected = "INTRO\nverse\nchorus\n"
            await js.wait_for("text_equals", name="lyrics", text=expected)
            await offline.wait_for(lambda: offline.project.lyrics_text() == expected)
            await online.wait_for(lambda: len(online.project.list_comments()) == 2)
            await offline.flush()
            final = (await js.state(roots)).json
            assert [c["text"] for c in final["comments"]] == ["good take", "written offline"]
            assert [t.name for t in offline.project.tracks_in_order()] == ["Drums"]
            assert offline.project.get_track(drums).name == "Drums"

        # Nothing duplicated: a fresh peer sees exactly that.
        async with world.peer(world.viewer) as fresh:
            await fresh.wait_synced()
            assert fresh.project.lyrics_text() == expected
            assert [c.text for c in fresh.project.list_comments()] == [
                "good take",
                "written offline",
            ]
            assert [t.id for t in fresh.project.tracks_in_order()] == [drums]


# ---------------------------------------------------------------------- bots


async def test_example_bot_writes_a_comment_with_an_api_key(world: CollabWorld) -> None:
    key = await world.api.api_key(world.owner, world.project_id, "editor")
    with anyio.fail_after(TIMEOUT_S):
        comment_id = await run_bot(world.server.base_url, world.project_id, key, "Nice groove!")
        # The script itself, as the README shows it.
        script = await anyio.run_process(
            [sys.executable, str(REPO_ROOT / "examples" / "bot.py"), "Second", "thought"],
            cwd=REPO_ROOT,
            env={
                **os.environ,
                "PYTHONPATH": str(REPO_ROOT),
                "JACAMENO_URL": world.server.base_url,
                "JACAMENO_PROJECT": world.project_id,
                "JACAMENO_API_KEY": key,
            },
        )
        async with world.peer(world.viewer) as reader:
            await reader.wait_synced()
            comments = reader.project.list_comments()
    assert [(c.id, c.author, c.text, c.time_s) for c in comments] == [
        (comment_id, "bot", "Nice groove!", 12.0),
        (script.stdout.decode().strip(), "bot", "Second thought", 12.0),
    ]


async def test_viewer_key_bot_is_told_its_edits_are_not_stored(world: CollabWorld) -> None:
    key = await world.api.api_key(world.owner, world.project_id, "viewer")
    with anyio.fail_after(TIMEOUT_S):
        async with (
            CollabClient.for_project(world.server.base_url, world.project_id, key) as bot,
            world.peer(world.editor) as editor,
        ):
            await bot.wait_synced()
            await editor.wait_synced()
            bot.project.add_comment("bot", "not allowed")
            with pytest.raises(NotStoredError, match="read-only"):
                await bot.flush(timeout_s=1.0)
            editor.project.set_lyrics_text("editor was here")
            await bot.wait_for(lambda: bot.project.lyrics_text() == "editor was here")
            assert editor.project.list_comments() == []
