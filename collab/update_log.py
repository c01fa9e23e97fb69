"""Group commit: every accepted update is written to the log before any peer sees it.

Readers submit updates; one writer task takes everything waiting (up to
``max_batch``), writes it in one transaction, and only then hands each update
to its room for relay. Under load a burst costs one transaction, not one per
update, and no update is relayed that a crash could lose. A log that has been
quiet for ``quiet_s`` (:class:`~collab.config.UpdateLogTuning`) writes the next
update on the submitting task, when the store can commit it without waiting
(SQLite): one update alone spares the trip round the event loop to the writer
task, and a burst still queues behind it.
"""

from __future__ import annotations

import logging
import math
import time
from dataclasses import dataclass, field
from typing import Protocol

import anyio
from anyio.streams.memory import MemoryObjectReceiveStream, MemoryObjectSendStream

from jacameno.collab.config import CollabConfig
from jacameno.collab.errors import PersistenceError
from jacameno.collab.latch import Latch
from jacameno.collab.store import DocumentStore

log = logging.getLogger("jacameno.collab.log")


class LogTarget(Protocol):
    """Who gets updates back once they are durable (a room)."""

    def persisted(self, writes: list[PendingWrite]) -> None:
        """Apply and relay ``writes`` (all for this target, in log order)."""
        ...

    def abandoned(self, writes: list[PendingWrite]) -> None:
        """Forget ``writes``: they will never be written (the log gave up at shutdown)."""
        ...


@dataclass(slots=True, eq=False)
class PendingWrite:
    """An update on its way to the log."""

    target: LogTarget
    room: str
    update: bytes
    #: The connection it came from (not echoed back to it), or None for services.
    origin: int | None = None
    #: Transaction origin when the room applies it ("peer", "service:jobs", ...): a service's
    #: observer skips its own writes by this tag.
    tag: str = "peer"
    persisted: Latch = field(default_factory=Latch)


class UpdateLog:
    """The writer task and its bounded queue (full queue = readers wait)."""

    def __init__(self, store: DocumentStore, config: CollabConfig) -> None:
        self._store = store
        self._config = config
        self._tuning = config.update_log
        self._send: MemoryObjectSendStream[PendingWrite]
        self._receive: MemoryObjectReceiveStream[PendingWrite]
        self._send, self._receive = anyio.create_memory_object_stream[PendingWrite](
            config.max_pending_writes
        )
        self._closing = False
        #: True while the writer task waits on an empty queue: nothing is being written or
        #: waits to be, so an update written now keeps log order (= relay order).
        self._writer_idle = False
        #: When the last write ended (time.monotonic()).
        self._last_write = -math.inf
        self.healthy = True
        self.batches = 0
        self.written = 0
        self.lost = 0

    async def submit(self, write: PendingWrite) -> None:
        """Queue ``write``; waits while the queue is full (backpressure on the sender).

        Queues without a trip round the event loop when there is room: every such
        trip is latency for the update (and for every update waiting behind it).
        A quiet log writes and relays it here instead, if that needs no waiting.
        """
        if (
            self._writer_idle
            and not self._closing
            and time.monotonic() - self._last_write > self._tuning.quiet_s
            and self._store.append_now([(write.room, write.update)])
        ):
            self._written([write])
            self._hand_over([write])
            return
        if self._closing:
            raise PersistenceError("the update log is closed: the server is stopping")
        self._writer_idle = False  # it has work now: later updates queue behind this one
        try:
            self._send.send_nowait(write)
        except anyio.WouldBlock:
            await self._send.send(write)
        except anyio.ClosedResourceError:
            raise PersistenceError("the update log is closed: the server is stopping") from None

    async def _next(self) -> PendingWrite:
        """The next queued write: at once if one waits, else when one arrives."""
        try:
            return self._receive.receive_nowait()
        except anyio.WouldBlock:
            pass
        self._writer_idle = True
        try:
            return await self._receive.receive()
        finally:
            self._writer_idle = False

    async def run(self) -> None:
        """Write batches until :meth:`close` and the queue drains."""
        async with self._receive:
            while True:
                try:
                    first = await self._next()
                except anyio.EndOfStream:
                    return
                batch = [first]
                while len(batch) < self._config.max_batch:
                    try:
                        batch.append(self._receive.receive_nowait())
                    except (anyio.WouldBlock, anyio.EndOfStream):
                        break
                if await self._write(batch):
                    self._hand_over(batch)

    def _hand_over(self, batch: list[PendingWrite]) -> None:
        """Give each written update to its room (in log order), then mark it persisted."""
        self._last_write = time.monotonic()
        by_target: dict[LogTarget, list[PendingWrite]] = {}
        for write in batch:
            by_target.setdefault(write.target, []).append(write)
        for target, writes in by_target.items():
            try:
                target.persisted(writes)
            except Exception:  # one room's fault must not stop every room's log
                log.exception("relaying persisted updates failed")
        for write in batch:
            write.persisted.set()

    async def _write(self, batch: list[PendingWrite]) -> bool:
        attempts = 0
        while True:
            try:
                await self._store.append([(w.room, w.update) for w in batch])
            except PersistenceError as exc:
                attempts += 1
                self.healthy = False
                if self._closing and attempts >= self._tuning.shutdown_retries:
                    self.lost += len(batch)
                    log.error(
                        "giving up on %d updates at shutdown: the database refuses writes",
                        len(batch),
                        extra={"error": str(exc)},
                    )
                    by_target: dict[LogTarget, list[PendingWrite]] = {}
                    for write in batch:
                        by_target.setdefault(write.target, []).append(write)
                    for target, writes in by_target.items():
                        try:
                            target.abandoned(writes)
                        except Exception:
                            log.exception("forgetting abandoned updates failed")
                    for write in batch:
                        write.persisted.set()
                    return False
                log.warning("update log write failed; retrying", extra={"error": str(exc)})
                await anyio.sleep(self._config.retry_backoff_s)
                continue
            self._written(batch)
            return True

    def _written(self, batch: list[PendingWrite]) -> None:
        """Count one batch stored in one transaction (the database works)."""
        self.healthy = True
        self.batches += 1
        self.written += len(batch)

    def close(self) -> None:
        """Stop accepting updates; :meth:`run` returns once the queue is written."""
        self._closing = True
        self._send.close()
