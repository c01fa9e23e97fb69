"""The room server: loads rooms on demand, serves connections, flushes and evicts rooms.

Use it as ``async with RoomServer(store, config) as rooms:``; it owns a task
group holding the update-log writer, eviction timers and compactions. Room
start is serialised per room (two first clients never race a load), a room is
evicted only after its pending writes are flushed, and shutdown closes every
connection and writes everything still queued.
"""

from __future__ import annotations

import logging
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from types import TracebackType
from typing import Any

import anyio
import pycrdt
from anyio.abc import TaskGroup

from collab.channel import Channel, ChannelClosedError, CloseCode
from collab.config import CollabConfig
from collab.connection import Connection
from collab.errors import CollabError, PersistenceError, ProtocolError
from collab.protocol import is_empty_update
from collab.room import CollabStats, Room
from collab.store import DocumentStore
from collab.update_log import UpdateLog

log = logging.getLogger("jacameno.collab.server")

#: Seconds shutdown waits for connections to close before flushing regardless.
SHUTDOWN_GRACE_S = 5.0


class RoomServer:
    def __init__(self, store: DocumentStore, config: CollabConfig | None = None) -> None:
        self.config = config or CollabConfig()
        self.store = store
        self.stats = CollabStats()
        self.update_log = UpdateLog(store, self.config)
        self._rooms: dict[str, Room] = {}
        self._locks: dict[str, anyio.Lock] = {}
        self._compacting: set[str] = set()
        self._listeners: list[Callable[[Room], None]] = []
        self._task_group: TaskGroup | None = None
        self._log_done = anyio.Event()
        self._active = 0
        self._idle = anyio.Event()
        self._idle.set()
        self._stopping = False

    # ------------------------------------------------------------------ lifecycle

    async def __aenter__(self) -> RoomServer:
        self._task_group = anyio.create_task_group()
        await self._task_group.__aenter__()
        self._task_group.start_soon(self._run_log)
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> bool | None:
        assert self._task_group is not None, "RoomServer was not started"
        with anyio.CancelScope(shield=True):
            await self._shutdown()
        self._task_group.cancel_scope.cancel()
        return await self._task_group.__aexit__(exc_type, exc, tb)

    async def _run_log(self) -> None:
        try:
            await self.update_log.run()
        finally:
            self._log_done.set()

    async def _shutdown(self) -> None:
        self._stopping = True
        for room in list(self._rooms.values()):
            for connection in list(room.connections.values()):
                connection.close(CloseCode.SERVICE_RESTART, "server restarting; reconnect")
        with anyio.move_on_after(SHUTDOWN_GRACE_S):
            await self._idle.wait()
        self.update_log.close()
        await self._log_done.wait()
        log.info(
            "room server stopped",
            extra={"rooms": len(self._rooms), "lost_updates": self.update_log.lost},
        )

    @property
    def rooms(self) -> dict[str, Room]:
        """Loaded rooms by name (read-only use)."""
        return self._rooms

    # ------------------------------------------------------------------ serving

    async def serve(self, channel: Channel, room_name: str, *, can_write: bool) -> tuple[int, str]:
        """Serve one accepted channel until it closes; return the close code and reason."""
        if self._stopping:
            await channel.close(CloseCode.SERVICE_RESTART, "server restarting; reconnect")
            return CloseCode.SERVICE_RESTART, "server restarting"
        self._active += 1
        self._idle = anyio.Event() if self._idle.is_set() else self._idle
        try:
            try:
                room = await self.open_room(room_name)
            except PersistenceError as exc:
                log.error("cannot load room", extra={"room": room_name, "error": str(exc)})
                await channel.close(CloseCode.UNAVAILABLE, "document store unavailable; retry")
                self.stats.closed(CloseCode.UNAVAILABLE)
                return CloseCode.UNAVAILABLE, "document store unavailable"
            connection = Connection(channel, can_write=can_write, config=self.config)
            room.reserved -= 1
            room.join(connection)
            self.stats.connections_opened += 1
            try:
                await self._run_connection(room, connection)
            finally:
                room.leave(connection)
                if not room.connections:
                    self._schedule_eviction(room)
            code = connection.close_code or 1000
            self.stats.closed(code)
            log.info(
                "connection closed",
                extra={
                    "room": room_name,
                    "remote": channel.remote,
                    "code": code,
                    "reason": connection.close_reason,
                    "refused_updates": connection.refused_updates,
                },
            )
            return code, connection.close_reason
        finally:
            self._active -= 1
            if self._active == 0:
                self._idle.set()

    async def _run_connection(self, room: Room, connection: Connection) -> None:
        async with anyio.create_task_group() as group:

            async def write() -> None:
                await connection.write_loop()
                group.cancel_scope.cancel()

            group.start_soon(write)
            if await self._read_loop(room, connection):
                group.cancel_scope.cancel()

    async def _read_loop(self, room: Room, connection: Connection) -> bool:
        """Read until the peer leaves (True) or the connection is told to close (False)."""
        limit = self.config.max_message_bytes
        while not connection.closing:
            try:
                frame = await connection.channel.receive()
            except ChannelClosedError:
                if connection.close_code is None:
                    connection.close_code = 1000
                    connection.close_reason = "peer closed"
                return True
            if len(frame) > limit:
                connection.close(
                    CloseCode.MESSAGE_TOO_BIG, f"message of {len(frame)} bytes exceeds {limit}"
                )
                return False
            try:
                await room.receive(connection, frame)
            except ProtocolError as exc:
                connection.close(CloseCode.MALFORMED, str(exc)[:120])
                return False
        return False

    # ------------------------------------------------------------------ rooms

    async def open_room(self, name: str) -> Room:
        """The loaded room ``name`` (loading it once), reserved for one joining connection.

        Raises :class:`PersistenceError` when the store cannot be read: a database
        fault never turns into an empty document.
        """
        lock = self._locks.setdefault(name, anyio.Lock())
        async with lock:
            room = self._rooms.get(name)
            if room is None:
                stored = await self.store.load(name)
                doc = await anyio.to_thread.run_sync(_build_doc, stored.updates)
                room = Room(
                    name,
                    doc,
                    update_log=self.update_log,
                    stats=self.stats,
                    log_count=stored.log_count,
                    log_bytes=stored.log_bytes,
                    on_log_growth=self._maybe_compact,
                )
                self._rooms[name] = room
                self.stats.rooms_loaded += 1
                for listener in self._listeners:
                    listener(room)
            room.reserved += 1
            return room

    @asynccontextmanager
    async def document(self, room_name: str, *, origin: str) -> AsyncIterator[pycrdt.Doc[Any]]:
        """A working copy of a project document for services (in-process peers).

        Read it, or change it (ideally in one ``doc.transaction()``); when the block
        exits, the changes are written to the log and then applied to the room and
        relayed to every peer as one update whose transaction origin is ``origin``,
        so the service's own observer can skip it. The call returns once the change
        is durable. Raises :class:`PersistenceError` when the store is unavailable.
        """
        room = await self.open_room(room_name)
        try:
            working: pycrdt.Doc[Any] = pycrdt.Doc()
            working.apply_update(room.doc.get_update())
            before = working.get_state()
            yield working
            change = working.get_update(before)
            if not is_empty_update(change):
                write = await room.submit(change, origin=None, tag=origin)
                await write.persisted.wait()
        finally:
            room.reserved -= 1
            if not room.connections and not room.reserved:
                room.empty_since = time.monotonic()
                self._schedule_eviction(room)

    def add_room_listener(self, listener: Callable[[Room], None]) -> None:
        """Call ``listener(room)`` for every room loaded from now on (and those loaded now)."""
        self._listeners.append(listener)
        for room in self._rooms.values():
            listener(room)

    def _schedule_eviction(self, room: Room) -> None:
        if self._task_group is not None and not self._stopping:
            self._task_group.start_soon(self._evict_after_grace, room)

    async def _evict_after_grace(self, room: Room) -> None:
        await anyio.sleep(self.config.room_grace_s)
        lock = self._locks.get(room.name)
        if lock is None:
            return
        async with lock:
            if (
                self._rooms.get(room.name) is not room
                or room.connections
                or room.reserved
                or room.empty_since is None
                or time.monotonic() - room.empty_since < self.config.room_grace_s
            ):
                return
            # Never drop a room with updates still on their way to the log.
            await room.flushed()
            if room.log_count:
                await self._compact(room)
            del self._rooms[room.name]
            self.stats.rooms_evicted += 1
            room.evicted.set()
        self._drop_lock_if_unused(room.name, lock)

    def _drop_lock_if_unused(self, name: str, lock: anyio.Lock) -> None:
        """Forget ``name``'s lock once no task holds or awaits it and the room is gone.

        On release anyio hands the lock straight to the next waiter, so "no task
        waiting" alone also holds while another task owns it (one loading the room
        again): dropping it then would let a third task load a second copy of the
        room beside the first.
        """
        stats = lock.statistics()
        if (
            not stats.locked
            and not stats.tasks_waiting
            and name not in self._rooms
            and self._locks.get(name) is lock
        ):
            del self._locks[name]

    def _maybe_compact(self, room: Room) -> None:
        over = (
            room.log_count >= self.config.compact_after_updates
            or room.log_bytes >= self.config.compact_after_bytes
        )
        if over and room.name not in self._compacting and self._task_group is not None:
            self._compacting.add(room.name)
            self._task_group.start_soon(self._compact_in_background, room)

    async def _compact_in_background(self, room: Room) -> None:
        try:
            await self._compact(room)
        finally:
            self._compacting.discard(room.name)

    async def _compact(self, room: Room) -> None:
        try:
            result = await self.store.compact(room.name)
        except CollabError as exc:
            log.warning("compaction failed", extra={"room": room.name, "error": str(exc)})
            return
        if result is not None:
            room.log_count = max(0, room.log_count - result.folded_updates)
            room.log_bytes = 0 if room.log_count == 0 else room.log_bytes
            self.stats.compactions += 1
            done, room.compacted = room.compacted, anyio.Event()
            done.set()


def _build_doc(updates: list[bytes]) -> pycrdt.Doc[Any]:
    doc: pycrdt.Doc[Any] = pycrdt.Doc()
    for update in updates:
        doc.apply_update(update)
    return doc
