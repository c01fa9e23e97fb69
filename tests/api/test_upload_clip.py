"""An uploaded track arrives on the timeline: one clip spanning the whole file at 0 s,
written in the same change as the track (api/routes/tracks.py, JobCoordinator.add_track)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from tests.api.test_uploads import JOBS, tone_wav, upload


async def test_upload_puts_one_clip_spanning_the_file_at_zero(
    start_api: Callable[..., Any],
) -> None:
    async with start_api(**JOBS) as (_server, api):
        owner = await api.signup()
        project_id = await api.create_project(owner)
        response = await upload(api, owner, project_id, tone_wav(2.5), name="Keys")
        assert response.status_code == 201, response.text
        body = response.json()
        asset = body["asset"]

        document = await api.call(
            "GET", f"/api/v1/projects/{project_id}/document", owner.access_token
        )
        assert document.status_code == 200, document.text
        tracks = document.json()["document"]["tracks"]
        assert [t["id"] for t in tracks] == [body["track_id"]]
        clips = tracks[0]["clips"]
        assert len(clips) == 1
        clip = clips[0]
        assert clip["asset_id"] == asset["id"]
        assert clip["start_s"] == 0.0
        assert clip["offset_s"] == 0.0
        assert clip["duration_s"] == pytest.approx(asset["duration_s"])
        assert clip["duration_s"] == pytest.approx(2.5, abs=0.01)
        assert document.json()["problems"] == []


async def test_each_upload_gets_its_own_track_and_clip(start_api: Callable[..., Any]) -> None:
    async with start_api(**JOBS) as (_server, api):
        owner = await api.signup()
        project_id = await api.create_project(owner)
        durations = [1.0, 4.0]
        for index, seconds in enumerate(durations):
            response = await upload(api, owner, project_id, tone_wav(seconds), name=f"T{index}")
            assert response.status_code == 201, response.text
        document = await api.call(
            "GET", f"/api/v1/projects/{project_id}/document", owner.access_token
        )
        tracks = document.json()["document"]["tracks"]
        spans = sorted(
            (clip["start_s"], round(clip["duration_s"], 2)) for t in tracks for clip in t["clips"]
        )
        assert spans == [(0.0, 1.0), (0.0, 4.0)]
