"""Jobs on saq workers (Redis): :class:`SaqRunner` in the serve process that enqueues
them, :func:`run_saq_job` in ``jacameno worker``.

**Progress.** The worker reports :func:`~audio_services.jobs.execute.execute`'s
progress as the saq job's ``progress`` (an update, which saq publishes on Redis).
The serve process awaiting the job listens to those updates and forwards a rising
value, at most one per :data:`PROGRESS_INTERVAL_S`, to the processor's progress
callback (the ``jobs`` row and the document), as the in-process runner does.

**One run at a time.** saq can hand one job to two workers: its sweep takes a job
caught between dequeue and start for a stuck one, aborts it (the starting worker
writes ``active`` over the abort) and retries it while the first worker carries
on; a worker whose event loop stalls past the heartbeat is retried while it may
still compute. So each run holds a lease on Redis (:class:`RunLease`, renewed with
every heartbeat, lapsing :data:`LEASE_S` after its holder stops). Another attempt
waits for the lease, then reads the ledger: an outcome recorded meanwhile is
returned, not computed again. A run that lost its lease stops.
"""

from __future__ import annotations

import logging
import math
import uuid
from collections.abc import Callable
from typing import Any

import anyio

from jacameno.audio_services.jobs import compute as compute_module
from jacameno.audio_services.jobs.compute import Computed
from jacameno.audio_services.jobs.execute import execute
from jacameno.audio_services.jobs.protocol import (
    JobLedger,
    JobOutcome,
    JobTicket,
    ProgressCallback,
)
from jacameno.audio_services.jobs.runners import compute_in_worker, timeout_for

__all__ = [
    "HEARTBEAT_S",
    "LEASE_S",
    "PROGRESS_INTERVAL_S",
    "SAQ_FUNCTION",
    "SAQ_TIMEOUT_GRACE_S",
    "RunLease",
    "SaqRunner",
    "run_saq_job",
]

log = logging.getLogger("jacameno.jobs")

#: Name of the saq function that runs a ticket in a worker.
SAQ_FUNCTION = "run_job"
#: Seconds between a worker's heartbeats; saq retries a job silent for 6 of them.
HEARTBEAT_S = 5
#: Seconds saq waits past a job's own time limit: the worker stops the job first, and
#: records why, so saq's timeout only fires when the worker itself is stuck.
SAQ_TIMEOUT_GRACE_S = 30
#: Seconds a run's lease lasts without a heartbeat (as long as saq waits for one).
LEASE_S = HEARTBEAT_S * 6
#: Seconds between two progress values the serve process forwards to the document.
PROGRESS_INTERVAL_S = 0.5
#: Seconds between reads of a saq job when no update was heard (a missed publication).
POLL_S = 1.0
#: Seconds between tries of a lease another run holds.
LEASE_POLL_S = 1.0
_LEASE_PREFIX = "jacameno:job-lease:"
_TERMINAL = frozenset({"complete", "failed", "aborted"})
_RENEW = (
    "if redis.call('GET', KEYS[1]) == ARGV[1] then"
    " return redis.call('PEXPIRE', KEYS[1], ARGV[2]) else return 0 end"
)
_RELEASE = (
    "if redis.call('GET', KEYS[1]) == ARGV[1] then"
    " return redis.call('DEL', KEYS[1]) else return 0 end"
)


