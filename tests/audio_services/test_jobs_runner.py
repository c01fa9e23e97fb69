"""The job runner's parts on fakes and real databases: claims, crash retries, time and
memory limits that kill the worker."""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any

import anyio
import pytest

from jacameno.api.db import Database
from jacameno.api.db.migrate import upgrade
from jacameno.api.db.models import Project
from jacameno.api.job_runtime import SqlJobLedger
from jacameno.audio_services.jobs import JobTicket, LedgerRow, StoredAsset
from jacameno.audio_services.jobs.protocol import JobOutcome, WorkerCrashedError
from jacameno.audio_services.jobs.runners import ProcessPoolRunner
from jacameno.audio_services.jobs.saq_runner import run_saq_job
from jacameno.audio_services.jobs.workers import WorkerPool
from tests.audio_services.test_jobs_crashers import crash_always, crash_once, misbehave


class MemoryLedger:
    """A ledger in a dict: enough for a runner (claims are tested on real databases)."""

    def __init__(self) -> None:
        self.rows: dict[str, LedgerRow] = {}

    async def ensure(self, ticket: JobTicket) -> LedgerRow:
        return self.rows.setdefault(
            ticket.job_id, LedgerRow(ticket.job_id, "running", 1, None, None)
        )

    async def claim(self, job_id: str) -> bool:
        return False

    async def get(self, job_id: str) -> LedgerRow | None:
        return self.rows.get(job_id)

    async def find_done(self, project_id: str, kind: str, input_hash: str) -> LedgerRow | None:
        return None

    async def set_progress(self, job_id: str, progress: float) -> None:
        return None

    async def finish(self, job_id: str, result: dict[str, Any]) -> bool:
        self.rows[job_id] = LedgerRow(job_id, "done", 1, result, None)
        return True

    async def fail(self, job_id: str, error: str) -> bool:
        self.rows[job_id] = LedgerRow(job_id, "failed", 1, None, error)
        return True

    async def requeue_orphans(self, max_attempts: int) -> tuple[int, int]:
        return 0, 0

    async def projects_to_sweep(self) -> list[str]:
        return []


class NoAssets:
    async def fetch(self, project_id: str, asset_id: str, directory: Path) -> StoredAsset:
        raise AssertionError("these tickets read no assets")

    async def add(self, project_id: str, path: Path, **kwargs: Any) -> str:
        return "asset-1"

    async def put_sidecar(self, asset_id: str, suffix: str, path: Path) -> None:
        return None


def ticket(tmp_path: Path) -> JobTicket:
    return JobTicket("j1", "p1", "analysis", {}, {"marker": str(tmp_path / "crashed")})


async def test_a_crashed_worker_process_is_retried(tmp_path: Path) -> None:
    ledger = MemoryLedger()

    async def progress(_fraction: float) -> None:
        return None

    async with ProcessPoolRunner(
        assets=NoAssets(),
        ledger=ledger,
        max_workers=1,
        max_duration_s=60,
        warm_up=False,
        compute=crash_once,
    ) as runner:
        outcome = await runner.run(ticket(tmp_path), progress)
    assert outcome.status == "done"
    assert outcome.result == {"ok": True}
    assert (tmp_path / "crashed").exists()


async def test_a_job_that_keeps_crashing_fails_after_max_attempts(tmp_path: Path) -> None:
    ledger = MemoryLedger()

    async def progress(_fraction: float) -> None:
        return None

    async with ProcessPoolRunner(
        assets=NoAssets(),
        ledger=ledger,
        max_workers=1,
        max_duration_s=60,
        max_attempts=2,
        warm_up=False,
        compute=crash_always,
    ) as runner:
        outcome = await runner.run(ticket(tmp_path), progress)
    assert outcome.status == "failed"
    assert "died 2 times" in (outcome.error or "")
    assert ledger.rows["j1"].status == "failed"


async def no_progress(_fraction: float) -> None:
    return None


