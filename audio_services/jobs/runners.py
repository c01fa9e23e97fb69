"""Where jobs execute: :class:`ProcessPoolRunner` (default, in the serve process) and
:class:`SaqRunner` (saq workers on Redis, ``jacameno worker``).

Both call :func:`~audio_services.jobs.execute.execute` with the DSP in a killable
worker process (:class:`~audio_services.jobs.workers.WorkerPool`): in the serve
process here, in the ``jacameno worker`` process there. A job past its kind's time
limit or the memory limit is killed and fails with that reason; a worker that
dies by itself is retried.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from types import TracebackType
from typing import Any

import anyio

from jacameno.audio_services.jobs import compute as compute_module
from jacameno.audio_services.jobs.compute import Computed
from jacameno.audio_services.jobs.execute import execute
from jacameno.audio_services.jobs.protocol import (
    DEFAULT_TIMEOUTS_S,
    AssetStore,
    JobLedger,
    JobLimitError,
    JobOutcome,
    JobTicket,
    ProgressCallback,
    WorkerCrashedError,
)
from jacameno.audio_services.jobs.workers import WorkerMemoryError, WorkerPool, WorkerTimeoutError

log = logging.getLogger("jacameno.jobs")

#: Name of the saq function that runs a ticket in a worker.
SAQ_FUNCTION = "run_job"
#: Seconds between a worker's heartbeats; saq retries a job silent for 6 of them.
HEARTBEAT_S = 5
#: Seconds saq waits past a job's own time limit: the worker stops the job first, and
#: records why, so saq's timeout only fires when the worker itself is stuck.
SAQ_TIMEOUT_GRACE_S = 30


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


class SaqRunner:
    """Hands tickets to saq workers on Redis and waits for them.

    saq retries a crashed or silent attempt (heartbeats) up to ``max_attempts``
    times with backoff; the worker records the outcome in the ledger, which this
    side reads once the saq job completes. The worker stops a job at its kind's
    time limit itself; saq's own timeout is ``SAQ_TIMEOUT_GRACE_S`` later.
    """

    def __init__(
        self,
        queue: Any,
        *,
        ledger: JobLedger,
        max_attempts: int = 3,
        timeouts: dict[str, int] | None = None,
    ) -> None:
        self.queue = queue
        self.ledger = ledger
        self.max_attempts = max_attempts
        self.timeouts = timeouts

    async def run(self, ticket: JobTicket, progress: ProgressCallback) -> JobOutcome:
        from saq import Job

        timeout = timeout_for(ticket.kind, self.timeouts) + SAQ_TIMEOUT_GRACE_S
        job = Job(
            function=SAQ_FUNCTION,
            kwargs={"ticket": ticket.to_json()},
            key=ticket.job_id,
            timeout=timeout,
            heartbeat=HEARTBEAT_S * 6,
            retries=self.max_attempts,
            retry_delay=1.0,
            retry_backoff=30.0,
            ttl=24 * 3600,
        )
        enqueued = await self.queue.enqueue(job)
        saq_job = enqueued if enqueued is not None else await self.queue.job(ticket.job_id)
        if saq_job is not None:
            await saq_job.refresh(until_complete=float(timeout * self.max_attempts + 60))
        row = await self.ledger.get(ticket.job_id)
        if row is not None and row.status == "done":
            return JobOutcome("done", result=row.result)
        if row is not None and row.status == "failed":
            return JobOutcome("failed", error=row.error)
        status = getattr(saq_job, "status", None)
        error = (
            f"the {ticket.kind} job did not finish on the workers after"
            f" {self.max_attempts} attempts (saq status {status})"
        )
        await self.ledger.fail(ticket.job_id, error)
        return JobOutcome("failed", error=error)

    async def attach(self, ticket: JobTicket) -> JobOutcome | None:
        async def no_progress(_fraction: float) -> None:
            return None

        # Enqueueing under the job's key is a no-op while saq still holds the job.
        return await self.run(ticket, no_progress)


async def run_saq_job(ctx: Any, *, ticket: dict[str, Any]) -> str:
    """The saq function: execute a ticket in a killable worker process.

    ``ctx`` (set by the worker's start-up) holds ``assets``, ``ledger``,
    ``workers`` (a started :class:`WorkerPool`) and ``max_duration_s``; optionally
    ``compute`` and ``timeouts`` (seconds per kind). A dead worker process raises
    :class:`WorkerCrashedError`, so saq retries the attempt; a job past its limits
    is recorded as failed.
    """
    job_ticket = JobTicket.from_json(ticket)
    saq_job = ctx.get("job")
    compute: Callable[..., Computed] = ctx.get("compute") or compute_module.compute

    async def call(run: JobTicket, files: dict[str, str], workdir: str) -> Computed:
        return await compute_in_worker(
            ctx["workers"],
            compute,
            run,
            files,
            workdir,
            max_duration_s=float(ctx["max_duration_s"]),
            timeout_s=timeout_for(run.kind, ctx.get("timeouts")),
        )

    async with anyio.create_task_group() as group:

        async def heartbeat() -> None:
            while saq_job is not None:
                await anyio.sleep(HEARTBEAT_S)
                await saq_job.update()

        group.start_soon(heartbeat)
        try:
            outcome = await execute(
                job_ticket, assets=ctx["assets"], ledger=ctx["ledger"], call=call
            )
        finally:
            group.cancel_scope.cancel()
    return outcome.status
