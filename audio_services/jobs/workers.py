"""Job worker processes the parent can stop one by one: :class:`WorkerPool`.

Each worker is a spawned process on its own pipe that runs one call at a time.
The parent stops a call that outlives its time limit, or whose worker grows past
the memory limit, by killing that worker (SIGKILL) and starting a replacement;
the other workers carry on. A ``concurrent.futures`` pool cannot do this: a
timed-out future is abandoned while its process keeps computing.

Memory is bounded twice (Linux): the worker caps its own address space with
``RLIMIT_AS`` at its size after start-up plus ``max_memory_mb`` (an allocation
past it raises ``MemoryError`` at once), and the parent reads the worker's
resident size from ``/proc`` every ``memory_poll_s`` and kills it past
``max_memory_mb``. Spawned, not forked: the serve process has threads, and a
fork would copy their held locks.
"""

from __future__ import annotations

import contextlib
import logging
import multiprocessing
import os
import pickle
import signal
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from multiprocessing.connection import Connection
from multiprocessing.process import BaseProcess
from pathlib import Path
from types import TracebackType
from typing import Any, TypeVar

import anyio

from jacameno.audio_services.errors import AudioError
from jacameno.audio_services.jobs.protocol import WorkerCrashedError

log = logging.getLogger("jacameno.jobs")

T = TypeVar("T")

#: Seconds a worker may take to start (imports, warm-up) before it counts as crashed.
START_TIMEOUT_S = 180.0
#: Seconds a worker gets to exit after being asked to, at shutdown, before it is killed.
STOP_TIMEOUT_S = 5.0
_PAGE_BYTES = os.sysconf("SC_PAGE_SIZE") if hasattr(os, "sysconf") else 4096
_MB = 1024 * 1024


class WorkerLimitError(AudioError):
    """A call went over a limit and its worker was killed."""


class WorkerTimeoutError(WorkerLimitError):
    """The call ran longer than its ``timeout_s``."""

    def __init__(self, seconds: float) -> None:
        super().__init__(f"the call took longer than {seconds:g} s")
        self.seconds = seconds


class WorkerMemoryError(WorkerLimitError):
    """The worker used more than ``max_memory_mb``."""

    def __init__(self, megabytes: int) -> None:
        super().__init__(f"the call used more than {megabytes} MB of memory")
        self.megabytes = megabytes


def _memory_bytes(pid: int) -> tuple[int, int] | None:
    """(address space, resident) bytes of process ``pid``; None without ``/proc``."""
    try:
        fields = Path(f"/proc/{pid}/statm").read_text().split()
    except OSError:
        return None
    return int(fields[0]) * _PAGE_BYTES, int(fields[1]) * _PAGE_BYTES


def _portable(exc: BaseException) -> BaseException:
    """``exc`` if it survives pickling, else a RuntimeError that says what it was."""
    try:
        pickle.loads(pickle.dumps(exc))  # noqa: S301 - our own bytes, in our own process
    except Exception:
        return RuntimeError(f"{type(exc).__name__}: {exc}")
    return exc


def _worker_main(conn: Connection, warm_up: Callable[[], None] | None, max_memory_mb: int) -> None:
    """A worker's life: warm up, cap the address space, then run calls until told to stop."""
    # Ctrl-C reaches the whole process group; the parent decides when workers stop.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    problem = None
    if warm_up is not None:
        try:
            warm_up()
        except Exception as exc:
            problem = f"warm-up failed: {type(exc).__name__}: {exc}"
    if max_memory_mb:
        import resource

        sizes = _memory_bytes(os.getpid())
        if sizes is not None:
            limit = sizes[0] + max_memory_mb * _MB
            _soft, hard = resource.getrlimit(resource.RLIMIT_AS)
            if hard == resource.RLIM_INFINITY or hard > limit:
                resource.setrlimit(resource.RLIMIT_AS, (limit, hard))
    conn.send(("ready", problem))
    while True:
        try:
            task = conn.recv()
        except (EOFError, OSError):
            return  # the parent is gone
        if task is None:
            return
        fn, args = task
        try:
            reply: tuple[str, Any] = ("ok", fn(*args))
        except MemoryError:
            reply = ("memory", None)
        except BaseException as exc:
            reply = ("error", (_portable(exc), traceback.format_exc()))
        try:
            conn.send(reply)
        except MemoryError:
            conn.send(("memory", None))
        except Exception as exc:  # a result that does not pickle
            conn.send(("error", (RuntimeError(f"the result could not be sent: {exc}"), "")))


