"""The room server: loads rooms on demand, serves connections, flushes and evicts rooms.

Use it as ``async with RoomServer(store, config) as rooms:``; it owns a task
group holding the update-log writer, eviction timers, compactions and the
presence sweeper, and the :class:`~collab.folding.DocumentFolder` whose child
process folds big logs. Room start is serialised per room (two first clients
never race a load), a room is evicted only after its pending writes are
flushed, and shutdown closes every connection and writes everything still
queued, within a bounded time whatever a room holds.

Rights are live: each connection carries a :class:`~collab.access.Grant`; the
application calls :meth:`RoomServer.revoke`, :meth:`RoomServer.set_write_access`
and :meth:`RoomServer.delete_room` when credentials, roles or projects change,
and a grant's expiry closes its connection by itself.
"""

from __future__ import annotations

import logging
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from types import TracebackType
from typing import Any

import anyio
import anyio.lowlevel
import pycrdt
from anyio.abc import TaskGroup

from jacameno.collab.access import Grant
from jacameno.collab.channel import Channel, ChannelClosedError, CloseCode
from jacameno.collab.config import CollabConfig
from jacameno.collab.connection import Connection
from jacameno.collab.errors import (
    CollabError,
    FloodError,
    MissingDependenciesError,
    PersistenceError,
    ProtocolError,
    RoomDeletedError,
)
from jacameno.collab.folding import DocumentFolder, Folded
from jacameno.collab.protocol import is_empty_update
from jacameno.collab.room import CollabStats, Room
from jacameno.collab.store import DocumentStore, StoredDocument
from jacameno.collab.update_log import UpdateLog
from jacameno.docs_model import new_doc

log = logging.getLogger("jacameno.collab.server")

#: Seconds between sweeps that expire presence states nobody renewed.
AWARENESS_SWEEP_S = 5.0
#: Seconds one connection's frames may be handled back to back before others get a turn.
READ_SLICE_S = 0.005
#: Close reason for a connection whose project was deleted.
DELETED_REASON = "the project was deleted"


