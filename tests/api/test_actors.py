"""Typed actors end to end: a principal's identity, its stored form, and the owner of
the assets its jobs produce (the user, or the user who created the bot's API key)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from jacameno.api.auth.actors import Actor, ActorKind, parse_actor
from jacameno.api.auth.principal import ApiKeyPrincipal, UserPrincipal
from jacameno.api.db.models import Asset, ProjectRole
from tests.api.test_ai_jobs import drums, post_job, uploaded
from tests.api.test_fair_use import rows_of
from tests.api.test_uploads import JOBS, wait_job

USER_ID = "0123456789abcdef0123456789abcdef"
KEY_ID = "fedcba9876543210fedcba9876543210"


def test_principals_have_typed_identities() -> None:
    user = UserPrincipal(USER_ID, "a@example.com", "t", "f", 0)
    bot = ApiKeyPrincipal(KEY_ID, "p" * 32, ProjectRole.EDITOR, "mixer bot")
    assert user.identity == Actor(ActorKind.USER, USER_ID)
    assert user.identity.user_id == USER_ID
    assert user.actor == f"user:{USER_ID}"
    assert bot.identity == Actor(ActorKind.API_KEY, KEY_ID)
    assert bot.identity.user_id is None
    assert bot.actor == f"apikey:{KEY_ID}"


@pytest.mark.parametrize(
    "text", [f"user:{USER_ID}", f"apikey:{KEY_ID}", "service:jobs", "service:api"]
)
def test_an_actor_reads_back_from_its_stored_form(text: str) -> None:
    assert str(parse_actor(text)) == text


@pytest.mark.parametrize(
    ("text", "says"),
    [
        (USER_ID, "expected '<kind>:<id>'"),
        (f"peer:{USER_ID}", "its kind must be one of user, apikey, service"),
        ("user:42", "32 hex digits"),
        (f"user:{USER_ID.upper()}", "32 hex digits"),
        ("apikey:", "32 hex digits"),
        ("service:Not A Name", "a lower-case name"),
    ],
)
def test_a_malformed_actor_is_refused_with_the_fix(text: str, says: str) -> None:
    with pytest.raises(ValueError, match=says):
        parse_actor(text)


async def test_a_render_a_bot_requested_belongs_to_the_keys_creator(
    start_api: Callable[..., Any],
) -> None:
    async with start_api(**JOBS) as (server, api):
        owner = await api.signup()
        project_id = await api.create_project(owner)
        await uploaded(server, api, owner, project_id, Drums=(drums(2.0), "audio"))
        bot = await api.api_key(owner, project_id, "editor")
        response = await api.call(
            "POST", "/api/v1/ai/mixing", bot, json={"project_id": project_id, "preset": "rock"}
        )
        assert response.status_code == 202, response.text
        assert response.json()["requested_by"].startswith("apikey:")
        job = await wait_job(server, owner, project_id, response.json()["id"])
        assert job.status.value == "done", job.error
        render = (await rows_of(server, Asset, id=job.result["render_asset_id"]))[0]
        assert render.created_by == owner.user_id

        mastering = await post_job(api, owner, "mastering", project_id=project_id)
        job = await wait_job(server, owner, project_id, mastering["id"])
        assert job.status.value == "done", job.error
        master = (await rows_of(server, Asset, id=job.result["master_asset_id"]))[0]
        assert master.created_by == owner.user_id
