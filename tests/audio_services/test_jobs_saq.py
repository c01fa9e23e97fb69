"""saq runs on real Redis: one run of a job at a time (the run lease)."""

from __future__ import annotations

import os
from functools import partial
from pathlib import Path
from typing import Any

import anyio
import pytest

from jacameno.audio_services.jobs import JobTicket
from jacameno.audio_services.jobs.saq_runner import RunLease, run_saq_job
from jacameno.audio_services.jobs.workers import WorkerPool
from tests.audio_services.test_jobs_crashers import counted, open_gate, wait_started
from tests.audio_services.test_jobs_runner import MemoryLedger, NoAssets


class SpyRedis:
    """A Redis client that tells when it was refused a lease."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner
        self.refused = anyio.Event()

    async def set(self, *args: Any, **kwargs: Any) -> Any:
        taken = await self.inner.set(*args, **kwargs)
        if not taken:
            self.refused.set()
        return taken

    async def eval(self, *args: Any) -> Any:
        return await self.inner.eval(*args)


@pytest.mark.redis
async def test_a_second_attempt_of_a_running_job_waits_and_does_not_run_it_again(
    tmp_path: Path, redis_url: str
) -> None:
    from redis.asyncio import Redis

    started, gate, runs = tmp_path / "started", tmp_path / "gate", tmp_path / "runs"
    os.mkfifo(started)
    os.mkfifo(gate)
    runs.mkdir()
    ledger = MemoryLedger()
    ticket = JobTicket("twice", "p1", "analysis", {}, {})
    await ledger.ensure(ticket)  # claimed: running
    redis = Redis.from_url(redis_url)
    spy = SpyRedis(redis)
    statuses: list[str] = []
    try:
        async with WorkerPool(2) as pool:
            ctx: dict[str, Any] = {
                "assets": NoAssets(),
                "ledger": ledger,
                "workers": pool,
                "max_duration_s": 60.0,
                "compute": partial(counted, str(started), str(gate), str(runs)),
            }

            async def attempt(client: Any) -> None:
                statuses.append(
                    await run_saq_job({**ctx, "redis": client}, ticket=ticket.to_json())
                )

            with anyio.fail_after(60):
                async with anyio.create_task_group() as group:
                    group.start_soon(attempt, redis)
                    # The first run computes; a second attempt of the same job (as saq's
                    # sweep makes) is refused the lease while it does.
                    await anyio.to_thread.run_sync(
                        wait_started, str(started), abandon_on_cancel=True
                    )
                    group.start_soon(attempt, spy)
                    await spy.refused.wait()
                    await anyio.to_thread.run_sync(open_gate, str(gate), abandon_on_cancel=True)
        # The second took the lease once the first let go, found the outcome, ran nothing.
        assert statuses == ["done", "done"]
        assert len(list(runs.iterdir())) == 1
        assert not await RunLease.taken(redis, "twice")
    finally:
        await redis.aclose()


@pytest.mark.redis
async def test_a_lease_is_held_by_one_run_and_lapses(redis_url: str) -> None:
    from redis.asyncio import Redis

    redis = Redis.from_url(redis_url)
    try:
        first, second = RunLease(redis, "j"), RunLease(redis, "j", ttl_s=0.2)
        assert await first.acquire()
        assert not await second.acquire()
        assert await first.renew()
        await first.release()
        assert await second.acquire()
        # Another run's release or renewal does not touch a lease it does not hold.
        assert not await first.renew()
        await first.release()
        assert await RunLease.taken(redis, "j")
    finally:
        await redis.aclose()
