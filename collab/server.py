"""The room server: loads rooms on demand, serves connections, flushes and evicts rooms.

Use it as ``async with RoomServer(store, config) as rooms:``; it owns a task group
holding the update-log writer, eviction timers, compactions, the presence sweeper
and the relay to other server processes (:mod:`collab.relay`), and the
:class:`~collab.folding.DocumentFolder` whose child process folds big logs. Room
start is serialised per room, a room is evicted only after its pending writes are
flushed, and shutdown closes every connection and writes everything still queued,
within a bounded time whatever a room holds.

Rights are live: each connection carries a :class:`~collab.access.Grant`; the
application calls :meth:`RoomServer.revoke`, :meth:`RoomServer.set_write_access`
and :meth:`RoomServer.delete_room` when credentials, roles or projects change.
A connection's session is :mod:`collab.session`; compaction :mod:`collab.compaction`;
close codes :mod:`collab.close_codes`.
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

from jacameno.collab.access import Grant
from jacameno.collab.channel import Channel, CloseCode
from jacameno.collab.close_codes import DELETED_REASON, RESTART_REASON, close_for
from jacameno.collab.compaction import Compactor
from jacameno.collab.config import CollabConfig
from jacameno.collab.connection import Connection
from jacameno.collab.errors import CollabError, PersistenceError, RoomDeletedError
from jacameno.collab.folding import DocumentFolder, Folded
from jacameno.collab.live_rights import revoke_credential, set_write_access
from jacameno.collab.protocol import is_empty_update
from jacameno.collab.relay import Relay, RelayBridge
from jacameno.collab.room import CollabStats, Room
from jacameno.collab.session import run_session
from jacameno.collab.store import DocumentStore, StoredDocument
from jacameno.collab.update_log import UpdateLog
from jacameno.docs_model import new_doc

log = logging.getLogger("jacameno.collab.server")

#: Seconds between sweeps that expire presence states nobody renewed.
AWARENESS_SWEEP_S = 5.0


class RoomServer:
    def __init__(
        self,
        store: DocumentStore,
        config: CollabConfig | None = None,
        *,
        folder: DocumentFolder | None = None,
        relay: Relay | None = None,
    ) -> None:
        self.config = config or CollabConfig()
        #: Shares rooms with other server processes (None: this process alone).
        self.relay = relay
        self.store = store
        self.stats = CollabStats()
        self.update_log = UpdateLog(store, self.config)
        #: Folds logs for loads and compactions (big ones in a child process).
        self.folder = folder or DocumentFolder()
        self._rooms: dict[str, Room] = {}
        self._bridge = RelayBridge(self._rooms, self._read_stored, relay)
        self._locks: dict[str, anyio.Lock] = {}
        self.compactor = Compactor(
            store,
            self.folder,
            self.stats,
            self.config,
            is_loaded=lambda room: self._rooms.get(room.name) is room,
            on_compacted=relay.compacted if relay is not None else None,
        )
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
        self.compactor.bind(self._task_group)
        self._task_group.start_soon(self._run_log)
        self._task_group.start_soon(self._sweep_awareness)
        if self.relay is not None:
            await self._task_group.start(self.relay.run, self._bridge)
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
                connection.close(CloseCode.SERVICE_RESTART, RESTART_REASON)
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
            await channel.close(CloseCode.SERVICE_RESTART, RESTART_REASON)
            return CloseCode.SERVICE_RESTART, "server restarting"
        self._active += 1
        self._idle = anyio.Event() if self._idle.is_set() else self._idle
        try:
            try:
                room = await self.open_room(room_name)
            except (RoomDeletedError, PersistenceError) as exc:
                if isinstance(exc, PersistenceError):
                    log.error("cannot load room", extra={"room": room_name, "error": str(exc)})
                refusal = close_for(exc)
                await channel.close(refusal.code, refusal.reason)
                self.stats.closed(refusal.code)
                return refusal.code, refusal.reason
            connection = Connection(channel, grant=grant, config=self.config)
            room.reserved -= 1
            room.join(connection)
            self.stats.connections_opened += 1
            try:
                await run_session(
                    room,
                    connection,
                    max_message_bytes=self.config.max_message_bytes,
                    is_stopping=lambda: self._stopping,
                )
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
                async with self._bridge.loading(name):  # relayed meanwhile: applied after
                    room = await self._load(name)
                    room.relay = self.relay
                    self._rooms[name] = room
                self.stats.rooms_loaded += 1
                self._announce(room)
                if room.log_count and room.quarantine_due:
                    self.compactor.start(room)
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
            on_log_growth=self.compactor.maybe_compact,
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

    async def _read_stored(self, name: str) -> pycrdt.Doc[Any]:
        return (await self._read_doc(name))[2]

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

        Changes made in the block are logged, then applied to the room and relayed as
        one update with transaction origin ``origin`` (the service's observer skips it);
        returns once durable. Raises :class:`PersistenceError` when the store is down.
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
                await self.compactor.compact(room)
            self._unload(room)
        self._drop_lock_if_unused(room.name, lock)

    def _unload(self, room: Room) -> None:
        del self._rooms[room.name]
        if self.relay is not None:
            self.relay.unwatch(room.name)
        self.stats.rooms_evicted += 1
        room.evicted.set()

    def _drop_lock_if_unused(self, name: str, lock: anyio.Lock) -> None:
        """Forget ``name``'s lock once no task holds or awaits it and the room is gone
        (anyio hands a released lock straight to the next waiter: "no task waiting"
        alone also holds while another task loads the room again)."""
        stats = lock.statistics()
        if (
            not stats.locked
            and not stats.tasks_waiting
            and name not in self._rooms
            and self._locks.get(name) is lock
        ):
            del self._locks[name]

    # ------------------------------------------------------------------ live rights

    def _connections(self, room_name: str | None) -> list[Connection]:
        rooms = self._rooms.values() if room_name is None else [self._rooms.get(room_name)]
        return [c for room in rooms if room for c in list(room.connections.values())]

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
        return revoke_credential(self._connections(room), credential, code=code, reason=reason)

    def set_write_access(self, room: str, actor: str, *, can_write: bool) -> int:
        """Make ``actor``'s connections to ``room`` read-only (or writable again), at once;
        returns how many connections changed."""
        return set_write_access(self._connections(room), actor, can_write=can_write)

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
                self._unload(room)
            await self.store.delete(name)
        self._drop_lock_if_unused(name, lock)
