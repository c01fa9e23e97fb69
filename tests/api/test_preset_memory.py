"""Presets from the AI memory: a user's named mixing preset is remembered and offered
for a similar project; another user, or a request naming a preset, is left alone."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from tests.api.test_ai_jobs import post_job, uploaded
from tests.api.test_uploads import JOBS, tone_wav


async def test_a_named_preset_is_recommended_next_time(start_api: Callable[..., Any]) -> None:
    async with start_api(**JOBS) as (server, api):
        owner, other = await api.signup(), await api.signup()
        first, second, theirs = (
            await api.create_project(owner, "One"),
            await api.create_project(owner, "Two"),
            await api.create_project(other, "Theirs"),
        )
        for account, project_id in ((owner, first), (owner, second), (other, theirs)):
            await uploaded(
                server, api, account, project_id, Bass=(tone_wav(1.0, channels=1), "instrument")
            )

        chosen = await post_job(api, owner, "mixing", project_id=first, preset="electronic")
        assert chosen["params"]["preset"] == "electronic"
        memory = (await api.call("GET", "/api/v1/me/memory", owner.access_token)).json()
        [item] = memory["items"]
        assert (item["kind"], item["text"], item["verdict"]) == (
            "mix_preset",
            "electronic",
            "chosen",
        )
        assert "instrument Bass" in item["style"]

        recommended = await post_job(api, owner, "mixing", project_id=second)
        assert recommended["params"]["preset"] == "electronic"
        stranger = await post_job(api, other, "mixing", project_id=theirs)
        assert stranger["params"]["preset"] == "pop"  # the usual default
        named = await post_job(api, owner, "mixing", project_id=second, preset="acoustic")
        assert named["params"]["preset"] == "acoustic"
