"""The mix plays the arrangement: clips moved, looped and faded on the timeline are
where the render has them."""

from __future__ import annotations

import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import anyio
import pytest

from jacameno.collab.client import CollabClient, collab_url
from jacameno.docs_model import ProjectDocument
from tests.api.test_ai_jobs import post_job, uploaded
from tests.api.test_cli import run_cli
from tests.api.test_uploads import JOBS, WAIT_S, document_of, tone_wav, wait_job


async def test_the_render_follows_the_clips(start_api: Callable[..., Any]) -> None:
    async with start_api(**JOBS) as (server, api):
        owner = await api.signup()
        project_id = await api.create_project(owner)
        tracks = await uploaded(
            server, api, owner, project_id, Tone=(tone_wav(1.0, 48_000, 1), "instrument")
        )
        track_id = tracks["Tone"]["track_id"]
        async with CollabClient(
            collab_url(server.base_url, project_id), token=owner.access_token
        ) as peer:
            with anyio.fail_after(WAIT_S):
                await peer.wait_synced()
                project = ProjectDocument(peer.doc)
                [clip] = project.get_track(track_id).clips
                project.update_clip(track_id, clip.id, start_s=1.5, loop_count=2, fade_out_s=0.5)
                project.add_clip(track_id, clip.asset_id, start_s=5.0, duration_s=0.5)
                project.set_automation(track_id, "volume", [{"time_s": 0.0, "value": -6.0}])
                await peer.flush()

        mixing = await post_job(api, owner, "mixing", project_id=project_id)
        job = await wait_job(server, owner, project_id, mixing["id"])
        assert job.status.value == "done", job.error
        render = await api.call(
            "GET", f"/api/v1/assets/{job.result['render_asset_id']}", owner.access_token
        )
        assert render.json()["duration_s"] == pytest.approx(5.5, abs=0.01)


async def test_stems_export_as_a_job_and_land_as_an_asset(start_api: Callable[..., Any]) -> None:
    async with start_api(**JOBS) as (server, api):
        owner, viewer = await api.signup(), await api.signup()
        project_id = await api.create_project(owner)
        await api.add_member(owner, project_id, viewer, "viewer")
        tracks = await uploaded(
            server,
            api,
            owner,
            project_id,
            Bass=(tone_wav(1.0, 48_000, 1, frequency_hz=55.0), "instrument"),
            Lead=(tone_wav(2.0, 48_000, 1, frequency_hz=440.0), "instrument"),
        )
        async with CollabClient(
            collab_url(server.base_url, project_id), token=owner.access_token
        ) as peer:
            with anyio.fail_after(WAIT_S):
                await peer.wait_synced()
                project = ProjectDocument(peer.doc)
                bass = tracks["Bass"]["track_id"]
                [clip] = project.get_track(bass).clips
                project.update_clip(bass, clip.id, start_s=3.0)
                await peer.flush()

        denied = await api.call(
            "POST", f"/api/v1/projects/{project_id}/exports", viewer.access_token, json={}
        )
        assert denied.status_code == 403
        bad = await api.call(
            "POST",
            f"/api/v1/projects/{project_id}/exports",
            owner.access_token,
            json={"audio_format": "mp3"},
        )
        assert bad.status_code == 422
        answer = await api.call(
            "POST",
            f"/api/v1/projects/{project_id}/exports",
            owner.access_token,
            json={"audio_format": "wav"},
        )
        assert answer.status_code == 202, answer.text
        job = await wait_job(server, owner, project_id, answer.json()["id"])
        assert job.status.value == "done", job.error
        assert job.result["files"] == ["01 Bass.wav", "02 Lead.wav"]
        assert job.result["duration_s"] == pytest.approx(4.0, abs=1e-3)
        asset = await api.call(
            "GET", f"/api/v1/assets/{job.result['export_asset_id']}", viewer.access_token
        )
        assert asset.json()["kind"] == "export"
        assert asset.json()["content_type"] == "application/zip"


