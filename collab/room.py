"""A room: one project document in memory, its peers, and its awareness.

The server never stores or relays what it cannot apply: every incoming update is
applied to the room's ``Doc`` first, then queued to the update log, and relayed
to the other peers only once written. An update that decodes but cannot be
applied (an item whose parent is a plain value), or that depends on structs
nobody sent (it would sit pending and break the next update that completes it),
or deletes clocks nobody has (it would delete whatever later arrives under those
ids, in some documents and not in others), is refused before it is logged, and
only its sender is closed. Such an update may have applied in part before it
failed, so the room is then *damaged*: the room server reloads its document
from the log (what every later load will see), and until then the room takes no
update and answers no sync; its listeners are told, so services observe the new
document.

So the document may hold updates a moment before they are durable; a peer that
syncs in that moment receives them, and being a peer it keeps them: after a
crash it sends them back on its next sync. Relaying, the path every update
takes to peers already connected, waits for the write.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import anyio
import pycrdt

from jacameno.collab.awareness import RoomAwareness
from jacameno.collab.config import CollabConfig
from jacameno.collab.connection import Connection
from jacameno.collab.errors import (
    CollabError,
    FloodError,
    MissingDependenciesError,
    ProtocolError,
    RoomDeletedError,
    UnappliableUpdateError,
)
from jacameno.collab.latch import Latch
from jacameno.collab.protocol import (
    AwarenessMessage,
    QueryAwarenessMessage,
    SyncMessage,
    SyncType,
    awareness_message,
    decode_message,
    decode_state_vector,
    is_empty_update,
    permission_denied_message,
    sync_step1,
    sync_step2,
    sync_update,
)
from jacameno.collab.update_format import holds
from jacameno.collab.update_log import PendingWrite, UpdateLog

if TYPE_CHECKING:
    from jacameno.collab.relay import Relay

log = logging.getLogger("jacameno.collab.room")

#: A room's share of one log batch is relayed as merged frames from this many updates:
#: every frame costs each receiving client a decode and a transaction, so under load
#: fewer, merged frames keep clients' event loops (and so latency) short.
MERGE_FROM_BATCH = 2
#: Told once to a read-only peer whose provider sends an edit (y-websocket logs it).
READ_ONLY_NOTICE = "read-only: your role in this project cannot edit, so your changes are not saved"


@dataclass
class CollabStats:
    """Counters of the collaboration server (exported as metrics by the API)."""

    rooms_loaded: int = 0
    rooms_evicted: int = 0
    connections_opened: int = 0
    closes: dict[int, int] = field(default_factory=dict)
    updates_accepted: int = 0
    updates_refused_read_only: int = 0
    #: Updates refused because they cannot be applied (their senders were closed).
    updates_rejected: int = 0
    #: Stored updates moved to quarantine because they cannot be applied.
    updates_quarantined: int = 0
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
        config: CollabConfig | None = None,
        on_rebuilt: Callable[[Room], None] | None = None,
        on_damaged: Callable[[Room], None] | None = None,
    ) -> None:
        self.name = name
        self.doc = doc
        self.config = config or CollabConfig()
        self.awareness = RoomAwareness(self.config)
        self.connections: dict[int, Connection] = {}
        self._update_log = update_log
        self._stats = stats
        self._on_log_growth = on_log_growth
        #: Called with the room when its document is replaced (services observe anew).
        self._on_rebuilt = on_rebuilt
        #: Called once when a refused update left the document damaged (reload it).
        self._on_damaged = on_damaged
        #: Set once a damaged document has been reloaded; None while the room is sound.
        self._reloaded: anyio.Event | None = None
        #: Updates applied here and submitted to the log, not yet written.
        self._pending = 0
        #: Set when the room's pending updates drop below its share of the log's queue.
        self._below_share: anyio.Event | None = None
        self._flushed = Latch()
        self._flushed.set()
        #: Logged updates (and bytes) since the last snapshot.
        self.log_count = log_count
        self.log_bytes = log_bytes
        #: Connections promised by the server but not yet joined (eviction waits for them).
        self.reserved = 0
        self.empty_since: float | None = time.monotonic()
        #: Stored updates failed to load: a compaction should quarantine them.
        self.quarantine_due = False
        #: The document was deleted: nothing more is written.
        self.deleted = False
        #: Set once the room is unloaded; a later open loads a new Room.
        self.evicted = anyio.Event()
        #: Set after each compaction of this room's log (replaced by a fresh event).
        self.compacted = anyio.Event()
        #: Where durable updates and presence changes go to other server processes.
        self.relay: Relay | None = None

    @property
    def is_sound(self) -> bool:
        """Whether the document is not awaiting a reload (see :meth:`sound`)."""
        return self._reloaded is None

    @property
    def pending(self) -> int:
        """Updates applied here and submitted to the log, not yet written."""
        return self._pending

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
            if self.relay is not None:
                self.relay.publish_awareness(self.name, removal)
        if not self.connections:
            self.empty_since = time.monotonic()

    def expire_awareness(self) -> None:
        """Drop presence states nobody renewed, and tell the peers."""
        removal = self.awareness.expire()
        if removal is not None:
            self.broadcast(awareness_message(removal))

    # ------------------------------------------------------------------ incoming

    async def receive(self, connection: Connection, frame: bytes) -> None:
        """Handle one frame from ``connection``.

        Raises :class:`ProtocolError` when it is malformed or cannot be applied, and
        :class:`FloodError` when the peer exceeds its presence budget.
        """
        message = decode_message(frame)
        if isinstance(message, SyncMessage):
            if message.sync_type is SyncType.STEP1:
                await self.sound()
                try:
                    missing = self.doc.get_update(message.payload)
                except ValueError:
                    raise ProtocolError("sync step 1 carries an invalid state vector") from None
                connection.send(sync_step2(missing))
                return
            await self._receive_update(connection, message.payload)
        elif isinstance(message, AwarenessMessage):
            if not connection.awareness_raw_budget.spend(len(message.payload)):
                raise FloodError("presence traffic over this connection's budget")
            forward = self.awareness.apply(message.payload, connection.id)
            # Echoes are dropped cheaply; what is new is what costs everyone.
            if forward is not None and not connection.awareness_budget.spend(len(forward)):
                raise FloodError("presence changes over this connection's budget")
            if forward is None:
                self._stats.awareness_duplicates_dropped += 1
            else:
                self.broadcast(awareness_message(forward), exclude=connection.id)
                if self.relay is not None:
                    self.relay.publish_awareness(self.name, forward)
        elif isinstance(message, QueryAwarenessMessage):
            snapshot = self.awareness.snapshot()
            if snapshot is not None:
                connection.send(awareness_message(snapshot))
        # Auth messages carry nothing a server acts on.

    async def _receive_update(self, connection: Connection, update: bytes) -> None:
        if is_empty_update(update):
            return
        if not connection.can_write:
            # Read-only peers keep their awareness; their edits stop here, and they are
            # told so once (y-protocols' auth message), not left believing they synced.
            connection.refused_updates += 1
            self._stats.updates_refused_read_only += 1
            if not connection.told_read_only:
                connection.told_read_only = True
                connection.send(permission_denied_message(READ_ONLY_NOTICE))
            return
        await self.submit(update, origin=connection.id, tag=connection.grant.origin)

    def apply(self, update: bytes, *, tag: str) -> None:
        """Apply ``update`` to the room's document with the transaction origin ``tag``.

        Raises :class:`UnappliableUpdateError` when it cannot be applied whole, leaves
        structs pending or deletes clocks nobody has. The document may then hold part
        of it, so the room is marked damaged: it reloads its document from the log
        (see :meth:`replace_doc`) before it takes or answers anything more.
        """
        failure: Exception | None = None
        try:
            with self.doc.transaction(origin=tag):
                try:
                    self.doc.apply_update(update)
                except Exception as exc:  # pycrdt raises RuntimeError or ValueError
                    failure = exc
        except Exception:
            # An observer (a service) failed inside the commit: the update applied; the
            # service's fault must not refuse a peer's edit.
            log.exception("an observer failed on an update", extra={"room": self.name})
        if failure is None:
            after = decode_state_vector(self.doc.get_state())
            try:
                if holds(after, update):
                    return
            except ProtocolError as exc:
                # Content no yjs client writes: refuse what cannot be checked.
                failure = exc
        self._stats.updates_rejected += 1
        self._damaged()
        if failure is not None:
            raise UnappliableUpdateError(f"the update cannot be applied: {failure}")
        raise MissingDependenciesError(
            "the update depends on changes the server has not received; reconnect to resync"
        )

    def _damaged(self) -> None:
        if self._reloaded is None:
            self._reloaded = anyio.Event()
            if self._on_damaged is not None:
                self._on_damaged(self)

    def replace_doc(self, doc: pycrdt.Doc[Any]) -> None:
        """Take ``doc`` (the room's state, folded from the log) instead of a damaged one."""
        self.doc = doc
        reloaded, self._reloaded = self._reloaded, None
        if self._on_rebuilt is not None:
            self._on_rebuilt(self)
        if reloaded is not None:
            reloaded.set()

    async def sound(self) -> None:
        """Return once the document is not awaiting a reload."""
        while self._reloaded is not None:
            await self._reloaded.wait()

    async def submit(self, update: bytes, *, origin: int | None, tag: str = "peer") -> PendingWrite:
        """Apply an update and queue it for the log; it is relayed once written.

        Raises :class:`UnappliableUpdateError` (nothing queued) when it cannot be applied,
        :class:`RoomDeletedError` when the document was deleted.
        """
        while True:
            await self.sound()
            if self._pending < self.config.max_pending_per_room:
                break
            # This room's share of the log's queue is full: its sender waits, not others.
            if self._below_share is None:
                self._below_share = anyio.Event()
            await self._below_share.wait()
        if self.deleted:
            raise RoomDeletedError(self.name)
        self.apply(update, tag=tag)
        return await self._queue(update, origin=origin, tag=tag)

    async def _queue(self, update: bytes, *, origin: int | None, tag: str) -> PendingWrite:
        write = PendingWrite(target=self, room=self.name, update=update, origin=origin, tag=tag)
        self._pending += 1
        if self._flushed.is_set():
            self._flushed = Latch()
        try:
            await self._update_log.submit(write)
        except BaseException:
            # Never queued (the server is stopping): nothing will write it.
            self._forget([write])
            raise
        return write

    def abandoned(self, writes: list[PendingWrite]) -> None:
        """Forget updates that will never be written (the log gave up at shutdown)."""
        self._forget(writes)

    def _forget(self, writes: list[PendingWrite]) -> None:
        self._pending = max(0, self._pending - len(writes))
        if not self._pending:
            self._flushed.set()
        if self._below_share is not None and self._pending < self.config.max_pending_per_room:
            self._below_share.set()
            self._below_share = None

    # ------------------------------------------------------------------ persisted

    def persisted(self, writes: list[PendingWrite]) -> None:
        """Relay durable updates to the peers (merged into few frames when several).

        The bookkeeping runs whatever fails, so that nothing waits forever for a flush.
        """
        try:
            sent = self._relay(writes)
            if self.relay is not None:
                self.relay.publish(self.name, sent)
        finally:
            self._forget(writes)
            self.log_count += len(writes)
            self.log_bytes += sum(len(w.update) for w in writes)
            self._stats.updates_accepted += len(writes)
            try:
                self._on_log_growth(self)
            except CollabError:
                log.exception("scheduling a compaction failed", extra={"room": self.name})

    def _relay(self, writes: list[PendingWrite]) -> list[bytes]:
        """Send durable updates to the peers; return the updates sent (merged or not),
        which other server processes get the same way."""
        if len(writes) < MERGE_FROM_BATCH:
            for write in writes:
                self.broadcast(sync_update(write.update), exclude=write.origin)
            return [write.update for write in writes]
        # Under load: merged frames (at most max_merge_updates each: merging is
        # superlinear). Senders get their own edits back (unless they were the only
        # sender of the frame), which Yjs ignores; that is cheaper than N frames to N
        # peers. (Peers then hold the same state in a different byte encoding.)
        step = self.config.max_merge_updates
        sent: list[bytes] = []
        for start in range(0, len(writes), step):
            chunk = writes[start : start + step]
            origins = {w.origin for w in chunk}
            if len(chunk) == 1:
                merged = chunk[0].update
            else:
                merged = pycrdt.merge_updates(*(w.update for w in chunk))
            sender = origins.pop() if len(origins) == 1 else None
            self.broadcast(sync_update(merged), exclude=sender)
            sent.append(merged)
        return sent

    async def flushed(self) -> None:
        """Wait until every submitted update is written."""
        await self._flushed.wait()

    # ------------------------------------------------------------------ outgoing

    def broadcast(self, frame: bytes, *, exclude: int | None = None) -> None:
        """Send ``frame`` to every peer but ``exclude``; one failing peer is closed, not fatal."""
        for connection_id, connection in list(self.connections.items()):
            if connection_id != exclude:
                connection.send(frame)
                self._stats.frames_relayed += 1