class RoomServer:
    def __init__(
        self,
        store: DocumentStore,
        config: CollabConfig | None = None,
        *,
        folder: DocumentFolder | None = None,
    ) -> None:
        self.config = config or CollabConfig()
        self.store = store
        self.stats = CollabStats()
        self.update_log = UpdateLog(store, self.config)
        #: Folds logs for loads and compactions (big ones in a child process).
        self.folder = folder or DocumentFolder()
        self._rooms: dict[str, Room] = {}
        self._locks: dict[str, anyio.Lock] = {}
        self._compacting: set[str] = set()
        #: Rooms whose document was deleted in this process: never loaded again.
        self._deleted: set[str] = set()
        self._listeners: list[Callable[[Room], None]] = []
        self._task_group: TaskGroup | None = None
        self._log_done = anyio.Event()
        self._active = 0
        self._idle = anyio.Event()
        self._idle.set()
        self._stopping = False

    # ------------------------------------------------------------------ lifecycle

    async def __aenter__(self) -> RoomServer:
        await self.folder.__aenter__()
        self._task_group = anyio.create_task_group()
        await self._task_group.__aenter__()
        self._task_group.start_soon(self._run_log)
        self._task_group.start_soon(self._sweep_awareness)
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> bool | None:
        assert self._task_group is not None, "RoomServer was not started"
        try:
            with anyio.CancelScope(shield=True):
                await self._shutdown()
            self._task_group.cancel_scope.cancel()
            return await self._task_group.__aexit__(exc_type, exc, tb)
        finally:
            await self.folder.__aexit__(None, None, None)

    async def _run_log(self) -> None:
        try:
            await self.update_log.run()
        finally:
            self._log_done.set()

    async def _shutdown(self) -> None:
        """Close every connection, then write what is queued; bounded in time throughout."""
        self._stopping = True
        grace = self.config.shutdown_grace_s
        for room in list(self._rooms.values()):
            for connection in list(room.connections.values()):
                connection.close(CloseCode.SERVICE_RESTART, "server restarting; reconnect")
        with anyio.move_on_after(grace):
            await self._idle.wait()
        self.update_log.close()
        with anyio.move_on_after(2 * grace):
            await self._log_done.wait()
        if not self._log_done.is_set():
            log.error("the update log did not drain within %.0f s; stopping anyway", 2 * grace)
        log.info(
            "room server stopped",
            extra={"rooms": len(self._rooms), "lost_updates": self.update_log.lost},
        )

    async def _sweep_awareness(self) -> None:
        period = min(AWARENESS_SWEEP_S, self.config.awareness_timeout_s / 3)
        while True:
            await anyio.sleep(period)
            for room in list(self._rooms.values()):
                room.expire_awareness()

    @property
    def rooms(self) -> dict[str, Room]:
        """Loaded rooms by name (read-only use)."""
        return self._rooms

    # ------------------------------------------------------------------ serving

    async def serve(self, channel: Channel, room_name: str, grant: Grant) -> tuple[int, str]:
        """Serve one accepted channel until it closes; return the close code and reason."""
        if self._stopping:
            await channel.close(CloseCode.SERVICE_RESTART, "server restarting; reconnect")
            return CloseCode.SERVICE_RESTART, "server restarting"
        self._active += 1
        self._idle = anyio.Event() if self._idle.is_set() else self._idle
        try:
            try:
                room = await self.open_room(room_name)
            except RoomDeletedError:
                await channel.close(CloseCode.NOT_FOUND, DELETED_REASON)
                self.stats.closed(CloseCode.NOT_FOUND)
                return CloseCode.NOT_FOUND, DELETED_REASON
            except PersistenceError as exc:
                log.error("cannot load room", extra={"room": room_name, "error": str(exc)})
                await channel.close(CloseCode.UNAVAILABLE, "document store unavailable; retry")
                self.stats.closed(CloseCode.UNAVAILABLE)
                return CloseCode.UNAVAILABLE, "document store unavailable"
            connection = Connection(channel, grant=grant, config=self.config)
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
                    "actor": connection.grant.actor,
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

            async def expire(at: float) -> None:
                await anyio.sleep(max(0.0, at - time.time()))
                connection.close(
                    CloseCode.UNAUTHORIZED, "access token expired; reconnect with a fresh one"
                )

            group.start_soon(write)
            if connection.grant.expires_at is not None:
                group.start_soon(expire, connection.grant.expires_at)
            if await self._read_loop(room, connection):
                group.cancel_scope.cancel()

    async def _read_loop(self, room: Room, connection: Connection) -> bool:
        """Read until the peer leaves (True) or the connection is told to close (False).

        A peer with thousands of frames queued would otherwise be served back to back
        (a receive from a non-empty queue never suspends): past a slice of
        :data:`READ_SLICE_S` the loop lets every other task run before it reads on.
        """
        limit = self.config.max_message_bytes
        slice_started = time.monotonic()
        while not connection.closing:
            if time.monotonic() - slice_started > READ_SLICE_S:
                await anyio.lowlevel.checkpoint()
                slice_started = time.monotonic()
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
            except MissingDependenciesError as exc:
                connection.close(CloseCode.RESYNC, str(exc)[:120])
                return False
            except ProtocolError as exc:
                log.info(
                    "closing a peer that sent a bad message",
                    extra={"room": room.name, "actor": connection.grant.actor, "error": str(exc)},
                )
                connection.close(CloseCode.MALFORMED, str(exc)[:120])
                return False
            except FloodError as exc:
                connection.close(CloseCode.RATE_LIMITED, str(exc)[:120])
                return False
            except PersistenceError:
                # The log is closed: the server is stopping.
                connection.close(CloseCode.SERVICE_RESTART, "server restarting; reconnect")
                return False
        return False

    # ------------------------------------------------------------------ rooms

    async def open_room(self, name: str) -> Room:
        """The loaded room ``name`` (loading it once), reserved for one joining connection.

        Raises :class:`PersistenceError` when the store cannot be read: a database
        fault never turns into an empty document.
        """
        if name in self._deleted:
            raise RoomDeletedError(name)
        lock = self._locks.setdefault(name, anyio.Lock())
        async with lock:
            room = self._rooms.get(name)
            if room is None:
                if name in self._deleted:
                    raise RoomDeletedError(name)
                room = await self._load(name)
                self._rooms[name] = room
                self.stats.rooms_loaded += 1
                self._announce(room)
                if room.log_count and room.quarantine_due:
                    self._start_compaction(room)
            room.reserved += 1
            return room

    async def _load(self, name: str) -> Room:
        """Load a room: fold its snapshot and log (off this process when big), then apply
        the one folded state. Updates that cannot be applied are left out and quarantined
        by a compaction started at once: the rest of the document loads."""
        stored, folded, doc = await self._read_doc(name)
        room = Room(
            name,
            doc,
            update_log=self.update_log,
            stats=self.stats,
            log_count=stored.log_count,
            log_bytes=stored.log_bytes,
            on_log_growth=self._maybe_compact,
            config=self.config,
            on_rebuilt=self._announce,
            on_damaged=self._reload_soon,
        )
        if folded.rejected:
            room.quarantine_due = True
            log.warning(
                "room %s loaded without %d stored updates that cannot be applied",
                name,
                len(folded.rejected),
                extra={"room": name, "reasons": [r.reason for r in folded.rejected][:5]},
            )
        return room

    async def _read_doc(self, name: str) -> tuple[StoredDocument, Folded, pycrdt.Doc[Any]]:
        """What is stored for ``name``, its fold, and a document holding the folded state."""
        stored = await self.store.load(name)
        folded = await self.folder.fold(stored.snapshot, stored.log)
        doc: pycrdt.Doc[Any] = pycrdt.Doc()
        doc.apply_update(folded.state)
        return stored, folded, doc

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
            await room.sound()
            working = new_doc()
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

    def _reload_soon(self, room: Room) -> None:
        if self._task_group is not None:
            self._task_group.start_soon(self._reload, room)

    async def _reload(self, room: Room) -> None:
        """Replace a damaged room's document by its state folded from the log, once every
        update already accepted is written (retrying while the store is unavailable)."""
        while True:
            try:
                await room.flushed()
                _stored, _folded, doc = await self._read_doc(room.name)
            except CollabError as exc:
                log.warning(
                    "reloading a damaged room failed", extra={"room": room.name, "error": str(exc)}
                )
                await anyio.sleep(self.config.retry_backoff_s)
                continue
            room.replace_doc(doc)
            return

    def _announce(self, room: Room) -> None:
        for listener in self._listeners:
            listener(room)

    def add_room_listener(self, listener: Callable[[Room], None]) -> None:
        """Call ``listener(room)`` for every room loaded from now on (and those loaded now),
        and again whenever a room replaces its document (observe ``room.doc`` anew)."""
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

    def _over_threshold(self, room: Room) -> bool:
        return (
            room.log_count >= self.config.compact_after_updates
            or room.log_bytes >= self.config.compact_after_bytes
        ) and self._rooms.get(room.name) is room

    def _maybe_compact(self, room: Room) -> None:
        if self._over_threshold(room):
            self._start_compaction(room)

    def _start_compaction(self, room: Room) -> None:
        if room.name not in self._compacting and self._task_group is not None:
            self._compacting.add(room.name)
            self._task_group.start_soon(self._compact_in_background, room)

    async def _compact_in_background(self, room: Room) -> None:
        try:
            # Catch up: updates logged during a compaction may call for the next one,
            # whether or not more arrive to trigger it.
            while await self._compact(room) and self._over_threshold(room):
                pass
        finally:
            self._compacting.discard(room.name)

    async def _compact(self, room: Room) -> bool:
        """Compact ``room``'s log; whether anything was folded."""
        try:
            result = await self.store.compact(room.name, self.folder.fold)
        except CollabError as exc:
            log.warning("compaction failed", extra={"room": room.name, "error": str(exc)})
            return False
        if result is None:
            return False
        room.log_count = max(0, room.log_count - result.folded_updates)
        room.log_bytes = 0 if room.log_count == 0 else room.log_bytes
        room.quarantine_due = False
        self.stats.compactions += 1
        self.stats.updates_quarantined += result.quarantined
        done, room.compacted = room.compacted, anyio.Event()
        done.set()
        return True

    # ------------------------------------------------------------------ live rights

    def _connections(self, room_name: str | None) -> list[tuple[Room, Connection]]:
        if room_name is None:
            rooms = list(self._rooms.values())
        else:
            rooms = [self._rooms[room_name]] if room_name in self._rooms else []
        return [(room, c) for room in rooms for c in list(room.connections.values())]

    def revoke(
        self,
        credential: str,
        *,
        code: int = CloseCode.UNAUTHORIZED,
        reason: str = "access revoked",
        room: str | None = None,
    ) -> int:
        """Close every connection (of ``room``, or anywhere) whose grant rests on
        ``credential``; returns how many were closed."""
        closed = 0
        for _room, connection in self._connections(room):
            if credential in connection.grant.credentials and not connection.closing:
                connection.close(code, reason)
                closed += 1
        return closed

    def set_write_access(self, room: str, actor: str, *, can_write: bool) -> int:
        """Make ``actor``'s connections to ``room`` read-only (or writable again), at once.

        Returns how many connections changed.
        """
        changed = 0
        for _room, connection in self._connections(room):
            if connection.grant.actor == actor and connection.grant.can_write != can_write:
                connection.grant = connection.grant.with_write(can_write)
                connection.told_read_only = False
                changed += 1
        return changed

    async def delete_room(self, name: str) -> None:
        """Delete a room's document for good: close its connections (4404), wait for
        writes already on their way, then remove every stored trace.

        The room is never loaded again by this process; updates that were still on
        their way are written before the delete and deleted with the rest.
        """
        self._deleted.add(name)
        lock = self._locks.setdefault(name, anyio.Lock())
        async with lock:
            room = self._rooms.get(name)
            if room is not None:
                room.deleted = True
                for connection in list(room.connections.values()):
                    connection.close(CloseCode.NOT_FOUND, DELETED_REASON)
                await room.flushed()
                del self._rooms[name]
                self.stats.rooms_evicted += 1
                room.evicted.set()
            await self.store.delete(name)
        self._drop_lock_if_unused(name, lock)
