"""One peer in a room: its channel, its write permission, and a bounded send queue.

The fan-out calls :meth:`Connection.send` for every peer. When nothing is
queued for that peer, the frame goes straight to the channel from the caller:
``channel.send_now`` when the channel can write without waiting, else
``channel.send`` run up to its first suspension (a WebSocket whose transport
takes the bytes at once never suspends). So relaying one update to N peers
costs N socket writes and no task switches, as in the Node servers.
Otherwise, or when the channel has to wait (transport back-pressure), frames
wait in a bounded queue drained by the connection's one writer task, in order.
A peer whose queue overflows is disconnected with :attr:`CloseCode.TOO_SLOW`
(it resyncs on reconnect) rather than silently missing updates. A send that
fails for any other reason closes that peer alone (1011): one broken channel
never stops the fan-out to the others.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
import time
from collections import deque
from collections.abc import Coroutine
from typing import Any

import anyio

from jacameno.collab.access import Grant
from jacameno.collab.channel import Channel, ChannelClosedError, CloseCode
from jacameno.collab.config import CollabConfig

log = logging.getLogger("jacameno.collab.connection")
_ids = itertools.count(1)

#: The close code recorded (never sent) when the peer vanished without a close frame.
ABNORMAL_CLOSURE = 1006


class ByteBudget:
    """A token bucket over bytes: ``rate_per_s`` on average, ``burst`` at once."""

    __slots__ = ("_burst", "_last", "_rate", "_tokens")

    def __init__(self, rate_per_s: float, burst: float) -> None:
        self._rate = rate_per_s
        self._burst = burst
        self._tokens = burst
        self._last = time.monotonic()

    def spend(self, amount: int) -> bool:
        """Take ``amount`` bytes from the budget; False (nothing taken) when it lacks them."""
        now = time.monotonic()
        self._tokens = min(self._burst, self._tokens + (now - self._last) * self._rate)
        self._last = now
        if amount > self._tokens:
            return False
        self._tokens -= amount
        return True


class Connection:
    def __init__(self, channel: Channel, *, grant: Grant, config: CollabConfig) -> None:
        self.id = next(_ids)
        self.channel = channel
        #: What this peer may do; replaced when its rights change (see RoomServer).
        self.grant = grant
        #: New presence states this peer may send, and awareness traffic of any kind.
        self.awareness_budget = ByteBudget(
            config.awareness_bytes_per_s, config.awareness_burst_bytes
        )
        self.awareness_raw_budget = ByteBudget(
            config.awareness_raw_bytes_per_s, config.awareness_raw_burst_bytes
        )
        #: Whether the peer has been told (once) that its edits are refused.
        self.told_read_only = False
        self._max_messages = config.send_queue_messages
        self._max_bytes = config.send_queue_bytes
        self._queue: deque[bytes] = deque()
        self._queued_bytes = 0
        self._wakeup = anyio.Event()
        #: The rest of an eagerly started send that had to wait; the writer finishes it.
        self._unfinished: Coroutine[Any, Any, None] | None = None
        #: True while the writer task is inside a send (new frames must queue behind it).
        self._writing = False
        self._eager = _eager_sends_possible()
        self.close_code: int | None = None
        self.close_reason = ""
        self.refused_updates = 0

    @property
    def closing(self) -> bool:
        return self.close_code is not None

    @property
    def can_write(self) -> bool:
        return self.grant.can_write

    def send(self, frame: bytes) -> None:
        """Send ``frame`` to this peer now, or queue it; never blocks or raises to the caller
        (the fan-out): a failing channel closes this peer alone."""
        if self.close_code is not None:
            return
        if self._eager and not self._queue and not self._writing and self._unfinished is None:
            try:
                sent = self.channel.send_now(frame)
            except Exception:
                log.exception("sending to a peer failed")
                self.close(CloseCode.INTERNAL_ERROR, "internal error while sending")
                return
            if not sent:
                self._send_eagerly(frame)
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

    def _send_eagerly(self, frame: bytes) -> None:
        try:
            rest = start_eagerly(self.channel.send(frame))
        except ChannelClosedError:
            self.close(ABNORMAL_CLOSURE, "peer went away")
            return
        except Exception:  # a fault in one peer's channel must not stop the fan-out
            log.exception("sending to a peer failed")
            self.close(CloseCode.INTERNAL_ERROR, "internal error while sending")
            return
        if rest is not None:
            self._unfinished = rest
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
                self._writing = True
                try:
                    if self._unfinished is not None:
                        rest, self._unfinished = self._unfinished, None
                        await rest
                    while self._queue and self.close_code is None:
                        frame = self._queue.popleft()
                        self._queued_bytes -= len(frame)
                        await self.channel.send(frame)
                finally:
                    self._writing = False
                if self.close_code == ABNORMAL_CLOSURE:
                    return
                if self.close_code is not None:
                    await self.channel.close(self.close_code, self.close_reason)
                    return
        except ChannelClosedError:
            self.close(ABNORMAL_CLOSURE, "peer went away")
        except Exception:
            log.exception("sending to a peer failed")
            self.close(CloseCode.INTERNAL_ERROR, "internal error while sending")
            with contextlib.suppress(Exception):
                await self.channel.close(CloseCode.INTERNAL_ERROR, "internal error while sending")
        finally:
            if self._unfinished is not None:  # never awaited: close it without a warning
                self._unfinished.close()
                self._unfinished = None


def _eager_sends_possible() -> bool:
    """Eager sends drive asyncio coroutines by hand; other event loops always queue."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return False
    return True


def start_eagerly(coro: Coroutine[Any, Any, None]) -> Coroutine[Any, Any, None] | None:
    """Run the asyncio coroutine ``coro`` in the caller up to its first suspension.

    Returns None when it finished without suspending, or else a coroutine that
    finishes it (a task must await it). An exception raised before the first
    suspension propagates to the caller.
    """
    try:
        waiting_on = coro.send(None)
    except StopIteration:
        return None
    return _finish(coro, waiting_on)


async def _finish(coro: Coroutine[Any, Any, None], waiting_on: Any) -> None:
    """Go on with ``coro``, which suspended on ``waiting_on`` (an asyncio future, or None)."""
    while True:
        try:
            if waiting_on is None:  # a bare yield: let the loop run once
                await asyncio.sleep(0)
            else:
                # As asyncio's Task does on a yielded future: clear the flag the first
                # await set, then wait on it here.
                waiting_on._asyncio_future_blocking = False
                await waiting_on
        except BaseException as exc:
            try:
                waiting_on = coro.throw(exc)
            except StopIteration:
                return
        else:
            try:
                waiting_on = coro.send(None)
            except StopIteration:
                return
