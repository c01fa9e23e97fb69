"""Audio jobs end to end on the in-process runner (and saq workers on Redis): REST and
document requests, results written back into the document, failures, reuse."""

from __future__ import annotations

import io
from collections.abc import Callable
from typing import Any

import anyio
import numpy as np
import pytest
import soundfile as sf

from jacameno.api.settings import Settings
from jacameno.api.worker import running_worker
from jacameno.collab.client import CollabClient, collab_url
from jacameno.docs_model import ProjectDocument
from tests.api.test_uploads import JOBS, WAIT_S, document_of, tone_wav, upload, wait_job
from tests.support.api_client import Account, ApiClient
from tests.support.app_server import RunningServer

SR = 44_100


def wav(samples: np.ndarray[Any, Any], sample_rate: int = SR) -> bytes:
    buffer = io.BytesIO()
    sf.write(buffer, samples.astype(np.float32), sample_rate, format="WAV", subtype="PCM_16")
    return buffer.getvalue()


def drums(seconds: float = 4.0) -> bytes:
    """Noise bursts on every beat at 120 BPM, stereo."""
    t = np.arange(int(seconds * SR)) / SR
    rng = np.random.default_rng(1)
    hits = rng.standard_normal(t.size) * np.exp(-(t % 0.5) * 40) * 0.5
    return wav(np.stack([hits, hits], axis=1))


def sung_melody(seconds: float = 4.0) -> bytes:
    """A voice-like tone (harmonics, vibrato) on A3, C4, E4, A3: mono."""
    t = np.arange(int(seconds * SR)) / SR
    notes = np.array([57, 60, 64, 57])[np.minimum((t / (seconds / 4)).astype(int), 3)]
    f0 = 440.0 * 2 ** ((notes - 69) / 12) * 2 ** (0.2 * np.sin(2 * np.pi * 5.5 * t) / 12)
    phase = 2 * np.pi * np.cumsum(f0) / SR
    voice = sum(np.sin(k * phase) / k for k in range(1, 6)) * 0.2
    return wav(voice[:, None])


async def post_job(api: ApiClient, account: Account, kind: str, **body: Any) -> Any:
    response = await api.call("POST", f"/api/v1/ai/{kind}", account.access_token, json=body)
    assert response.status_code == 202, response.text
    return response.json()


async def uploaded(
    server: RunningServer, api: ApiClient, owner: Account, project_id: str, **tracks: Any
) -> dict[str, Any]:
    """Upload ``name=(bytes, kind)`` tracks and wait for their analyses."""
    bodies = {}
    for name, (data, kind) in tracks.items():
        response = await upload(api, owner, project_id, data, name=name, kind=kind)
        assert response.status_code == 201, response.text
        bodies[name] = response.json()
    for body in bodies.values():
        assert (await wait_job(server, owner, project_id, body["job_id"])).status.value == "done"
    return bodies


