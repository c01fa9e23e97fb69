"""Fair turns for jobs: :class:`FairScheduler` hands out a fixed number of slots across
requesters in turn, so that a user with fifty queued jobs and a user with one each
get a worker in turn (a FIFO limiter would run all fifty first).
"""

from __future__ import annotations

from collections import deque
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import anyio


class FairScheduler:
    """At most ``capacity`` holders at once; a freed slot goes to the requester that
    deserves it most.

    Each requester (any string key) has its own FIFO queue of waiters. A freed slot
    goes to the first waiter of the requester that holds the fewest slots, and among
    those, the one served least recently (never served first, then by arrival). So
    requesters alternate: with one slot, fifty jobs of ``a`` and one of ``b`` run as
    a, b, a, a, ... Use ``async with scheduler.slot(requester):``.
    """

    def __init__(self, capacity: int) -> None:
        if capacity < 1:
            raise ValueError("a scheduler needs at least one slot")
        self.capacity = capacity
        self._free = capacity
        # Requesters with waiters, in order of arrival; each with its waiters in order.
        self._waiters: dict[str, deque[anyio.Event]] = {}
        self._held: dict[str, int] = {}
        # When each requester holding or waiting was last served (a grant counter).
        self._served: dict[str, int] = {}
        self._grants = 0

    @property
    def in_use(self) -> int:
        """Slots held right now."""
        return self.capacity - self._free

    def waiting(self) -> dict[str, int]:
        """How many waiters each requester has, in order of arrival."""
        return {requester: len(queue) for requester, queue in self._waiters.items()}

    @asynccontextmanager
    async def slot(self, requester: str) -> AsyncIterator[None]:
        """Hold one slot for the block, after waiting for ``requester``'s turn."""
        await self._acquire(requester)
        try:
            yield
        finally:
            self._release(requester)

    async def _acquire(self, requester: str) -> None:
        if self._free > 0 and not self._waiters:
            self._free -= 1
            self._grant(requester)
            return
        granted = anyio.Event()
        self._waiters.setdefault(requester, deque()).append(granted)
        try:
            await granted.wait()
        except BaseException:
            if granted.is_set():
                self._release(requester)  # handed a slot while being cancelled: pass it on
            else:
                queue = self._waiters[requester]
                queue.remove(granted)
                if not queue:
                    del self._waiters[requester]
                    self._forget(requester)
            raise

    def _grant(self, requester: str) -> None:
        self._grants += 1
        self._served[requester] = self._grants
        self._held[requester] = self._held.get(requester, 0) + 1

    def _release(self, requester: str) -> None:
        self._held[requester] -= 1
        if not self._held[requester]:
            del self._held[requester]
        if not self._waiters:
            self._free += 1
            self._forget(requester)
            return
        # min() keeps the first of equals: arrival order breaks the remaining ties.
        chosen = min(
            self._waiters, key=lambda name: (self._held.get(name, 0), self._served.get(name, 0))
        )
        queue = self._waiters[chosen]
        granted = queue.popleft()
        if not queue:
            del self._waiters[chosen]
        self._forget(requester)
        self._grant(chosen)
        granted.set()  # the slot passes straight to the waiter

    def _forget(self, requester: str) -> None:
        # Idle requesters leave no trace: the bookkeeping stays as small as the queue.
        if requester not in self._held and requester not in self._waiters:
            self._served.pop(requester, None)
