"""The relay over Redis: a stream per active project for updates, pub/sub for presence.

- Updates: each process appends the updates its peers sent to ``<prefix>:doc:<room>``
  (a Redis stream) once they are written to the database log, and reads the other
  processes' entries from the last id it saw. A read that fails (Redis restarted,
  the connection dropped) resumes from that id, and every watched room then catches
  up from the store, which also covers entries trimmed meanwhile. A process whose
  appends failed marks the gap with an entry of its own once Redis is back, so the
  others catch up from the store too. Entries are trimmed a minute behind each
  compaction (what they carry is in the snapshot by then) and the stream expires a
  day after its last append.
- Presence: ``<prefix>:aw:<room>`` over pub/sub (ephemeral by nature). A process that
  loads a room asks the others for their states, so a late joiner still gets every
  state in its first snapshot.
"""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Iterable
from enum import Enum
from typing import Any

import anyio
from anyio.abc import TaskStatus
from anyio.streams.memory import MemoryObjectReceiveStream, MemoryObjectSendStream
from redis.asyncio import Redis
from redis.exceptions import RedisError

from jacameno.collab.relay import RelaySink

log = logging.getLogger("jacameno.collab.relay")

#: Longest wait of one stream read, in ms: rooms watched meanwhile join the next read.
READ_BLOCK_MS = 100
#: Entries read per stream per call.
READ_COUNT = 512
#: Stream length kept at most (approximately); older entries are in the database.
STREAM_MAXLEN = 20_000
#: Entries older than this before a compaction are trimmed (ms): by then they are in
#: the snapshot, and a reader that far behind catches up from the store.
TRIM_BEHIND_MS = 60_000
#: A stream nobody appends to expires after this many seconds.
STREAM_TTL_S = 86_400
#: Waits between reconnection attempts, in seconds.
RETRY_S = (0.2, 0.5, 1.0, 2.0)
#: Outgoing updates and presence messages held while Redis is slow (then dropped; the
#: other processes catch up from the store).
OUTBOX = 10_000

_UPDATE, _GAP = b"u", b"g"
_AW_UPDATE, _AW_QUERY = b"u", b"q"


class _Op(Enum):
    """What an outgoing item asks of Redis."""

    UPDATE = "append an update to the room's stream"
    TRIM = "trim the room's stream (payload: the oldest id kept)"
    PRESENCE = "publish presence changes"
    QUERY = "ask the other processes for their presence states"


_Outgoing = tuple[str, _Op, bytes]


