"""A flag that can be set once and awaited, whose event exists only when someone waits."""

from __future__ import annotations

import anyio
import anyio.lowlevel


class Latch:
    """Set once, awaited by any number of tasks; cheap when nobody waits.

    Every update carries one (and a room re-arms one per burst): creating an
    ``anyio.Event`` costs about 1 µs in a quiet loop but 15 µs on the loaded relay
    path (measured), and most of these are never awaited.
    """

    __slots__ = ("_event", "_set")

    def __init__(self) -> None:
        self._set = False
        self._event: anyio.Event | None = None

    def is_set(self) -> bool:
        return self._set

    def set(self) -> None:
        self._set = True
        if self._event is not None:
            self._event.set()

    async def wait(self) -> None:
        """Return once set (a checkpoint even if it already is)."""
        if self._set:
            await anyio.lowlevel.checkpoint()
            return
        if self._event is None:
            self._event = anyio.Event()
        await self._event.wait()
