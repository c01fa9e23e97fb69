"""A room: one project document in memory, its peers, and its awareness.

The room's ``Doc`` only ever holds persisted updates: incoming updates are
checked, queued to the update log, and applied and relayed only once written.
A sync-step-1 answer is therefore never more than the database holds.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import anyio
import pycrdt

from collab.awareness import RoomAwareness
from collab.connection import Connection
from collab.errors import ProtocolError
from collab.latch import Latch
from collab.protocol import (
    AwarenessMessage,
    QueryAwarenessMessage,
    SyncMessage,
    SyncType,
    awareness_message,
    check_update,
    decode_message,
    is_empty_update,
    sync_step1,
    sync_step2,
    sync_update,
)
from collab.update_log import PendingWrite, UpdateLog

log = logging.getLogger("jacameno.collab.room")

#: A room's share of one log batch is relayed as one merged frame from this many updates:
#: every frame costs each receiving client a decode and a transaction, so under load
#: fewer, merged frames keep clients' event loops (and so latency) short.
MERGE_FROM_BATCH = 2


@dataclass
class CollabStats:
    """Counters of the collaboration server (exported as metrics by the API)."""

    rooms_loaded: int = 0
    rooms_evicted: int = 0
    connections_opened: int = 0
    closes: dict[int, int] = field(default_factory=dict)
    updates_accepted: int = 0
    updates_refused_read_only: int = 0
    frames_relayed: int = 0
    awareness_duplicates_dropped: int = 0
    compactions: int = 0

    def closed(self, code: int) -> None:
        self.closes[code] = self.closes.get(code, 0) + 1


class Room:
    def __init__(
        self,
        name: str,
        doc: pycrdt.Doc[Any],
        *,
        update_log: UpdateLog,
        stats: CollabStats,
        log_count: int,
        log_bytes: int,
        on_log_growth: Callable[[Room], None],
    ) -> None:
        self.name = name
        self.doc = doc
        self.awareness = RoomAwareness()
        self.connections: dict[int, Connection] = {}
        self._update_log = update_log
        self._stats = stats
        self._on_log_growth = on_log_growth
        #: Updates submitted to the log and not yet applied here.
        self.pending = 0
        self._flushed = Latch()
        self._flushed.set()
        #: Logged updates (and bytes) since the last snapshot.
        self.log_count = log_count
        self.log_bytes = log_bytes
        #: Connections promised by the server but not yet joined (eviction waits for them).
        self.reserved = 0
        self.empty_since: float | None = time.monotonic()
        #: Set once the room is unloaded; a later open loads a new Room.
        self.evicted = anyio.Event()
        #: Set after each compaction of this room's log (replaced by a fresh event).
        self.compacted = anyio.Event()

    # ------------------------------------------------------------------ membership

    def join(self, connection: Connection) -> None:
        """Add a peer and greet it with our state vector and every awareness state."""
        self.connections[connection.id] = connection
        self.empty_since = None
        connection.send(sync_step1(self.doc.get_state()))
        snapshot = self.awareness.snapshot()
        if snapshot is not None:
            connection.send(awareness_message(snapshot))

    def leave(self, connection: Connection) -> None:
        self.connections.pop(connection.id, None)
        removal = self.awareness.drop_connection(connection.id)
        if removal is not None:
            self.broadcast(awareness_message(removal), exclude=connection.id)
        if not self.connections:
            self.empty_since = time.monotonic()

    # ------------------------------------------------------------------ incoming

    async def receive(self, connection: Connection, frame: bytes) -> None:
        """Handle one frame from ``connection``; raises :class:`ProtocolError` if malformed."""
        message = decode_message(frame)
        if isinstance(message, SyncMessage):
            if message.sync_type is SyncType.STEP1:
                try:
                    missing = self.doc.get_update(message.payload)
                except ValueError:
                    raise ProtocolError("sync step 1 carries an invalid state vector") from None
                connection.send(sync_step2(missing))
                return
            await self._receive_update(connection, message.payload)
        elif isinstance(message, AwarenessMessage):
            forward = self.awareness.apply(message.payload, connection.id)
            if forward is None:
                self._stats.awareness_duplicates_dropped += 1
            else:
                self.broadcast(awareness_message(forward), exclude=connection.id)
        elif isinstance(message, QueryAwarenessMessage):
            snapshot = self.awareness.snapshot()
            if snapshot is not None:
                connection.send(awareness_message(snapshot))
        # Auth messages carry nothing a server acts on.

    async def _receive_update(self, connection: Connection, update: bytes) -> None:
        if is_empty_update(update):
            return
        if not connection.can_write:
            # Read-only peers keep their awareness; their edits stop here.
            connection.refused_updates += 1
            self._stats.updates_refused_read_only += 1
            return
        check_update(update)
        await self.submit(update, origin=connection.id)

    async def submit(self, update: bytes, *, origin: int | None, tag: str = "peer") -> PendingWrite:
        """Queue a checked update for the log; it is applied and relayed once written."""
        write = PendingWrite(target=self, room=self.name, update=update, origin=origin, tag=tag)
        self.pending += 1
        if self._flushed.is_set():
            self._flushed = Latch()
        await self._update_log.submit(write)
        return write

    # ------------------------------------------------------------------ persisted

    def persisted(self, writes: list[PendingWrite]) -> None:
        """Relay durable updates (merged into one frame when several), then apply them.

        Peers come first: the room's document answers later sync requests and feeds
        services' observers, and nothing else runs between the two steps.
        """
        if len(writes) < MERGE_FROM_BATCH:
            for write in writes:
                self.broadcast(sync_update(write.update), exclude=write.origin)
        else:
            # Under load: one merged frame for the whole batch. Senders get their own
            # edits back (unless they were the only sender), which Yjs ignores; that is
            # cheaper than N frames to N peers. (Peers then hold the same state in a
            # different byte encoding.)
            merged = pycrdt.merge_updates(*(w.update for w in writes))
            origins = {w.origin for w in writes}
            self.broadcast(
                sync_update(merged), exclude=origins.pop() if len(origins) == 1 else None
            )
        for write in writes:
            # Observers (services) see the writer's tag as the transaction origin.
            with self.doc.transaction(origin=write.tag):
                self.doc.apply_update(write.update)
        self.pending -= len(writes)
        self.log_count += len(writes)
        self.log_bytes += sum(len(w.update) for w in writes)
        self._stats.updates_accepted += len(writes)
        if self.pending == 0:
            self._flushed.set()
        self._on_log_growth(self)

    async def flushed(self) -> None:
        """Wait until every submitted update is written and applied."""
        await self._flushed.wait()

    # ------------------------------------------------------------------ outgoing

    def broadcast(self, frame: bytes, *, exclude: int | None = None) -> None:
        for connection_id, connection in self.connections.items():
            if connection_id != exclude:
                connection.send(frame)
                self._stats.frames_relayed += 1
