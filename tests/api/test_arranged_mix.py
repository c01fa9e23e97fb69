"""The mix plays the arrangement: clips moved, looped and faded on the timeline are
where the render has them."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import anyio
import pytest

from jacameno.collab.client import CollabClient, collab_url
from jacameno.docs_model import ProjectDocument
from tests.api.test_ai_jobs import post_job, uploaded
from tests.api.test_uploads import JOBS, WAIT_S, tone_wav, wait_job


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
