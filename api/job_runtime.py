"""The job runtime the lifespan (or ``jacameno worker``) opens, and the adapters that
let ``audio_services.jobs`` use our database and object store.

- :class:`~api.job_ledger.SqlJobLedger`: job rows (:mod:`api.job_ledger`).
- :class:`~api.asset_store.StoreAssetStore`: assets in the object store plus their
  ``assets`` rows (:mod:`api.asset_store`).
- :class:`RateLimitAdmission`: jobs peers write into documents pass the AI rate limit.
- :func:`open_job_runtime`: the coordinator with the runner ``Settings`` asks for.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from typing import Any

from jacameno.api.asset_store import (
    StoreAssetStore,
    asset_key,
    project_folder,
    read_object,
    sidecar_key,
)
from jacameno.api.auth.actors import owner_of, parse_actor
from jacameno.api.db import Database
from jacameno.api.errors import RateLimitedError
from jacameno.api.job_ledger import SWEEP_WINDOW, SqlJobLedger
from jacameno.api.quota import StorageQuota
from jacameno.api.ratelimit import RateLimits
from jacameno.api.settings import Settings
from jacameno.api.storage import ObjectStore
from jacameno.audio_services.jobs.coordinator import JobCoordinator
from jacameno.audio_services.jobs.protocol import JobRefusedError
from jacameno.audio_services.jobs.runners import KindRoutedRunner, ProcessPoolRunner
from jacameno.audio_services.jobs.saq_runner import SaqRunner
from jacameno.audio_services.lyrics.job import LyricsJobRunner
from jacameno.audio_services.lyrics.service import LyricsService
from jacameno.collab.server import RoomServer

#: Re-exported: the worker, the demo and tests import these from here.
__all__ = [
    "SAQ_QUEUE",
    "SWEEP_WINDOW",
    "RateLimitAdmission",
    "SqlJobLedger",
    "StoreAssetStore",
    "asset_key",
    "open_job_runtime",
    "project_folder",
    "read_object",
    "saq_queue",
    "sidecar_key",
]

#: Name of the saq queue on Redis.
SAQ_QUEUE = "jacameno-jobs"


def rate_rule_for(kind: str) -> str:
    """The rate limit a ``kind`` job request counts against."""
    return "lyrics_user" if kind == "lyrics" else "ai_user"


class RateLimitAdmission:
    """:class:`audio_services.jobs.protocol.JobAdmission` over the rate limits REST
    requests count against: ``lyrics_user`` for lyrics, ``ai_user`` for the rest."""

    def __init__(self, rate_limits: RateLimits) -> None:
        self.rate_limits = rate_limits

    async def admit(self, actor: str, project_id: str, kind: str) -> None:
        try:
            await self.rate_limits.hit(rate_rule_for(kind), actor)
        except RateLimitedError as exc:
            raise JobRefusedError(
                f"rate limited: {exc.message}", retry_after_s=exc.retry_after_s
            ) from None


def saq_queue(redis_url: str) -> Any:
    """The saq queue on ``redis_url`` (not connected yet)."""
    from saq import Queue

    return Queue.from_url(redis_url, name=SAQ_QUEUE)


@asynccontextmanager
async def open_job_runtime(
    settings: Settings,
    database: Database,
    store: ObjectStore,
    rooms: RoomServer,
    rate_limits: RateLimits,
    lyrics: LyricsService,
) -> AsyncIterator[JobCoordinator]:
    """The job coordinator and its runner, started; stopped in reverse on exit.

    Jobs peers write into documents count against ``rate_limits`` like REST requests.
    ``lyrics`` jobs run on ``lyrics`` in this process; the other kinds on the runner
    the settings choose.
    """
    ledger = SqlJobLedger(database)
    async with AsyncExitStack() as stack:
        runner: ProcessPoolRunner | SaqRunner
        if settings.uses_saq:
            assert settings.redis_url is not None
            queue = saq_queue(settings.redis_url)
            await queue.connect()
            stack.push_async_callback(queue.disconnect)
            runner = SaqRunner(queue, ledger=ledger, max_attempts=settings.job_max_attempts)
        else:
            runner = await stack.enter_async_context(
                ProcessPoolRunner(
                    assets=StoreAssetStore(
                        database, store, StorageQuota(settings.storage_quota_mb_per_user)
                    ),
                    ledger=ledger,
                    max_workers=settings.job_workers,
                    max_duration_s=settings.max_audio_duration_s,
                    max_attempts=settings.job_max_attempts,
                    warm_up=settings.job_warm_up,
                    max_memory_mb=settings.job_max_memory_mb,
                )
            )

        async def owner(actor: str) -> str | None:
            try:
                parsed = parse_actor(actor)
            except ValueError:
                return None
            async with database.session() as session:
                return await owner_of(session, parsed)

        routed = KindRoutedRunner(runner, {"lyrics": LyricsJobRunner(lyrics, ledger, owner)})
        coordinator = await stack.enter_async_context(
            JobCoordinator(
                rooms,
                ledger,
                routed,
                admission=RateLimitAdmission(rate_limits),
                max_concurrent=settings.job_workers,
                max_active_per_requester=settings.job_max_active_per_user,
                max_attempts=settings.job_max_attempts,
                # saq sweeps its own stuck jobs; a running row may belong to a live worker.
                recover_orphans=not settings.uses_saq,
            )
        )
        yield coordinator