async def exercise_mix_master_coach(server: RunningServer, api: ApiClient) -> None:
    owner, viewer = await api.signup(), await api.signup()
    project_id = await api.create_project(owner)
    await api.add_member(owner, project_id, viewer, "viewer")
    tracks = await uploaded(
        server,
        api,
        owner,
        project_id,
        Drums=(drums(), "audio"),
        Bass=(tone_wav(4.0, 48_000, 1, frequency_hz=55.0), "instrument"),
        Vocal=(sung_melody(), "vocal"),
    )

    mixing = await post_job(api, owner, "mixing", project_id=project_id, preset="rock")
    again = await post_job(api, owner, "mixing", project_id=project_id, preset="rock")
    assert again["id"] == mixing["id"]
    assert again["reused"] is True
    job = await wait_job(server, owner, project_id, mixing["id"])
    assert job.status.value == "done", job.error
    project = await document_of(server, owner, project_id)
    mix = project.get_mix()
    assert mix.render_asset_id == job.result["render_asset_id"]
    assert mix.render_true_peak_dbtp is not None
    assert mix.render_true_peak_dbtp <= -0.9
    assert mix.preset == "rock"
    render = await api.call("GET", f"/api/v1/assets/{mix.render_asset_id}", viewer.access_token)
    assert render.json()["kind"] == "render"
    assert render.json()["sample_rate"] == 48_000
    assert render.json()["duration_s"] == pytest.approx(4.0, abs=0.05)

    # Same inputs, finished: the result is reused, nothing is rendered again.
    reuse = await post_job(api, owner, "mixing", project_id=project_id, preset="rock")
    assert reuse["id"] != mixing["id"]
    reused = await wait_job(server, owner, project_id, reuse["id"])
    assert reused.result["reused_from"] == mixing["id"]
    assert reused.result["render_asset_id"] == mix.render_asset_id

    mastering = await post_job(api, owner, "mastering", project_id=project_id)
    job = await wait_job(server, owner, project_id, mastering["id"])
    assert job.status.value == "done", job.error
    mix = (await document_of(server, owner, project_id)).get_mix()
    assert mix.master_asset_id == job.result["master_asset_id"]
    assert mix.master_loudness_lufs == pytest.approx(-14.0, abs=0.5)
    assert mix.master_true_peak_dbtp is not None
    assert mix.master_true_peak_dbtp <= -1.0 + 1e-6

    vocal_track = tracks["Vocal"]["track_id"]
    coaching = await post_job(api, owner, "coaching", project_id=project_id, key="A minor")
    job = await wait_job(server, owner, project_id, coaching["id"])
    assert job.status.value == "done", job.error
    coached = (await document_of(server, owner, project_id)).get_coaching(vocal_track)
    assert coached is not None
    assert coached.summary["note_count"] >= 3
    svg = await api.call(
        "GET", f"/api/v1/assets/{job.result['pitch_curve_asset_id']}/content", viewer.access_token
    )
    assert svg.status_code == 200
    assert svg.headers["content-type"].startswith("image/svg+xml")
    assert svg.text.startswith("<svg")

    stored = await api.call("GET", f"/api/v1/jobs/{coaching['id']}", viewer.access_token)
    assert stored.json()["status"] == "done"
    assert stored.json()["attempts"] == 1


async def test_mix_master_and_coach_in_process(start_api: Callable[..., Any]) -> None:
    async with start_api(**JOBS) as (server, api):
        await exercise_mix_master_coach(server, api)