def gone(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    return False


async def test_a_job_past_its_time_limit_is_killed_while_another_users_job_runs(
    tmp_path: Path,
) -> None:
    ledger = MemoryLedger()
    pid_file = tmp_path / "hung.pid"
    hung = JobTicket(
        "hung", "p1", "analysis", {}, {"behaviour": "hang", "pid_file": str(pid_file)}, "user:a"
    )
    other = JobTicket("other", "p1", "mixing", {}, {"behaviour": "none"}, "user:b")
    outcomes: dict[str, tuple[JobOutcome, float]] = {}
    async with ProcessPoolRunner(
        assets=NoAssets(),
        ledger=ledger,
        max_workers=2,
        max_duration_s=60,
        warm_up=False,
        timeouts={"analysis": 2, "mixing": 60},
        compute=misbehave,
    ) as runner:

        async def run(ticket: JobTicket) -> None:
            started = time.monotonic()
            outcome = await runner.run(ticket, no_progress)
            outcomes[ticket.job_id] = (outcome, time.monotonic() - started)

        with anyio.fail_after(30):
            async with anyio.create_task_group() as group:
                group.start_soon(run, hung)
                await run(other)
                # The other user's job is done while the hung one still holds its worker.
                assert "hung" not in outcomes
        done, took_s = outcomes["other"]
        assert done.status == "done"
        assert took_s < 2
        failed, stopped_after_s = outcomes["hung"]
        assert failed.status == "failed"
        assert failed.error == "the analysis job took longer than 2 s and was stopped"
        assert 2 <= stopped_after_s < 10
        assert ledger.rows["hung"].status == "failed"
        assert ledger.rows["hung"].error == failed.error
        # Its worker was killed and replaced; the pool still runs jobs.
        killed = int(pid_file.read_text())
        assert gone(killed)
        assert killed not in runner.workers.pids
        assert len(runner.workers.pids) == 2
        again = await runner.run(JobTicket("again", "p1", "mixing", {}, {}), no_progress)
        assert again.status == "done"


@pytest.mark.parametrize(
    ("inputs", "caught_by"),
    [
        # Past the address-space limit the worker sets itself: MemoryError at once.
        ({"behaviour": "swell", "megabytes": 2048}, "RLIMIT_AS"),
        # Resident past the limit, address space within it: the parent's watch kills it.
        ({"behaviour": "swell", "megabytes": 288, "hold": True}, "RSS watch"),
    ],
)
async def test_a_job_past_the_memory_limit_is_killed(
    tmp_path: Path, inputs: dict[str, Any], caught_by: str
) -> None:
    ledger = MemoryLedger()
    pid_file = tmp_path / "big.pid"
    big = JobTicket("big", "p1", "mixing", {}, {**inputs, "pid_file": str(pid_file)})
    async with ProcessPoolRunner(
        assets=NoAssets(),
        ledger=ledger,
        max_workers=1,
        max_duration_s=60,
        warm_up=False,
        max_memory_mb=300,
        timeouts={"mixing": 60},
        compute=misbehave,
    ) as runner:
        with anyio.fail_after(30):
            outcome = await runner.run(big, no_progress)
            assert outcome.status == "failed", caught_by
            assert outcome.error == "the mixing job used more than 300 MB of memory and was stopped"
            assert ledger.rows["big"].error == outcome.error
            assert gone(int(pid_file.read_text()))
            after = await runner.run(JobTicket("small", "p1", "mixing", {}, {}), no_progress)
        assert after.status == "done"


async def test_the_saq_worker_function_enforces_the_same_limits(tmp_path: Path) -> None:
    ledger = MemoryLedger()
    async with WorkerPool(1) as pool:
        ctx: dict[str, Any] = {
            "assets": NoAssets(),
            "ledger": ledger,
            "workers": pool,
            "max_duration_s": 60.0,
            "compute": misbehave,
            "timeouts": {"analysis": 1},
        }
        hung = JobTicket("s1", "p1", "analysis", {}, {"behaviour": "hang"})
        with anyio.fail_after(30):
            status = await run_saq_job(ctx, ticket=hung.to_json())
        assert status == "failed"
        assert ledger.rows["s1"].error == "the analysis job took longer than 1 s and was stopped"
        # A worker that dies by itself is raised, so that saq retries the attempt.
        with pytest.RaisesGroup(WorkerCrashedError), anyio.fail_after(30):
            await run_saq_job({**ctx, "compute": crash_always}, ticket=ticket(tmp_path).to_json())
        with anyio.fail_after(30):
            ok = JobTicket("s2", "p1", "analysis", {}, {})
            assert await run_saq_job(ctx, ticket=ok.to_json()) == "done"


async def test_only_one_of_many_concurrent_claims_wins(db_url: str) -> None:
    await upgrade(db_url)
    database = Database(db_url)
    try:
        async with database.session() as session:
            project = Project(name="claims")
            session.add(project)
        ledger = SqlJobLedger(database)
        job = JobTicket("c" * 32, project.id, "mixing", {"preset": "pop"}, {"stems": []})
        rows = []
        async with anyio.create_task_group() as group:
            for _ in range(4):
                group.start_soon(lambda: _append(rows, ledger.ensure(job)))
        assert {row.status for row in rows} == {"queued"}
        wins: list[bool] = []
        async with anyio.create_task_group() as group:
            for _ in range(8):
                group.start_soon(lambda: _append(wins, ledger.claim(job.job_id)))
        assert sorted(wins) == [False] * 7 + [True]
        row = await ledger.get(job.job_id)
        assert row is not None
        assert (row.status, row.attempts) == ("running", 1)
        assert await ledger.finish(job.job_id, {"render_asset_id": "a"})
        assert not await ledger.fail(job.job_id, "too late")
        reuse = await ledger.find_done(project.id, "mixing", job.input_hash)
        assert reuse is not None
        assert reuse.result == {"render_asset_id": "a"}
    finally:
        await database.aclose()


async def test_the_cap_on_active_jobs_is_settled_by_the_database(db_url: str) -> None:
    await upgrade(db_url)
    database = Database(db_url)
    try:
        async with database.session() as session:
            project = Project(name="cap")
            session.add(project)
        ledger = SqlJobLedger(database)
        tickets = [
            JobTicket(f"{i:032x}", project.id, "mixing", {"preset": str(i)}, {}, "user:a")
            for i in range(8)
        ]
        rows: list[LedgerRow | None] = []
        async with anyio.create_task_group() as group:
            for job in tickets:
                group.start_soon(_append, rows, ledger.admit(job, 3))
        admitted = [row for row in rows if row is not None]
        assert len(admitted) == 3
        assert {row.requested_by for row in admitted} == {"user:a"}
        assert await ledger.count_active("user:a") == 3
        # Admitting a job that has its row already is not a new one.
        assert await ledger.admit(JobTicket(admitted[0].job_id, project.id, "mixing", {}, {}), 3)
        # Another requester has its own count; a finished job leaves the count.
        other = JobTicket("b" * 32, project.id, "mixing", {}, {}, "apikey:k")
        assert await ledger.admit(other, 3) is not None
        assert await ledger.claim(admitted[0].job_id)
        assert await ledger.finish(admitted[0].job_id, {})
        assert await ledger.count_active("user:a") == 2
        refused = [job for job in tickets if job.job_id not in {r.job_id for r in admitted}]
        late = await ledger.admit(refused[0], 3)
        assert late is not None
        assert late.status == "queued"
        assert await ledger.admit(refused[1], 3) is None
    finally:
        await database.aclose()


async def _append(into: list[Any], awaitable: Any) -> None:
    into.append(await awaitable)


@pytest.mark.parametrize(
    ("params", "inputs"),
    [({"preset": "pop"}, {"stems": [{"asset_id": "a", "volume_db": 0.0}]})],
)
def test_input_hash_covers_params_and_inputs(
    params: dict[str, Any], inputs: dict[str, Any]
) -> None:
    base = JobTicket("1", "p", "mixing", params, inputs)
    assert JobTicket("2", "p", "mixing", params, inputs).input_hash == base.input_hash
    louder = {"stems": [{"asset_id": "a", "volume_db": -3.0}]}
    assert JobTicket("3", "p", "mixing", params, louder).input_hash != base.input_hash
    assert JobTicket("4", "p", "mixing", {"preset": "rock"}, inputs).input_hash != base.input_hash
    assert JobTicket("5", "p", "mastering", params, inputs).input_hash != base.input_hash
