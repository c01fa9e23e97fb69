"""``jacameno worker``: a saq worker that runs audio jobs for the serve processes.

It opens its own database engine and object store, takes tickets from the Redis
queue, runs the DSP in killable worker processes (one per unit of concurrency,
with the same time and memory limits as ``serve``; the event loop keeps the
heartbeats going), and records outcomes in the ``jobs`` rows and the object
store. The serve process that enqueued a job writes the outcome into the project
document.
"""

from __future__ import annotations

import signal
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

import anyio
import structlog

from jacameno.api.db import Database
from jacameno.api.job_runtime import SqlJobLedger, StoreAssetStore, saq_queue
from jacameno.api.quota import StorageQuota
from jacameno.api.settings import Settings, SettingsError
from jacameno.api.storage import open_object_store
from jacameno.audio_services.jobs import AssetStore
from jacameno.audio_services.jobs import compute as compute_module
from jacameno.audio_services.jobs.compute import Computed
from jacameno.audio_services.jobs.saq_runner import SAQ_FUNCTION, run_saq_job
from jacameno.audio_services.jobs.workers import WorkerPool

log = structlog.get_logger("jacameno.worker")


@asynccontextmanager
async def running_worker(
    settings: Settings,
    *,
    wrap_assets: Callable[[AssetStore], AssetStore] | None = None,
    compute: Callable[..., Computed] | None = None,
    timeouts: dict[str, int] | None = None,
) -> AsyncIterator[Any]:
    """A started saq worker for ``settings`` (Redis required); stopped on exit.

    ``wrap_assets`` wraps the asset store, ``compute`` replaces the DSP (a picklable
    function) and ``timeouts`` the seconds per job kind (tests inject faults so).
    """
    from saq import Worker
    from saq.types import PartialTimersDict

    if not settings.redis_url:
        raise SettingsError("jacameno worker needs JACAMENO_REDIS_URL (the job queue)")
    database = Database(settings.database_url, pool_size=settings.database_pool_size)
    store = open_object_store(settings)
    queue = saq_queue(settings.redis_url)
    # One process per saq slot: each job gets one at once, and a killed one is replaced.
    processes = WorkerPool(
        settings.job_workers,
        warm_up=compute_module.warm_up if settings.job_warm_up else None,
        max_memory_mb=settings.job_max_memory_mb,
    )

    async def startup(ctx: Any) -> None:
        assets: AssetStore = StoreAssetStore(
            database, store, StorageQuota(settings.storage_quota_mb_per_user)
        )
        ctx["assets"] = wrap_assets(assets) if wrap_assets is not None else assets
        ctx["ledger"] = SqlJobLedger(database)
        ctx["workers"] = processes
        # Each run holds a lease on the queue's Redis: one run of a job at a time.
        ctx["redis"] = queue.redis
        ctx["max_duration_s"] = settings.max_audio_duration_s
        ctx["compute"] = compute
        ctx["timeouts"] = timeouts

    worker = Worker(
        queue,
        functions=[(SAQ_FUNCTION, run_saq_job)],
        concurrency=settings.job_workers,
        startup=startup,
        timers=PartialTimersDict(sweep=5, abort=1, schedule=1, worker_info=10),
    )
    # Signals are handled by whoever runs the worker (run_worker, or a test).
    worker.SIGNALS = []
    try:
        async with processes, anyio.create_task_group() as group:
            group.start_soon(worker.start)
            try:
                yield worker
            finally:
                await worker.stop()
    finally:
        await queue.disconnect()
        await store.aclose()
        await database.aclose()


async def run_worker(settings: Settings) -> None:
    """Run a worker until SIGINT or SIGTERM."""
    stop = anyio.Event()
    with anyio.open_signal_receiver(signal.SIGINT, signal.SIGTERM) as signals:
        async with anyio.create_task_group() as group:

            async def serve() -> None:
                # Each worker process warms itself up (JACAMENO_JOB_WARM_UP).
                async with running_worker(settings):
                    log.info("worker started", concurrency=settings.job_workers)
                    await stop.wait()

            group.start_soon(serve)
            async for _signum in signals:
                stop.set()  # running_worker stops saq gracefully on the way out
                break
    log.info("worker stopped")
