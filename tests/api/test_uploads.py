"""Track upload end to end: streamed to storage, probed, recorded, added to the document,
analysed by the job runner; waveform peaks and asset metadata served back."""

from __future__ import annotations

import io
import struct
from collections.abc import Callable
from typing import Any

import anyio
import httpx
import numpy as np
import pytest
import soundfile as sf

from jacameno.collab.client import CollabClient, collab_url
from jacameno.docs_model import ProjectDocument
from tests.support.api_client import Account, ApiClient
from tests.support.app_server import RunningServer

#: Job processes skip the warm-up (native libraries, FFT plans): tests measure behaviour.
JOBS = {"job_warm_up": False, "job_workers": 2, "rate_limits_enabled": False}
WAIT_S = 60.0


def tone_wav(
    seconds: float = 3.0,
    sample_rate: int = 44_100,
    channels: int = 2,
    *,
    frequency_hz: float = 220.0,
    amplitude: float = 0.3,
    subtype: str = "PCM_16",
    fmt: str = "WAV",
) -> bytes:
    """A tone with clicks on every half second (something to analyse), as file bytes."""
    t = np.arange(int(seconds * sample_rate)) / sample_rate
    signal = (
        amplitude * np.sin(2 * np.pi * frequency_hz * t) * (0.6 + 0.4 * np.exp(-(t % 0.5) * 12))
    )
    data = np.repeat(signal[:, None], channels, axis=1).astype(np.float32)
    buffer = io.BytesIO()
    sf.write(buffer, data, sample_rate, format=fmt, subtype=subtype)
    return buffer.getvalue()


async def upload(
    api: ApiClient,
    account: Account,
    project_id: str,
    data: bytes,
    *,
    name: str = "Take",
    filename: str = "take.wav",
    kind: str | None = None,
) -> httpx.Response:
    fields: dict[str, Any] = {"project_id": project_id, "name": name}
    if kind is not None:
        fields["kind"] = kind
    return await api.http.post(
        "/api/v1/tracks/upload",
        data=fields,
        files={"file": (filename, data, "application/octet-stream")},
        headers=account.headers,
    )


def job_of(doc: Any, job_id: str) -> Any:
    project = ProjectDocument(doc)
    return next((job for job in project.list_jobs() if job.id == job_id), None)


async def wait_job(server: RunningServer, account: Account, project_id: str, job_id: str) -> Any:
    """Wait (on document changes) until the job is done or failed; return its view."""
    url = collab_url(server.base_url, project_id)
    async with CollabClient(url, token=account.access_token) as peer:
        with anyio.fail_after(WAIT_S):
            await peer.wait_synced()
            await peer.wait_for(
                lambda: (job := job_of(peer.doc, job_id)) is not None and job.status.is_final
            )
        return job_of(peer.doc, job_id)


async def document_of(server: RunningServer, account: Account, project_id: str) -> ProjectDocument:
    url = collab_url(server.base_url, project_id)
    async with CollabClient(url, token=account.access_token) as peer:
        with anyio.fail_after(WAIT_S):
            await peer.wait_synced()
        doc = peer.doc
    return ProjectDocument(doc)


async def test_upload_is_analysed_and_serves_waveform(start_api: Callable[..., Any]) -> None:
    async with start_api(**JOBS) as (server, api):
        owner, viewer = await api.signup(), await api.signup()
        project_id = await api.create_project(owner)
        await api.add_member(owner, project_id, viewer, "viewer")

        response = await upload(api, owner, project_id, tone_wav(), name="Bass", kind="audio")
        assert response.status_code == 201, response.text
        body = response.json()
        asset = body["asset"]
        assert asset["content_type"] == "audio/wav"
        assert asset["sample_rate"] == 44_100
        assert asset["channels"] == 2
        assert asset["duration_s"] == pytest.approx(3.0, abs=0.01)

        job = await wait_job(server, owner, project_id, body["job_id"])
        assert job.status.value == "done", job.error
        assert job.result["asset_id"] == asset["id"]
        assert job.result["integrated_lufs"] < -5

        project = await document_of(server, owner, project_id)
        track = project.get_track(body["track_id"])
        assert track.asset_id == asset["id"]
        assert track.name == "Bass"

        meta = await api.call("GET", f"/api/v1/assets/{asset['id']}", viewer.access_token)
        assert meta.status_code == 200, meta.text
        assert meta.json()["analysis"]["true_peak_dbtp"] < 0
        download = await api.http.get(meta.json()["download_url"])
        assert download.status_code == 200
        assert download.content[:4] == b"RIFF"

        peaks = await api.call(
            "GET", f"/api/v1/assets/{asset['id']}/waveform?points=100", viewer.access_token
        )
        assert peaks.status_code == 200, peaks.text
        wave = peaks.json()
        assert len(wave["max"]) == 2
        assert len(wave["max"][0]) == 100
        assert 0.25 < max(wave["max"][0]) <= 0.31
        assert min(wave["min"][0]) == pytest.approx(-max(wave["max"][0]), abs=0.01)

        stored = await api.call("GET", f"/api/v1/jobs/{body['job_id']}", viewer.access_token)
        assert stored.json()["status"] == "done"

        refused = await upload(api, viewer, project_id, tone_wav())
        assert refused.status_code == 403
        refused_before_reading = await api.http.post(
            f"/api/v1/tracks/upload?project_id={project_id}",
            files={"file": ("x.wav", tone_wav())},
            headers=viewer.headers,
        )
        assert refused_before_reading.status_code == 403
        stranger = await api.signup()
        hidden = await api.call("GET", f"/api/v1/assets/{asset['id']}", stranger.access_token)
        assert hidden.status_code == 404