# The command reads the project as every route does; one database is enough here.
@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
async def test_the_command_line_exports_a_project(
    start_api: Callable[..., Any], db_url: str, tmp_path: Path
) -> None:
    async with start_api(**JOBS) as (server, api):
        owner = await api.signup()
        project_id = await api.create_project(owner)
        await uploaded(
            server, api, owner, project_id, Tone=(tone_wav(1.0, 48_000, 1), "instrument")
        )
        env = {
            "JACAMENO_ENV": "test",
            "JACAMENO_DATABASE_URL": db_url,
            "JACAMENO_STORAGE_URL": f"file://{tmp_path / 'var' / 'storage'}",
            "JACAMENO_DATA_DIR": str(tmp_path / "var"),
            "JACAMENO_SECRET_KEY": "test-secret-" + "x" * 40,
            "JACAMENO_JOB_WARM_UP": "false",
        }
        out = tmp_path / "stems.zip"
        result = await anyio.to_thread.run_sync(
            lambda: run_cli(
                "export", project_id, "--audio-format", "wav", "-o", str(out), cwd=tmp_path, **env
            )
        )
        assert result.returncode == 0, result.stderr
        with zipfile.ZipFile(out) as zipped:
            assert zipped.namelist() == ["01 Tone.wav"]
        missing = await anyio.to_thread.run_sync(
            lambda: run_cli("export", "no-such-project", "--format", "midi", cwd=tmp_path, **env)
        )
        assert missing.returncode == 1
        assert "there is no project no-such-project" in missing.stderr


async def test_a_dawproject_export_comes_back_by_import_unchanged(
    start_api: Callable[..., Any], tmp_path: Path
) -> None:
    async with start_api(**JOBS) as (server, api):
        owner, stranger = await api.signup(), await api.signup()
        project_id = await api.create_project(owner)
        tracks = await uploaded(
            server,
            api,
            owner,
            project_id,
            Tone=(tone_wav(1.0, 48_000, 1), "instrument"),
            Pad=(tone_wav(2.0, 44_100, 2, frequency_hz=330.0), "audio"),
        )
        tone, pad = tracks["Tone"]["track_id"], tracks["Pad"]["track_id"]
        async with CollabClient(
            collab_url(server.base_url, project_id), token=owner.access_token
        ) as peer:
            with anyio.fail_after(WAIT_S):
                await peer.wait_synced()
                project = ProjectDocument(peer.doc)
                [clip] = project.get_track(tone).clips
                project.update_clip(
                    tone, clip.id, start_s=2.0, loop_count=3, fade_in_s=0.25, gain_db=-3.0
                )
                project.update_track(pad, volume_db=-4.5, pan=0.25, mute=True)
                project.set_automation(
                    tone, "volume", [{"time_s": 0.0, "value": -6.0}, {"time_s": 4.0, "value": 0.0}]
                )
                project.set_meta(bpm=97.0, time_signature="3/4")
                await peer.flush()
        answer = await api.call(
            "POST",
            f"/api/v1/projects/{project_id}/exports",
            owner.access_token,
            json={"format": "dawproject"},
        )
        assert answer.status_code == 202, answer.text
        job = await wait_job(server, owner, project_id, answer.json()["id"])
        assert job.status.value == "done", job.error
        content = await api.call(
            "GET", f"/api/v1/assets/{job.result['export_asset_id']}/content", owner.access_token
        )
        archive = content.content

        refused = await api.call(
            "POST",
            "/api/v1/projects/import",
            stranger.access_token,
            files={"file": ("x.dawproject", b"not a zip", "application/zip")},
        )
        assert refused.status_code == 422
        imported = await api.call(
            "POST",
            "/api/v1/projects/import",
            stranger.access_token,
            data={"name": "Round trip"},
            files={"file": ("song.dawproject", archive, "application/zip")},
        )
        assert imported.status_code == 201, imported.text
        copy_id = imported.json()["project"]["id"]
        original = await document_of(server, owner, project_id)
        copy = await document_of(server, stranger, copy_id)

    assert (copy.get_meta().bpm, copy.get_meta().time_signature) == (97.0, "3/4")
    pairs = list(zip(original.tracks_in_order(), copy.tracks_in_order(), strict=True))
    for before, after in pairs:
        for field in ("name", "volume_db", "pan", "mute", "solo"):
            assert getattr(after, field) == pytest.approx(getattr(before, field)), field
        for old, new in zip(before.clips, after.clips, strict=True):
            for field in (
                "start_s",
                "offset_s",
                "duration_s",
                "gain_db",
                "fade_in_s",
                "fade_out_s",
                "loop_count",
            ):
                assert getattr(new, field) == pytest.approx(getattr(old, field)), field
        # Volume crosses DAWproject as a linear gain: dB come back within rounding.
        flat_after = [v for p in after.volume_automation for v in (p.time_s, p.value)]
        flat_before = [v for p in before.volume_automation for v in (p.time_s, p.value)]
        assert flat_after == pytest.approx(flat_before)
