"""Jobs across machines: saq workers on real Redis report progress into the document
while a job runs, and two ``jacameno worker`` processes share twenty queued jobs,
running each exactly once."""

from __future__ import annotations

import json
import os
import signal
import sys
from collections import Counter
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any

import anyio
import pytest
from anyio.abc import Process

from jacameno.api.worker import running_worker
from jacameno.collab.client import CollabClient, collab_url
from tests.api.test_uploads import JOBS, WAIT_S, job_of, tone_wav, upload
from tests.audio_services.test_jobs_crashers import gated, open_gate

SAQ = {**JOBS, "job_runner": "saq"}


@pytest.mark.redis
@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
async def test_a_saq_job_reports_progress_into_the_document_while_it_runs(
    start_api: Callable[..., Any], redis_url: str, tmp_path: Path
) -> None:
    gate = tmp_path / "gate"
    os.mkfifo(gate)  # the job computes once the test opens it: as long as the test wants
    async with start_api(**SAQ, redis_url=redis_url) as (server, api):
        owner = await api.signup()
        project_id = await api.create_project(owner)
        url = collab_url(server.base_url, project_id)
        async with (
            running_worker(server.settings, compute=partial(gated, str(gate))),
            CollabClient(url, token=owner.access_token) as peer,
        ):
            with anyio.fail_after(WAIT_S):
                await peer.wait_synced()
                response = await upload(api, owner, project_id, tone_wav(2.0))
                job_id = response.json()["job_id"]
                # 0.05 is the serve process's own mark; 0.2 comes from the worker, which
                # has fetched the input and waits at the gate.
                await peer.wait_for(
                    lambda: (job := job_of(peer.doc, job_id)) is not None and job.progress >= 0.2
                )
                running = job_of(peer.doc, job_id)
                assert running.status.value == "running"
                assert 0.0 < running.progress < 1.0
                row = await api.call("GET", f"/api/v1/jobs/{job_id}", owner.access_token)
                assert row.json()["status"] == "running"
                assert row.json()["progress"] == running.progress
                await anyio.to_thread.run_sync(open_gate, str(gate), abandon_on_cancel=True)
                await peer.wait_for(lambda: job_of(peer.doc, job_id).status.is_final)
            done = job_of(peer.doc, job_id)
        assert done.status.value == "done", done.error
        assert done.progress == 1.0
        assert done.result["duration_s"] > 0


class WorkerProcess:
    """A ``jacameno worker`` subprocess and the JSON log records it wrote."""

    def __init__(self, process: Process) -> None:
        self.process = process
        self.records: list[dict[str, Any]] = []
        self.other_lines: list[str] = []

    async def read(self) -> None:
        assert self.process.stderr is not None
        buffer = b""
        async for chunk in self.process.stderr:
            *lines, buffer = (buffer + chunk).split(b"\n")
            for line in lines:
                try:
                    self.records.append(json.loads(line))
                except ValueError:
                    self.other_lines.append(line.decode(errors="replace"))

    def runs(self) -> list[str]:
        """Ids of the jobs this worker ran (one record per run)."""
        return [
            record["job_id"]
            for record in self.records
            if str(record.get("event", "")).startswith("job run")
        ]

    async def stop(self) -> int:
        if self.process.returncode is None:
            self.process.send_signal(signal.SIGTERM)
        with anyio.move_on_after(30):
            return await self.process.wait()
        self.process.kill()
        return await self.process.wait()


@pytest.mark.redis
@pytest.mark.postgres
@pytest.mark.parametrize("db_url", ["postgresql"], indirect=True)
async def test_two_worker_processes_run_each_of_twenty_queued_jobs_once(
    start_api: Callable[..., Any], db_url: str, redis_url: str, tmp_path: Path
) -> None:
    # Twenty slots in serve: all twenty jobs go to the queue at once, for two workers.
    serve = {**SAQ, "redis_url": redis_url, "job_workers": 20, "job_max_active_per_user": 40}
    async with start_api(**serve) as (server, api):
        owner = await api.signup()
        project_id = await api.create_project(owner)
        job_ids = []
        for index in range(20):
            # Distinct inputs: no job reuses another's result.
            audio = tone_wav(1.0, frequency_hz=110.0 + 10 * index)
            response = await upload(api, owner, project_id, audio, name=f"Take {index}")
            assert response.status_code == 201, response.text
            job_ids.append(response.json()["job_id"])
        env = {key: value for key, value in os.environ.items() if not key.startswith("JACAMENO_")}
        env.update(
            JACAMENO_ENV="test",
            JACAMENO_DATA_DIR=str(tmp_path / "worker"),
            JACAMENO_DATABASE_URL=db_url,
            JACAMENO_REDIS_URL=redis_url,
            JACAMENO_STORAGE_URL=server.settings.storage_url,
            JACAMENO_JOB_WORKERS="2",
            JACAMENO_JOB_WARM_UP="false",
            JACAMENO_LOG_FORMAT="json",
            JACAMENO_LOG_LEVEL="INFO",
        )
        command = [sys.executable, "-m", "jacameno.api.cli", "worker"]
        workers = [
            WorkerProcess(await anyio.open_process(command, env=env, cwd=tmp_path))
            for _ in range(2)
        ]
        url = collab_url(server.base_url, project_id)
        async with anyio.create_task_group() as group:
            for worker in workers:
                group.start_soon(worker.read)
            try:
                async with CollabClient(url, token=owner.access_token) as peer:
                    with anyio.fail_after(WAIT_S * 3):
                        await peer.wait_synced()
                        await peer.wait_for(
                            lambda: all(
                                (job := job_of(peer.doc, job_id)) is not None
                                and job.status.is_final
                                for job_id in job_ids
                            )
                        )
                    jobs = [job_of(peer.doc, job_id) for job_id in job_ids]
            finally:
                codes = [await worker.stop() for worker in workers]
        assert [job.status.value for job in jobs] == ["done"] * 20, [job.error for job in jobs]
        for job_id in job_ids:
            row = (await api.call("GET", f"/api/v1/jobs/{job_id}", owner.access_token)).json()
            assert (row["status"], row["attempts"], row["progress"]) == ("done", 1, 1.0)
    runs = Counter(run for worker in workers for run in worker.runs())
    assert runs == Counter(job_ids), runs
    # Both workers took their share; both stopped cleanly on SIGTERM.
    assert all(worker.runs() for worker in workers), [len(w.runs()) for w in workers]
    assert codes == [0, 0], [worker.other_lines[-5:] for worker in workers]