def ten_hour_flac() -> bytes:
    """One second of 8 kHz FLAC whose STREAMINFO claims ten hours (a header-only probe
    must refuse it without decoding)."""
    data = bytearray(tone_wav(1.0, 8_000, 1, fmt="FLAC"))
    total = 10 * 3600 * 8_000
    info = 8  # after "fLaC" and the metadata block header
    data[info + 13] = (data[info + 13] & 0xF0) | ((total >> 32) & 0x0F)
    data[info + 14 : info + 18] = struct.pack(">I", total & 0xFFFFFFFF)
    return bytes(data)


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
async def test_bad_uploads_get_clear_errors(start_api: Callable[..., Any]) -> None:
    async with start_api(**JOBS, max_audio_duration_s=5.0, max_upload_bytes=2_000_000) as (
        server,
        api,
    ):
        owner = await api.signup()
        project_id = await api.create_project(owner)

        async def status_of(data: bytes, **kwargs: Any) -> tuple[int, str]:
            response = await upload(api, owner, project_id, data, **kwargs)
            return response.status_code, response.json().get("error", {}).get("code", "")

        assert await status_of(b"this is not audio at all\n" * 40) == (
            415,
            "unsupported_media_type",
        )
        assert (await status_of(b""))[0] == 415
        assert (await status_of(tone_wav()[:30]))[0] == 415
        assert await status_of(tone_wav(6.0, 8_000, 1)) == (413, "payload_too_large")
        assert (await status_of(ten_hour_flac()))[0] == 413
        assert (await status_of(tone_wav(3.0, 8_000, 8)))[0] == 422
        assert (await status_of(tone_wav(4.0, 96_000, 2, subtype="PCM_24")))[0] == 413  # bytes
        assert (await status_of(tone_wav(), kind="kazoo"))[0] == 422
        form = {"project_id": project_id, "name": "x"}
        not_multipart = await api.http.post(
            "/api/v1/tracks/upload", data=form, headers=owner.headers
        )
        assert not_multipart.status_code == 415
        no_file = await api.http.post(
            "/api/v1/tracks/upload", data=form, files={"x": (None, "1")}, headers=owner.headers
        )
        assert no_file.status_code == 422

        # Accepted by content whatever the name says; odd but valid audio gets a result.
        accepted: list[tuple[str, bytes]] = [
            ("mono 8 kHz", tone_wav(2.0, 8_000, 1)),
            ("5.1 48 kHz", tone_wav(2.0, 48_000, 6)),
            ("192 kHz", tone_wav(1.0, 192_000, 1)),
            ("flac named mp3", tone_wav(2.0, fmt="FLAC")),
            ("silence", tone_wav(2.0, amplitude=0.0)),
            ("truncated", tone_wav(2.0)[:-30_001]),
        ]
        nan = np.full((22_050, 1), np.nan, np.float32)
        buffer = io.BytesIO()
        sf.write(buffer, nan, 22_050, format="WAV", subtype="FLOAT")
        accepted.append(("NaN", buffer.getvalue()))
        jobs = []
        for label, data in accepted:
            response = await upload(api, owner, project_id, data, name=label, filename="x.mp3")
            assert response.status_code == 201, (label, response.text)
            jobs.append((label, response.json()["job_id"]))
        for label, job_id in jobs:
            job = await wait_job(server, owner, project_id, job_id)
            assert job.status.value == "done", (label, job.error)
        silent = (await wait_job(server, owner, project_id, jobs[4][1])).result
        assert silent["integrated_lufs"] is None


@pytest.mark.s3
@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
async def test_upload_and_analysis_on_s3(
    start_api: Callable[..., Any], s3_settings: dict[str, Any]
) -> None:
    async with start_api(**JOBS, **s3_settings) as (server, api):
        owner = await api.signup()
        project_id = await api.create_project(owner)
        response = await upload(api, owner, project_id, tone_wav(2.0, 48_000, 1))
        assert response.status_code == 201, response.text
        body = response.json()
        job = await wait_job(server, owner, project_id, body["job_id"])
        assert job.status.value == "done", job.error
        asset_id = body["asset"]["id"]
        peaks = await api.call(
            "GET", f"/api/v1/assets/{asset_id}/waveform?points=50&mix=true", owner.access_token
        )
        assert peaks.status_code == 200, peaks.text
        assert len(peaks.json()["max"]) == 1
        meta = (await api.call("GET", f"/api/v1/assets/{asset_id}", owner.access_token)).json()
        assert meta["analysis"]["sample_rate"] == 48_000
        download = await api.http.get(meta["download_url"])
        assert download.status_code == 200
        assert len(download.content) == meta["size_bytes"]