@pytest.mark.redis
@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
async def test_mix_master_and_coach_on_saq_workers(
    start_api: Callable[..., Any], redis_url: str
) -> None:
    async with start_api(**JOBS, redis_url=redis_url, job_runner="saq") as (server, api):
        settings: Settings = server.settings
        async with running_worker(settings):
            await exercise_mix_master_coach(server, api)


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
async def test_jobs_requested_in_the_document_and_failures(start_api: Callable[..., Any]) -> None:
    async with start_api(
        **{**JOBS, "rate_limits_enabled": True, "rate_limit_ai_user": "8/hour"}
    ) as (
        server,
        api,
    ):
        owner, viewer = await api.signup(), await api.signup()
        project_id = await api.create_project(owner)
        await api.add_member(owner, project_id, viewer, "viewer")

        # Nothing to work on yet: refused with the reason, no job queued.
        for kind in ("mixing", "mastering", "coaching"):
            response = await api.call(
                "POST", f"/api/v1/ai/{kind}", owner.access_token, json={"project_id": project_id}
            )
            assert response.status_code == 422, response.text
        refused = await api.call(
            "POST", "/api/v1/ai/mixing", viewer.access_token, json={"project_id": project_id}
        )
        assert refused.status_code == 403

        tracks = await uploaded(
            server, api, owner, project_id, Silence=(tone_wav(2.0, amplitude=0.0), "audio")
        )
        url = collab_url(server.base_url, project_id)
        async with CollabClient(url, token=owner.access_token) as peer:
            with anyio.fail_after(WAIT_S):
                await peer.wait_synced()
            project = ProjectDocument(peer.doc)
            # A bot asks through the document; an unknown plugin fails with the reason.
            project.set_effects(tracks["Silence"]["track_id"], [{"plugin": "flanger_9000"}])
            bad_mix = project.request_job("mixing", {"preset": "pop"}, requested_by="bot")
            with anyio.fail_after(WAIT_S):
                await peer.wait_for(lambda: project.get_job(bad_mix).status.is_final)
            failed = project.get_job(bad_mix)
            assert failed.status.value == "failed"
            assert "flanger_9000" in (failed.error or "")

            project.set_effects(tracks["Silence"]["track_id"], [])
            good_mix = project.request_job("mixing", {"preset": "pop"}, requested_by="bot")
            with anyio.fail_after(WAIT_S):
                await peer.wait_for(lambda: project.get_job(good_mix).status.is_final)
            assert project.get_job(good_mix).status.value == "done"
            # Counted against the peer that wrote it, whatever it claimed.
            assert project.get_job(good_mix).requested_by == f"user:{owner.user_id}"
            assert project.get_mix().render_loudness_lufs is None  # silence has no loudness

            # Mastering silence fails and says why; the mix fields keep no half result.
            master = project.request_job("mastering", {}, requested_by="bot")
            with anyio.fail_after(WAIT_S):
                await peer.wait_for(lambda: project.get_job(master).status.is_final)
            assert project.get_job(master).status.value == "failed"
            assert "silence" in (project.get_job(master).error or "")
            assert project.get_mix().master_asset_id is None
            assert not project.list_jobs(status=project.get_job(master).status.RUNNING)

        row = await api.call("GET", f"/api/v1/jobs/{master}", owner.access_token)
        assert row.json()["status"] == "failed"

        # The limit counts per caller: 3 refused REST requests and 3 jobs written into
        # the document so far.
        for _ in range(2):
            await api.call(
                "POST", "/api/v1/ai/mastering", owner.access_token, json={"project_id": project_id}
            )
        limited = await api.call(
            "POST", "/api/v1/ai/mastering", owner.access_token, json={"project_id": project_id}
        )
        assert limited.status_code == 429


async def leave_running_jobs(server: RunningServer, owner: Account, project_id: str) -> list[str]:
    """Three mixing jobs written straight as "running" (as a crashed runner leaves them)."""
    url = collab_url(server.base_url, project_id)
    async with CollabClient(url, token=owner.access_token) as peer:
        with anyio.fail_after(WAIT_S):
            await peer.wait_synced()
        project = ProjectDocument(peer.doc)
        job_ids = []
        with peer.doc.transaction():
            for preset in ("pop", "rock", "acoustic"):
                job_id = project.request_job("mixing", {"preset": preset}, requested_by="bot")
                project.mark_running(job_id, 0.3)
                job_ids.append(job_id)
        await peer.flush()
    return job_ids


async def set_rows(db_url: str, project_id: str, rows: dict[str, dict[str, Any]]) -> None:
    from jacameno.api.db import Database
    from jacameno.api.db.models import Job

    database = Database(db_url)
    try:
        async with database.session() as session:
            for job_id, values in rows.items():
                session.add(
                    Job(id=job_id, project_id=project_id, kind="mixing", input_hash="x", **values)
                )
    finally:
        await database.aclose()


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
async def test_restart_recovers_jobs_left_running(
    start_api: Callable[..., Any], db_url: str
) -> None:
    async with start_api(**JOBS) as (server, api):
        owner = await api.signup()
        project_id = await api.create_project(owner)
        await uploaded(server, api, owner, project_id, Drums=(drums(2.0), "audio"))
        retry, exhausted, finished = await leave_running_jobs(server, owner, project_id)
    # What a process killed mid-job leaves in the database.
    await set_rows(
        db_url,
        project_id,
        {
            retry: {"status": "running", "attempts": 1, "params": {"preset": "pop"}},
            exhausted: {"status": "running", "attempts": 3, "params": {"preset": "rock"}},
            finished: {"status": "done", "attempts": 1, "result": {"render_asset_id": "r1"}},
        },
    )
    async with start_api(**JOBS) as (server, api):
        for job_id in (retry, exhausted, finished):
            await wait_job(server, owner, project_id, job_id)
        project = await document_of(server, owner, project_id)
        assert project.get_job(retry).status.value == "done"
        assert project.get_job(exhausted).status.value == "failed"
        assert "3 times" in (project.get_job(exhausted).error or "")
        assert project.get_job(finished).result == {"render_asset_id": "r1"}
        row = await api.call("GET", f"/api/v1/jobs/{retry}", owner.access_token)
        assert row.json()["attempts"] == 2


