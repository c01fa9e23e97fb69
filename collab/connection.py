"""One peer in a room: its channel, its write permission, and a bounded send queue.

Each connection has exactly one writer task draining its queue; fan-out only
appends the already-encoded frame to each queue. A peer whose queue overflows
is disconnected with :attr:`CloseCode.TOO_SLOW` (it resyncs on reconnect)
rather than silently missing updates.
"""

from __future__ import annotations

import itertools
import logging
from collections import deque

import anyio

from collab.channel import Channel, ChannelClosedError, CloseCode
from collab.config import CollabConfig

log = logging.getLogger("jacameno.collab.connection")
_ids = itertools.count(1)


class Connection:
    def __init__(self, channel: Channel, *, can_write: bool, config: CollabConfig) -> None:
        self.id = next(_ids)
        self.channel = channel
        self.can_write = can_write
        self._max_messages = config.send_queue_messages
        self._max_bytes = config.send_queue_bytes
        self._queue: deque[bytes] = deque()
        self._queued_bytes = 0
        self._wakeup = anyio.Event()
        self.close_code: int | None = None
        self.close_reason = ""
        self.refused_updates = 0

    @property
    def closing(self) -> bool:
        return self.close_code is not None

    def send(self, frame: bytes) -> None:
        """Queue ``frame`` for this peer; never blocks the caller (the fan-out)."""
        if self.close_code is not None:
            return
        if (
            len(self._queue) >= self._max_messages
            or self._queued_bytes + len(frame) > self._max_bytes
        ):
            self.close(CloseCode.TOO_SLOW, "send queue full: client too slow, reconnect to resync")
            return
        self._queue.append(frame)
        self._queued_bytes += len(frame)
        self._wakeup.set()

    def close(self, code: int, reason: str) -> None:
        """Ask the writer task to close the channel with ``code`` once it wakes."""
        if self.close_code is None:
            self.close_code = code
            self.close_reason = reason
            self._queue.clear()
            self._queued_bytes = 0
            self._wakeup.set()

    async def write_loop(self) -> None:
        """Drain the queue to the channel until the connection closes."""
        try:
            while True:
                await self._wakeup.wait()
                self._wakeup = anyio.Event()
                while self._queue and self.close_code is None:
                    frame = self._queue.popleft()
                    self._queued_bytes -= len(frame)
                    await self.channel.send(frame)
                if self.close_code is not None:
                    await self.channel.close(self.close_code, self.close_reason)
                    return
        except ChannelClosedError:
            if self.close_code is None:
                self.close_code = 1006
                self.close_reason = "peer went away"
