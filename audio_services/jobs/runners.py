"""Where jobs execute: :class:`ProcessPoolRunner` (default, in the serve process), or
:class:`~audio_services.jobs.saq_runner.SaqRunner` (saq workers on Redis,
``jacameno worker``; :mod:`.saq_runner`).

Both call :func:`~audio_services.jobs.execute.execute` with the DSP in a killable
worker process (:class:`~audio_services.jobs.workers.WorkerPool`): in the serve
process here, in the ``jacameno worker`` process there. A job past its kind's time
limit or the memory limit is killed and fails with that reason; a worker that
dies by itself is retried.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from types import TracebackType

from jacameno.audio_services.jobs import compute as compute_module
from jacameno.audio_services.jobs.compute import Computed
from jacameno.audio_services.jobs.execute import execute
from jacameno.audio_services.jobs.protocol import (
    DEFAULT_TIMEOUTS_S,
    AssetStore,
    JobLedger,
    JobLimitError,
    JobOutcome,
    JobRunner,
    JobTicket,
    ProgressCallback,
    WorkerCrashedError,
)
from jacameno.audio_services.jobs.workers import WorkerMemoryError, WorkerPool, WorkerTimeoutError

log = logging.getLogger("jacameno.jobs")


def timeout_for(kind: str, timeouts: dict[str, int] | None = None) -> int:
    """Seconds one attempt of a ``kind`` job may take."""
    return (timeouts or DEFAULT_TIMEOUTS_S).get(kind, 600)


def internal_error(ticket: JobTicket, exc: BaseException) -> str:
    return f"the {ticket.kind} service failed unexpectedly ({type(exc).__name__}: {exc})"


async def compute_in_worker(
    pool: WorkerPool,
    compute: Callable[..., Computed],
    ticket: JobTicket,
    files: dict[str, str],
    workdir: str,
    *,
    max_duration_s: float,
    timeout_s: float,
) -> Computed:
    """``compute`` for ``ticket`` in a worker of ``pool``; a limit becomes a
    :class:`JobLimitError` whose message is for the user."""
    try:
        return await pool.call(
            compute,
            ticket.kind,
            ticket.params,
            ticket.inputs,
            files,
            workdir,
            max_duration_s,
            timeout_s=timeout_s,
        )
    except WorkerTimeoutError as exc:
        raise JobLimitError(
            f"the {ticket.kind} job took longer than {exc.seconds:g} s and was stopped"
        ) from exc
    except WorkerMemoryError as exc:
        raise JobLimitError(
            f"the {ticket.kind} job used more than {exc.megabytes} MB of memory and was stopped"
        ) from exc


class ProcessPoolRunner:
    """Runs jobs in ``max_workers`` killable worker processes owned by the serve process.

    A job whose worker dies by itself is retried on a fresh worker up to
    ``max_attempts`` times; a job past its kind's timeout (``timeouts``) or past
    ``max_memory_mb`` of resident memory is killed and fails at once.
    """

    def __init__(
        self,
        *,
        assets: AssetStore,
        ledger: JobLedger,
        max_workers: int,
        max_duration_s: float,
        max_attempts: int = 3,
        warm_up: bool = True,
        timeouts: dict[str, int] | None = None,
        max_memory_mb: int = 0,
        compute: Callable[..., Computed] = compute_module.compute,
    ) -> None:
        self.assets = assets
        self.ledger = ledger
        #: The picklable function run in a worker (the seam tests use to misbehave).
        self.compute = compute
        self.max_workers = max_workers
        self.max_duration_s = max_duration_s
        self.max_attempts = max_attempts
        self.warm_up = warm_up
        self.timeouts = timeouts
        self.max_memory_mb = max_memory_mb
        self._pool: WorkerPool | None = None

    async def __aenter__(self) -> ProcessPoolRunner:
        pool = WorkerPool(
            self.max_workers,
            warm_up=compute_module.warm_up if self.warm_up else None,
            max_memory_mb=self.max_memory_mb,
        )
        self._pool = await pool.__aenter__()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        pool, self._pool = self._pool, None
        if pool is not None:
            await pool.__aexit__(exc_type, exc, tb)

    @property
    def workers(self) -> WorkerPool:
        """The worker processes (started by ``async with``)."""
        if self._pool is None:
            raise RuntimeError("the process pool runner is not started; use 'async with'")
        return self._pool

    async def _call(self, ticket: JobTicket, files: dict[str, str], workdir: str) -> Computed:
        return await compute_in_worker(
            self.workers,
            self.compute,
            ticket,
            files,
            workdir,
            max_duration_s=self.max_duration_s,
            timeout_s=timeout_for(ticket.kind, self.timeouts),
        )

    async def run(self, ticket: JobTicket, progress: ProgressCallback) -> JobOutcome:
        for attempt in range(1, self.max_attempts + 1):
            try:
                return await execute(
                    ticket,
                    assets=self.assets,
                    ledger=self.ledger,
                    call=self._call,
                    progress=progress,
                )
            except WorkerCrashedError as exc:
                log.warning("job %s: %s (attempt %d)", ticket.job_id, exc, attempt)
                error = f"the worker process died {attempt} times running this job ({exc})"
            except Exception as exc:
                log.exception("job %s failed unexpectedly", ticket.job_id)
                error = internal_error(ticket, exc)
                break
        await self.ledger.fail(ticket.job_id, error)
        return JobOutcome("failed", error=error)

    async def attach(self, ticket: JobTicket) -> JobOutcome | None:
        # In-process jobs die with their process; start-up requeues them instead.
        return None


class KindRoutedRunner:
    """A :class:`JobRunner` that hands each kind in ``by_kind`` to its own runner
    (``lyrics`` to the lyrics service) and every other kind to ``default``."""

    def __init__(self, default: JobRunner, by_kind: Mapping[str, JobRunner]) -> None:
        self.default = default
        self.by_kind = dict(by_kind)

    def _for(self, ticket: JobTicket) -> JobRunner:
        return self.by_kind.get(ticket.kind, self.default)

    async def run(self, ticket: JobTicket, progress: ProgressCallback) -> JobOutcome:
        return await self._for(ticket).run(ticket, progress)

    async def attach(self, ticket: JobTicket) -> JobOutcome | None:
        return await self._for(ticket).attach(ticket)