class RunLease:
    """The right to run job ``job_id`` now, on Redis (``redis``: a redis.asyncio client):
    one holder at a time, lapsing ``ttl_s`` after its last renewal."""

    def __init__(self, redis: Any, job_id: str, ttl_s: float = LEASE_S) -> None:
        self.redis = redis
        self.key = _LEASE_PREFIX + job_id
        self.token = uuid.uuid4().hex
        self.ttl_ms = int(ttl_s * 1000)
        self.held = False

    async def acquire(self) -> bool:
        """Take the lease if nobody holds it."""
        self.held = bool(await self.redis.set(self.key, self.token, nx=True, px=self.ttl_ms))
        return self.held

    async def wait(self) -> None:
        """Take the lease, waiting while another run holds it."""
        # The holder is in another process: nothing to wait on but Redis itself.
        while not await self.acquire():  # noqa: ASYNC110
            await anyio.sleep(LEASE_POLL_S)

    async def renew(self) -> bool:
        """Extend the lease; False when it lapsed (another run may hold it now)."""
        self.held = bool(await self.redis.eval(_RENEW, 1, self.key, self.token, self.ttl_ms))
        return self.held

    async def release(self) -> None:
        if self.held:
            self.held = False
            await self.redis.eval(_RELEASE, 1, self.key, self.token)

    @staticmethod
    async def taken(redis: Any, job_id: str) -> bool:
        """Whether some run holds job ``job_id``'s lease."""
        return bool(await redis.exists(_LEASE_PREFIX + job_id))


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
            heartbeat=LEASE_S,
            retries=self.max_attempts,
            retry_delay=1.0,
            retry_backoff=30.0,
            ttl=24 * 3600,
        )
        # Enqueueing under the job's key is a no-op while saq still holds the job.
        await self.queue.enqueue(job)
        saq_job = None
        with anyio.move_on_after(float(timeout * self.max_attempts + 60)):
            saq_job = await self._follow(ticket.job_id, progress)
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

    async def _follow(self, key: str, progress: ProgressCallback) -> Any:
        """The saq job ``key`` once it ended (and no run holds its lease), after forwarding
        its rising progress, throttled. Woken by saq's publications, read again every
        ``POLL_S`` in case one was missed (publications are not queued for us)."""
        wake = [anyio.Event()]

        def heard(_key: str, _status: Any) -> bool:
            wake[0].set()
            return False

        async with anyio.create_task_group() as group:
            group.start_soon(self.queue.listen, [key], heard, None)
            sent, sent_at = 0.0, -math.inf
            while True:
                wake[0] = anyio.Event()
                job = await self.queue.job(key)
                ended = job is None or getattr(job.status, "value", job.status) in _TERMINAL
                # A superseded run may end first; wait for the one holding the lease.
                if ended and not await RunLease.taken(self.queue.redis, key):
                    group.cancel_scope.cancel()
                    return job
                wait = POLL_S
                fraction = float(job.progress or 0.0) if job is not None else 0.0
                if sent < fraction < 1.0:
                    due = sent_at + PROGRESS_INTERVAL_S - anyio.current_time()
                    if due <= 0:
                        await progress(fraction)
                        sent, sent_at = fraction, anyio.current_time()
                    else:
                        wait = due
                with anyio.move_on_after(wait):
                    await wake[0].wait()

    async def attach(self, ticket: JobTicket) -> JobOutcome | None:
        async def no_progress(_fraction: float) -> None:
            return None

        # Enqueueing under the job's key is a no-op while saq still holds the job.
        return await self.run(ticket, no_progress)


async def run_saq_job(ctx: Any, *, ticket: dict[str, Any]) -> str:
    """The saq function: execute a ticket in a killable worker process.

    ``ctx`` (set by the worker's start-up) holds ``assets``, ``ledger``,
    ``workers`` (a started :class:`WorkerPool`) and ``max_duration_s``; optionally
    ``redis`` (the queue's client: runs then hold a :class:`RunLease`), ``compute``
    and ``timeouts`` (seconds per kind). A dead worker process raises
    :class:`WorkerCrashedError`, so saq retries the attempt; a job past its limits
    is recorded as failed. Progress goes to the saq job (``ctx["job"]``).
    """
    job_ticket = JobTicket.from_json(ticket)
    saq_job = ctx.get("job")
    ledger: JobLedger = ctx["ledger"]
    compute: Callable[..., Computed] = ctx.get("compute") or compute_module.compute
    lease = RunLease(ctx["redis"], job_ticket.job_id) if ctx.get("redis") is not None else None

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

    async def report(fraction: float) -> None:
        if saq_job is not None:
            await saq_job.update(progress=fraction)  # a heartbeat too

    status = "superseded"
    async with anyio.create_task_group() as group:

        async def heartbeat() -> None:
            while True:
                await anyio.sleep(HEARTBEAT_S)
                if saq_job is not None:
                    await saq_job.update()
                if lease is not None and lease.held and not await lease.renew():
                    log.error("job %s: its run lease lapsed; stopping this run", lease.key)
                    group.cancel_scope.cancel()
                    return

        group.start_soon(heartbeat)
        try:
            if lease is not None:
                await lease.wait()
            row = await ledger.get(job_ticket.job_id)
            if row is not None and row.status in ("done", "failed"):
                log.info("job %s was %s already; not run again", job_ticket.job_id, row.status)
                status = row.status
            else:
                attempt = getattr(saq_job, "attempts", 0)
                log.info(
                    "job run %s",
                    job_ticket.job_id,
                    extra={
                        "job_id": job_ticket.job_id,
                        "kind": job_ticket.kind,
                        "attempt": attempt,
                    },
                )
                outcome = await execute(
                    job_ticket, assets=ctx["assets"], ledger=ledger, call=call, progress=report
                )
                status = outcome.status
        finally:
            group.cancel_scope.cancel()
            if lease is not None:
                with anyio.CancelScope(shield=True):
                    await lease.release()
    return status