@pytest.mark.redis
@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
async def test_saq_serve_restart_copies_worker_results(
    start_api: Callable[..., Any], db_url: str, redis_url: str
) -> None:
    saq = {**JOBS, "redis_url": redis_url, "job_runner": "saq"}
    async with start_api(**saq) as (server, api):
        owner = await api.signup()
        project_id = await api.create_project(owner)
        async with running_worker(server.settings):
            await uploaded(server, api, owner, project_id, Drums=(drums(2.0), "audio"))
        running, _, finished = await leave_running_jobs(server, owner, project_id)
    # A worker finished one job while its serve process was down; another is still claimed.
    await set_rows(
        db_url,
        project_id,
        {
            finished: {"status": "done", "attempts": 1, "result": {"render_asset_id": "r1"}},
            running: {"status": "running", "attempts": 1, "params": {"preset": "pop"}},
        },
    )
    async with start_api(**saq) as (server, api):
        async with running_worker(server.settings):
            for job_id in (finished, running):
                await wait_job(server, owner, project_id, job_id)
            project = await document_of(server, owner, project_id)
        assert project.get_job(finished).result == {"render_asset_id": "r1"}
        assert project.get_job(running).status.value == "done"


class FlakyAssets:
    """Wraps an asset store; the first fetch dies like a worker losing its connection."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner
        self.failures = 0

    async def fetch(self, *args: Any) -> Any:
        if self.failures == 0:
            self.failures += 1
            raise ConnectionResetError("storage connection lost")
        return await self.inner.fetch(*args)

    async def add(self, *args: Any, **kwargs: Any) -> str:
        result: str = await self.inner.add(*args, **kwargs)
        return result

    async def put_sidecar(self, *args: Any) -> None:
        await self.inner.put_sidecar(*args)


@pytest.mark.redis
@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
async def test_saq_retries_an_attempt_that_crashed(
    start_api: Callable[..., Any], redis_url: str
) -> None:
    flaky: list[FlakyAssets] = []

    def wrap(inner: Any) -> Any:
        flaky.append(FlakyAssets(inner))
        return flaky[-1]

    async with start_api(**JOBS, redis_url=redis_url, job_runner="saq") as (server, api):
        owner = await api.signup()
        project_id = await api.create_project(owner)
        async with running_worker(server.settings, wrap_assets=wrap):
            response = await upload(api, owner, project_id, tone_wav(2.0))
            job = await wait_job(server, owner, project_id, response.json()["job_id"])
        assert job.status.value == "done", job.error
        assert flaky[0].failures == 1


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
async def test_jobs_run_in_rooms_loaded_again_after_unloading(
    start_api: Callable[..., Any],
) -> None:
    async with start_api(**JOBS, collab_room_grace_s=0.0) as (server, api):
        owner = await api.signup()
        project_id = await api.create_project(owner)
        await uploaded(server, api, owner, project_id, Drums=(drums(2.0), "audio"))
        # Every peer left: the room unloads, and with it the runner's observer.
        mixing = await post_job(api, owner, "mixing", project_id=project_id)
        job = await wait_job(server, owner, project_id, mixing["id"])
        assert job.status.value == "done", job.error
