"""Where jobs execute: :class:`ProcessPoolRunner` (default, in the serve process) and
:class:`SaqRunner` (saq workers on Redis, ``jacameno worker``).

Both call :func:`~audio_services.jobs.execute.execute`; the DSP never runs on an
event loop: in a spawned process pool here, in a thread of a worker process there.
"""

from __future__ import annotations

import logging
import multiprocessing
from collections.abc import Callable
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from types import TracebackType
from typing import Any

import anyio

from audio_services.jobs import compute as compute_module
from audio_services.jobs.compute import Computed
from audio_services.jobs.execute import execute
from audio_services.jobs.protocol import (
    DEFAULT_TIMEOUTS_S,
    AssetStore,
    JobLedger,
    JobOutcome,
    JobTicket,
    ProgressCallback,
)

log = logging.getLogger("jacameno.jobs")

#: Name of the saq function that runs a ticket in a worker.
SAQ_FUNCTION = "run_job"
#: Seconds between a worker's heartbeats; saq retries a job silent for 6 of them.
HEARTBEAT_S = 5


def timeout_for(kind: str, timeouts: dict[str, int] | None = None) -> int:
    """Seconds one attempt of a ``kind`` job may take."""
    return (timeouts or DEFAULT_TIMEOUTS_S).get(kind, 600)


def internal_error(ticket: JobTicket, exc: BaseException) -> str:
    return f"the {ticket.kind} service failed unexpectedly ({type(exc).__name__}: {exc})"


class ProcessPoolRunner:
    """Runs jobs in a bounded pool of spawned processes owned by the serve process.

    A job whose process dies (``BrokenProcessPool``) is retried on a fresh pool up
    to ``max_attempts`` times; an attempt past its kind's timeout fails the job.
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
        compute: Callable[..., Computed] = compute_module.compute,
    ) -> None:
        self.assets = assets
        self.ledger = ledger
        #: The picklable function run in the pool (the seam tests use to crash a worker).
        self.compute = compute
        self.max_workers = max_workers
        self.max_duration_s = max_duration_s
        self.max_attempts = max_attempts
        self.warm_up = warm_up
        self.timeouts = timeouts
        self._pool: ProcessPoolExecutor | None = None

    async def __aenter__(self) -> ProcessPoolRunner:
        self._pool = self._new_pool()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        pool, self._pool = self._pool, None
        if pool is not None:
            await anyio.to_thread.run_sync(lambda: pool.shutdown(wait=True, cancel_futures=True))

    def _new_pool(self) -> ProcessPoolExecutor:
        # spawn, not fork: the serve process has threads (fork would copy held locks).
        return ProcessPoolExecutor(
            max_workers=self.max_workers,
            mp_context=multiprocessing.get_context("spawn"),
            initializer=compute_module.warm_up if self.warm_up else None,
        )

    async def _call(self, ticket: JobTicket, files: dict[str, str], workdir: str) -> Computed:
        if self._pool is None:
            raise RuntimeError("the process pool runner is not started; use 'async with'")
        future: Future[Computed] = self._pool.submit(
            self.compute,
            ticket.kind,
            ticket.params,
            ticket.inputs,
            files,
            workdir,
            self.max_duration_s,
        )
        with anyio.fail_after(timeout_for(ticket.kind, self.timeouts)):
            return await anyio.to_thread.run_sync(future.result, abandon_on_cancel=True)

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
            except BrokenProcessPool as exc:
                log.warning("job %s: worker process died (attempt %d)", ticket.job_id, attempt)
                self._pool = self._new_pool()
                error = f"the worker process died {attempt} times running this job ({exc})"
            except TimeoutError:
                error = (
                    f"the {ticket.kind} job took longer than"
                    f" {timeout_for(ticket.kind, self.timeouts)} s and was stopped"
                )
                break
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
    side reads once the saq job completes.
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

        timeout = timeout_for(ticket.kind, self.timeouts)
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
    """The saq function: execute a ticket in a worker (``ctx`` holds ``assets``,
    ``ledger`` and ``max_duration_s``, set by the worker's start-up)."""
    job_ticket = JobTicket.from_json(ticket)
    saq_job = ctx.get("job")

    async def call(run: JobTicket, files: dict[str, str], workdir: str) -> Computed:
        return await anyio.to_thread.run_sync(
            compute_module.compute,
            run.kind,
            run.params,
            run.inputs,
            files,
            workdir,
            float(ctx["max_duration_s"]),
            abandon_on_cancel=True,
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