@dataclass(eq=False)
class _Worker:
    process: BaseProcess
    conn: Connection
    ready: bool = False
    #: Set by the memory watch just before it kills the worker.
    over_memory: bool = False


class WorkerPool:
    """``size`` killable worker processes; ``await pool.call(fn, *args, timeout_s=...)``.

    Use as ``async with WorkerPool(...) as pool``. Workers start on entry and warm up
    in the background; a call waits for an idle one. ``fn`` and its arguments must
    pickle (a module-level function). A call raises :class:`WorkerTimeoutError` or
    :class:`WorkerMemoryError` when its worker was killed for a limit,
    :class:`WorkerCrashedError` when the worker died by itself, and whatever ``fn``
    raised otherwise. A killed or dead worker is replaced at once; a call cancelled
    from outside kills its worker too (its state is unknown).
    """

    def __init__(
        self,
        size: int,
        *,
        warm_up: Callable[[], None] | None = None,
        max_memory_mb: int = 0,
        memory_poll_s: float = 0.1,
    ) -> None:
        if size < 1:
            raise ValueError("a worker pool needs at least one worker")
        self.size = size
        self.warm_up = warm_up
        #: Resident-size limit per worker in MB (0: none).
        self.max_memory_mb = max_memory_mb
        self.memory_poll_s = memory_poll_s
        self._context = multiprocessing.get_context("spawn")
        self._workers: set[_Worker] = set()
        self._closing = False
        # Idle workers, and a count of them a call waits on.
        self._idle: list[_Worker] = []
        self._idle_count = anyio.Semaphore(0, max_value=size)
        self._started = False

    async def __aenter__(self) -> WorkerPool:
        self._started = True
        if self.max_memory_mb and _memory_bytes(os.getpid()) is None:
            log.warning("no /proc here: job memory is not limited")
        for _ in range(self.size):
            self._release(await self._start())
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._closing = True
        idle, self._idle = self._idle, []
        # A call still running here is killed; its own clean-up closes its pipe.
        for worker in self._workers.difference(idle):
            worker.process.kill()
        self._workers.clear()
        for worker in idle:
            if worker.ready or worker.conn.poll():
                with contextlib.suppress(OSError):
                    worker.conn.send(None)  # finish: the worker exits on its own
            else:
                # Still importing or warming up (seconds): it holds no work, and would
                # only read the request to stop once it is done. Stop it now.
                worker.process.kill()
        with anyio.CancelScope(shield=True):
            async with anyio.create_task_group() as group:
                for worker in idle:
                    group.start_soon(self._stop, worker, STOP_TIMEOUT_S)

    @property
    def pids(self) -> list[int]:
        """Process ids of the live workers."""
        return [worker.process.pid for worker in self._workers if worker.process.pid]

    async def call(self, fn: Callable[..., T], *args: Any, timeout_s: float) -> T:
        """Run ``fn(*args)`` in a worker, killing it after ``timeout_s`` seconds."""
        if not self._started or self._closing:
            raise RuntimeError("the worker pool is not running; use 'async with'")
        worker = await self._take()
        healthy = False
        try:
            await self._wait_ready(worker)
            await anyio.to_thread.run_sync(worker.conn.send, (fn, args))
            with anyio.move_on_after(timeout_s) as deadline:
                status, value = await self._reply(worker)
            if deadline.cancelled_caught:
                raise WorkerTimeoutError(timeout_s)
            if status == "memory":
                raise WorkerMemoryError(self.max_memory_mb)
            healthy = True
            if status == "error":
                error, trace = value
                log.debug("job worker %s raised:\n%s", worker.process.pid, trace)
                raise error
            result: T = value
            return result
        finally:
            with anyio.CancelScope(shield=True):
                if healthy and not self._closing:
                    self._release(worker)
                else:
                    await self._replace(worker)

    # ------------------------------------------------------------------ internals

    async def _start(self) -> _Worker:
        def spawn() -> _Worker:
            parent_end, child_end = self._context.Pipe()
            process = self._context.Process(
                target=_worker_main,
                args=(child_end, self.warm_up, self.max_memory_mb),
                name="jacameno-job-worker",
                daemon=True,
            )
            process.start()
            child_end.close()  # the child's death then reads as EOF here
            return _Worker(process, parent_end)

        worker = await anyio.to_thread.run_sync(spawn)
        self._workers.add(worker)
        return worker

    async def _wait_ready(self, worker: _Worker) -> None:
        if worker.ready:
            return
        with anyio.move_on_after(START_TIMEOUT_S):
            status, problem = await self._receive(worker)
            if status != "ready":
                raise WorkerCrashedError(f"the worker process sent {status!r} while starting")
            if problem:
                log.warning("job worker %s: %s", worker.process.pid, problem)
            worker.ready = True
            return
        raise WorkerCrashedError(f"the worker process did not start in {START_TIMEOUT_S:g} s")

    async def _reply(self, worker: _Worker) -> tuple[str, Any]:
        if not self.max_memory_mb or worker.process.pid is None:
            return await self._receive(worker)
        crashed: WorkerCrashedError | None = None
        reply: tuple[str, Any] = ("memory", None)
        async with anyio.create_task_group() as group:
            group.start_soon(self._watch_memory, worker, worker.process.pid)
            try:
                reply = await self._receive(worker)
            except WorkerCrashedError as exc:
                crashed = exc
            group.cancel_scope.cancel()
        if crashed is not None and not worker.over_memory:
            raise crashed
        return reply

    async def _watch_memory(self, worker: _Worker, pid: int) -> None:
        limit = self.max_memory_mb * _MB
        while True:
            sizes = _memory_bytes(pid)
            if sizes is None:
                return
            if sizes[1] > limit:
                worker.over_memory = True
                worker.process.kill()  # the pipe then reads EOF
                return
            await anyio.sleep(self.memory_poll_s)

    async def _receive(self, worker: _Worker) -> tuple[str, Any]:
        await anyio.wait_readable(worker.conn)
        try:
            # Off the loop: a large reply may still be arriving.
            message: tuple[str, Any] = await anyio.to_thread.run_sync(worker.conn.recv)
        except (EOFError, OSError):
            await anyio.to_thread.run_sync(worker.process.join, STOP_TIMEOUT_S)
            code = worker.process.exitcode
            raise WorkerCrashedError(
                f"the worker process exited with {_describe_exit(code)}"
            ) from None
        return message

    def _release(self, worker: _Worker) -> None:
        self._idle.append(worker)
        self._idle_count.release()

    async def _take(self) -> _Worker:
        """An idle worker: one that has started if any (a replacement may still be
        starting), else the one started first."""
        await self._idle_count.acquire()
        ready = [w for w in self._idle if w.ready or w.conn.poll()]
        worker = ready[0] if ready else self._idle[0]
        self._idle.remove(worker)
        return worker

    async def _replace(self, worker: _Worker) -> None:
        """Kill ``worker`` and, unless the pool is closing, put a fresh one in its place."""
        self._workers.discard(worker)
        await self._stop(worker, 0.0)
        if self._closing:
            return
        try:
            fresh = await self._start()
        except Exception:
            log.exception("cannot start a job worker process")
            return
        if self._closing:
            await self._stop(fresh, 0.0)
        else:
            self._release(fresh)

    async def _stop(self, worker: _Worker, grace_s: float) -> None:
        process = worker.process
        if grace_s > 0:
            await anyio.to_thread.run_sync(process.join, grace_s)
        if process.is_alive():
            process.kill()
        await anyio.to_thread.run_sync(process.join, STOP_TIMEOUT_S)
        worker.conn.close()


def _describe_exit(code: int | None) -> str:
    if code is None:
        return "no status yet"
    if code < 0:
        try:
            return f"signal {signal.Signals(-code).name}"
        except ValueError:
            return f"signal {-code}"
    return f"status {code}"


__all__ = [
    "START_TIMEOUT_S",
    "WorkerLimitError",
    "WorkerMemoryError",
    "WorkerPool",
    "WorkerTimeoutError",
]
