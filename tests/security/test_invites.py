"""An invite is used once, however many people accept it at the same moment.

Before acceptance was one conditional update, one invite was accepted by up to 8
accounts at once.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from functools import partial
from typing import Any

import pytest

from tests.support.api_client import Account, ApiClient
from tests.support.concurrency import at_once

TRIALS = 3


@pytest.fixture
async def unlimited_api(start_api: Callable[..., Any]) -> AsyncIterator[ApiClient]:
    async with start_api(rate_limits_enabled=False) as (_server, client):
        yield client


async def members(api: ApiClient, owner: Account, project_id: str) -> dict[str, str]:
    answer = await api.call("GET", f"/api/v1/projects/{project_id}/members", owner.access_token)
    return {m["user_id"]: m["role"] for m in answer.json()["items"]}


async def test_eight_accounts_accepting_one_invite_make_one_member(
    unlimited_api: ApiClient,
) -> None:
    api = unlimited_api
    owner = await api.signup()
    guests = [await api.signup() for _ in range(8)]
    for _ in range(TRIALS):
        pid = await api.create_project(owner)
        created = await api.call(
            "POST", f"/api/v1/projects/{pid}/invites", owner.access_token, json={"role": "editor"}
        )
        url = f"/api/v1/invites/{created.json()['token']}/accept"
        answers = await at_once(*(partial(api.call, "POST", url, g.access_token) for g in guests))
        assert sorted(a.status_code for a in answers) == [200] + [409] * 7, [
            a.text for a in answers
        ]
        (winner,) = (g for g, a in zip(guests, answers, strict=True) if a.status_code == 200)
        assert await members(api, owner, pid) == {owner.user_id: "owner", winner.user_id: "editor"}
        listed = await api.call("GET", f"/api/v1/projects/{pid}/invites", owner.access_token)
        assert listed.json()["items"][0]["accepted_at"] is not None


async def test_one_person_accepting_twice_at_once_joins_once(unlimited_api: ApiClient) -> None:
    api = unlimited_api
    owner = await api.signup()
    guest = await api.signup()
    pid = await api.create_project(owner)
    invited = await api.call(
        "POST",
        f"/api/v1/projects/{pid}/members",
        owner.access_token,
        json={"email": guest.email, "role": "viewer"},
    )
    url = f"/api/v1/me/invites/{invited.json()['id']}/accept"
    answers = await at_once(*(partial(api.call, "POST", url, guest.access_token) for _ in range(4)))
    assert sorted(a.status_code for a in answers) == [200, 409, 409, 409]
    assert await members(api, owner, pid) == {owner.user_id: "owner", guest.user_id: "viewer"}
    events = await api.call(
        "GET", f"/api/v1/projects/{pid}/analytics?kind=member_added", owner.access_token
    )
    assert events.json()["total"] == 1


async def test_two_invites_accepted_at_once_give_the_higher_role(
    unlimited_api: ApiClient,
) -> None:
    api = unlimited_api
    owner = await api.signup()
    guest = await api.signup()
    for _ in range(TRIALS):
        pid = await api.create_project(owner)
        tokens = [
            (
                await api.call(
                    "POST",
                    f"/api/v1/projects/{pid}/invites",
                    owner.access_token,
                    json={"role": role},
                )
            ).json()["token"]
            for role in ("viewer", "editor")
        ]
        answers = await at_once(
            *(
                partial(api.call, "POST", f"/api/v1/invites/{token}/accept", guest.access_token)
                for token in tokens
            )
        )
        assert [a.status_code for a in answers] == [200, 200], [a.text for a in answers]
        assert await members(api, owner, pid) == {owner.user_id: "owner", guest.user_id: "editor"}
