"""The job runner's parts on fakes and real databases: claims, crash retries."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import anyio
import pytest

from api.db import Database
from api.db.migrate import upgrade
from api.db.models import Project
from api.job_runtime import SqlJobLedger
from audio_services.jobs import JobTicket, LedgerRow, StoredAsset
from audio_services.jobs.runners import ProcessPoolRunner
from tests.audio_services.test_jobs_crashers import crash_always, crash_once


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