class RedisRelay:
    """:class:`~collab.relay.Relay` on one Redis (``redis`` must not decode responses)."""

    def __init__(self, redis: Redis, *, prefix: str = "jacameno") -> None:
        self._redis = redis
        self._prefix = prefix
        self.instance = uuid.uuid4().hex.encode()
        #: Watched rooms and the last stream id read (None: read failed, catch up).
        self._positions: dict[str, bytes | None] = {}
        self._gaps: set[str] = set()
        self._changed = anyio.Event()
        self._out_send: MemoryObjectSendStream[_Outgoing]
        self._out_receive: MemoryObjectReceiveStream[_Outgoing]
        self._out_send, self._out_receive = anyio.create_memory_object_stream(OUTBOX)
        self._subscribed: set[str] = set()
        self.connected = True

    def _stream(self, room: str) -> str:
        return f"{self._prefix}:doc:{room}"

    def _channel(self, room: str) -> str:
        return f"{self._prefix}:aw:{room}"

    # ------------------------------------------------------------------ Relay

    async def run(self, sink: RelaySink, *, task_status: TaskStatus[None]) -> None:
        async with self._out_send, anyio.create_task_group() as group:
            group.start_soon(self._read_updates, sink)
            group.start_soon(self._send)
            group.start_soon(self._read_presence, sink)
            task_status.started()

    async def watch(self, room: str) -> None:
        try:
            self._positions[room] = await self._stream_end(room)
        except RedisError:
            self._positions[room] = None  # read it all from the store; catch up later
        self._changed.set()

    def unwatch(self, room: str) -> None:
        self._positions.pop(room, None)
        self._changed.set()

    def publish(self, room: str, updates: list[bytes]) -> None:
        # As the room relayed them to its own peers (merged in bounded chunks under
        # load): one stream entry each, appended in one round trip by the sender.
        for update in updates:
            self._offer(room, _Op.UPDATE, update)

    def publish_awareness(self, room: str, payload: bytes) -> None:
        self._offer(room, _Op.PRESENCE, payload)

    def compacted(self, room: str) -> None:
        oldest_ms = int(time.time() * 1000) - TRIM_BEHIND_MS
        self._offer(room, _Op.TRIM, str(oldest_ms).encode())

    # ------------------------------------------------------------------ sending

    def _offer(self, room: str, op: _Op, payload: bytes) -> None:
        try:
            self._out_send.send_nowait((room, op, payload))
        except anyio.WouldBlock:
            if op in (_Op.UPDATE, _Op.TRIM):  # presence is ephemeral: dropped, no gap
                self._gaps.add(room)
        except (anyio.ClosedResourceError, anyio.BrokenResourceError):
            pass  # the relay has stopped: the process is shutting down

    async def _send(self) -> None:
        """Append updates and publish presence in batches (one round trip per batch)."""
        async with self._out_receive:
            while True:
                batch: list[_Outgoing] = []
                if self._gaps:  # marks still to append: retry them even without traffic
                    with anyio.move_on_after(RETRY_S[-1]):
                        batch.append(await self._out_receive.receive())
                else:
                    batch.append(await self._out_receive.receive())
                while len(batch) < 256:
                    try:
                        batch.append(self._out_receive.receive_nowait())
                    except anyio.WouldBlock:
                        break
                await self._send_batch(batch)

    async def _send_batch(self, batch: list[_Outgoing]) -> None:
        gaps = sorted(self._gaps)  # marks offered meanwhile wait for the next batch
        try:
            async with self._redis.pipeline(transaction=False) as pipe:
                for room in gaps:
                    pipe.xadd(self._stream(room), {b"o": self.instance, b"k": _GAP})
                for room, op, payload in batch:
                    if op is _Op.PRESENCE or op is _Op.QUERY:
                        kind = _AW_UPDATE if op is _Op.PRESENCE else _AW_QUERY
                        pipe.publish(self._channel(room), self.instance + kind + payload)
                    elif op is _Op.TRIM:
                        pipe.xtrim(self._stream(room), minid=payload.decode(), approximate=True)
                    else:
                        stream = self._stream(room)
                        fields: dict[Any, Any] = {b"o": self.instance, b"k": _UPDATE, b"u": payload}
                        pipe.xadd(stream, fields, maxlen=STREAM_MAXLEN, approximate=True)
                        pipe.expire(stream, STREAM_TTL_S)
                await pipe.execute()
            self._gaps.difference_update(gaps)
        except RedisError as exc:
            self._gaps.update(room for room, op, _ in batch if op is _Op.UPDATE)
            self._down("appending to the relay failed", exc)
            await anyio.sleep(RETRY_S[0])

    # ------------------------------------------------------------------ receiving

    async def _read_updates(self, sink: RelaySink) -> None:
        failures = 0
        while True:
            streams: dict[Any, Any] = {
                self._stream(r): p for r, p in self._positions.items() if p is not None
            }
            behind = [r for r, p in self._positions.items() if p is None]
            try:
                for room in behind:
                    await self._resume(room, sink)
                if not streams:
                    self._changed = anyio.Event()
                    with anyio.move_on_after(READ_BLOCK_MS / 1000):
                        await self._changed.wait()
                    continue
                answer: Any = await self._redis.xread(
                    streams, count=READ_COUNT, block=READ_BLOCK_MS
                )
            except RedisError as exc:
                self._down("reading the relay failed", exc)
                for room in self._positions:
                    self._positions[room] = None
                await anyio.sleep(RETRY_S[min(failures, len(RETRY_S) - 1)])
                failures += 1
                continue
            failures = 0
            self._up()
            for stream, entries in answer or ():
                await self._deliver(stream, entries, sink)

    async def _resume(self, room: str, sink: RelaySink) -> None:
        """After a failed read: resume at the stream's end, then take from the store
        whatever may have been missed before it (idempotent)."""
        end = await self._stream_end(room)
        if room in self._positions:
            self._positions[room] = end
            await sink.catch_up(room)

    async def _stream_end(self, room: str) -> bytes:
        """The id of the stream's last entry (``0-0`` when it has none)."""
        last: Any = await self._redis.xrevrange(self._stream(room), count=1)
        return bytes(last[0][0]) if last else b"0-0"

    async def _deliver(
        self,
        stream: bytes | str,
        entries: Iterable[tuple[bytes, dict[bytes, bytes]]],
        sink: RelaySink,
    ) -> None:
        name = stream.decode() if isinstance(stream, bytes) else stream
        room = name.removeprefix(f"{self._prefix}:doc:")
        for entry_id, fields in entries:
            if room not in self._positions:
                return  # unwatched meanwhile
            self._positions[room] = entry_id
            if fields.get(b"o") == self.instance:
                continue
            if fields.get(b"k") == _GAP:
                await sink.catch_up(room)
            elif b"u" in fields:
                sink.remote_update(room, fields[b"u"])

    async def _read_presence(self, sink: RelaySink) -> None:
        failures = 0
        while True:
            try:
                async with self._redis.pubsub() as pubsub:
                    await pubsub.subscribe(f"{self._prefix}:aw")  # keeps the connection listening
                    self._subscribed = set()
                    failures = 0
                    while True:
                        await self._follow_rooms(pubsub)
                        message = await pubsub.get_message(
                            ignore_subscribe_messages=True, timeout=READ_BLOCK_MS / 1000
                        )
                        if message is not None:
                            self._on_presence(message, sink)
            except RedisError as exc:
                self._down("presence relay failed", exc)
                await anyio.sleep(RETRY_S[min(failures, len(RETRY_S) - 1)])
                failures += 1

    async def _follow_rooms(self, pubsub: Any) -> None:
        wanted = set(self._positions)
        if wanted != self._subscribed:
            if added := wanted - self._subscribed:
                await pubsub.subscribe(*(self._channel(r) for r in added))
                for room in added:  # now that their answers reach us
                    self._offer(room, _Op.QUERY, b"")
            if gone := self._subscribed - wanted:
                await pubsub.unsubscribe(*(self._channel(r) for r in gone))
            self._subscribed = wanted

    def _on_presence(self, message: dict[str, Any], sink: RelaySink) -> None:
        data = message.get("data")
        channel = message.get("channel")
        if not isinstance(data, bytes) or len(data) < len(self.instance) + 1:
            return
        if data.startswith(self.instance) or channel is None:
            return
        name = channel.decode() if isinstance(channel, bytes) else str(channel)
        room = name.removeprefix(f"{self._prefix}:aw:")
        kind, payload = (
            data[len(self.instance) : len(self.instance) + 1],
            data[len(self.instance) + 1 :],
        )
        if kind == _AW_QUERY:
            sink.awareness_wanted(room)
        elif kind == _AW_UPDATE:
            sink.remote_awareness(room, payload)

    # ------------------------------------------------------------------ health

    def _down(self, what: str, exc: Exception) -> None:
        if self.connected:
            log.warning("%s; rooms keep serving their own peers: %s", what, exc)
        self.connected = False

    def _up(self) -> None:
        if not self.connected:
            log.info("the relay is back; rooms caught up from the store")
        self.connected = True
