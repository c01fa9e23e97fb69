"""The room server's lifecycle: one loaded copy of a room, whatever the timing of evictions."""

from __future__ import annotations

from collections.abc import Sequence

import anyio
import pycrdt

from jacameno.collab.config import CollabConfig
from jacameno.collab.server import RoomServer
from jacameno.collab.store import CompactionResult, StoredDocument

TIMEOUT_S = 10
ROOM = "project-1"


class GatedStore:
    """An in-memory document store whose loads and compactions can be held at a gate.

    ``loads_entered`` counts calls to :meth:`load` (also those waiting at the gate).
    """

    def __init__(self) -> None:
        self.logs: dict[str, list[bytes]] = {}
        self.loads_entered = 0
        self.load_entered = anyio.Event()
        self.load_gate: anyio.Event | None = None
        self.compact_entered = anyio.Event()
        self.compact_gate: anyio.Event | None = None

    async def load(self, room: str) -> StoredDocument:
        self.loads_entered += 1
        self.load_entered.set()
        if self.load_gate is not None:
            await self.load_gate.wait()
        updates = list(self.logs.get(room, []))
        return StoredDocument(snapshot=None, log=list(enumerate(updates, start=1)))

    async def append(self, entries: Sequence[tuple[str, bytes]]) -> None:
        self.append_now(entries)

    def append_now(self, entries: Sequence[tuple[str, bytes]]) -> bool:
        for room, update in entries:
            self.logs.setdefault(room, []).append(update)
        return True

    async def compact(self, room: str, fold: object = None) -> CompactionResult | None:
        self.compact_entered.set()
        if self.compact_gate is not None:
            await self.compact_gate.wait()
        updates = self.logs.get(room, [])
        if not updates:
            return None
        merged = pycrdt.merge_updates(*updates)
        self.logs[room] = [merged]
        return CompactionResult(room=room, folded_updates=len(updates), snapshot_bytes=len(merged))

    async def delete(self, room: str) -> None:
        self.logs.pop(room, None)

    async def aclose(self) -> None:
        pass


async def write_title(rooms: RoomServer, title: str) -> None:
    async with rooms.document(ROOM, origin="service:test") as doc:
        doc.get("meta", type=pycrdt.Map)["title"] = title


async def read_title(rooms: RoomServer) -> str:
    async with rooms.document(ROOM, origin="service:test") as doc:
        return str(doc.get("meta", type=pycrdt.Map).get("title"))


async def test_a_room_reopened_while_it_is_evicted_is_loaded_once() -> None:
    """A reload that takes over the evicting task's lock keeps it: nobody loads a second copy.

    (anyio hands a released lock straight to the next waiter; the server once took
    "nobody waiting" for "unused", dropped the lock, and a third opener loaded the
    room again beside the reloading one: a peer in one copy never saw writes to the
    other.)
    """
    store = GatedStore()
    config = CollabConfig(room_grace_s=0.0)
    with anyio.fail_after(TIMEOUT_S):
        async with RoomServer(store, config) as rooms, anyio.create_task_group() as group:
            store.compact_gate = anyio.Event()
            await write_title(rooms, "first")  # leaving it empty starts its eviction
            await store.compact_entered.wait()  # the eviction holds the room's lock
            first_copy = rooms.rooms[ROOM]

            store.load_gate = anyio.Event()
            store.load_entered = anyio.Event()
            loads_before = store.loads_entered
            readers: list[str] = []

            async def reader() -> None:
                readers.append(await read_title(rooms))

            group.start_soon(reader)  # waits for the lock the eviction holds
            await anyio.wait_all_tasks_blocked()
            store.compact_gate.set()  # eviction ends; the lock goes to the reader
            await store.load_entered.wait()
            assert first_copy.evicted.is_set()

            group.start_soon(reader)  # arrives while the first reader loads
            await anyio.wait_all_tasks_blocked()
            assert store.loads_entered == loads_before + 1, "a second copy is being loaded"
            store.load_gate.set()

        assert readers == ["first", "first"]
        assert rooms.stats.rooms_loaded == 2  # the first load and the one reload


class StuckStore(GatedStore):
    """A store whose writes never finish (a database that hangs)."""

    def append_now(self, entries: Sequence[tuple[str, bytes]]) -> bool:
        return False

    async def append(self, entries: Sequence[tuple[str, bytes]]) -> None:
        await anyio.sleep_forever()


async def test_shutdown_is_bounded_whatever_a_room_holds() -> None:
    """A hung database once made SIGTERM wait over 60 s; now shutdown gives up in time."""
    config = CollabConfig(shutdown_grace_s=0.2)
    with anyio.fail_after(TIMEOUT_S):
        async with RoomServer(StuckStore(), config) as rooms:
            room = await rooms.open_room(ROOM)
            doc: pycrdt.Doc[object] = pycrdt.Doc(client_id=7)
            doc.get("meta", type=pycrdt.Map)["title"] = "never written"
            await room.submit(doc.get_update(), origin=None)
            assert room.pending == 1  # stuck in the log
            room.reserved -= 1
