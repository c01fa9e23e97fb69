"""A watchdog for the event loop: every stall past a threshold is logged with what ran.

One slow call on the event loop (or one that holds the GIL in a thread) delays
every peer of every room, ``/healthz`` included. A beat task on the loop notes
the time every :data:`BEAT_S`; a thread checks the beat and, once it is older
than the threshold, samples the loop thread's stack: what runs during the stall,
or, when a native call holds the GIL (so no thread runs until it returns), the
function that made it, just after. When the loop wakes, the beat task logs the
stall's length with that sample and counts it; ``/metrics`` exports the count
and the worst stall.
"""

from __future__ import annotations

import sys
import threading
import time
import traceback
from types import TracebackType

import anyio
import structlog
from anyio.abc import TaskGroup

log = structlog.get_logger("jacameno.watchdog")

#: Seconds between beats of the loop.
BEAT_S = 0.02
#: A stall this long (in seconds) is logged and counted.
DEFAULT_THRESHOLD_S = 0.1
#: Frames of the sampled stack kept in the log line.
STACK_FRAMES = 12


class LoopWatchdog:
    """Use as ``async with LoopWatchdog() as watchdog`` on the loop it should watch."""

    def __init__(self, *, threshold_s: float = DEFAULT_THRESHOLD_S) -> None:
        self.threshold_s = threshold_s
        #: Stalls seen, and the longest, in seconds.
        self.stalls = 0
        self.worst_s = 0.0
        self._beat = time.monotonic()
        self._sample: tuple[float, str] | None = None
        self._loop_thread = threading.get_ident()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._group: TaskGroup | None = None

    async def __aenter__(self) -> LoopWatchdog:
        self._loop_thread = threading.get_ident()
        self._beat = time.monotonic()
        self._thread = threading.Thread(target=self._watch, name="loop-watchdog", daemon=True)
        self._thread.start()
        self._group = anyio.create_task_group()
        await self._group.__aenter__()
        self._group.start_soon(self._beats)
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        assert self._group is not None, "not started"
        self._group.cancel_scope.cancel()
        await self._group.__aexit__(None, None, None)
        self._stop.set()
        if self._thread is not None:
            await anyio.to_thread.run_sync(self._thread.join)

    async def _beats(self) -> None:
        while True:
            started = time.monotonic()
            self._beat = started
            await anyio.sleep(BEAT_S)
            stalled = time.monotonic() - started - BEAT_S
            if stalled >= self.threshold_s:
                self._report(started, stalled)

    def _report(self, beat: float, stalled_s: float) -> None:
        self.stalls += 1
        self.worst_s = max(self.worst_s, stalled_s)
        sample = self._sample
        running = sample[1] if sample is not None and sample[0] == beat else "not sampled"
        log.warning("event loop stalled", stalled_ms=round(stalled_s * 1000, 1), running=running)

    def _watch(self) -> None:
        """The sampling thread: take one stack sample per stall, while it lasts."""
        poll_s = self.threshold_s / 4
        while not self._stop.wait(poll_s):
            beat = self._beat
            if time.monotonic() - beat < self.threshold_s:
                continue
            if self._sample is not None and self._sample[0] == beat:
                continue  # this stall is sampled already
            frame = sys._current_frames().get(self._loop_thread)
            if frame is None:
                continue
            stack = traceback.extract_stack(frame)[-STACK_FRAMES:]
            where = " <- ".join(f"{f.name} ({f.filename}:{f.lineno})" for f in reversed(stack))
            self._sample = (beat, where)
