"""A project never loses its last owner, even when owners demote each other or leave at once.

Each trial fires the competing requests together over real HTTP and then reads the
owners from the database. Before the changes were settled in the database, 6 of 6
mutual demotions and 4 of 6 simultaneous departures left a project with no owner.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from functools import partial
from typing import Any

import pytest
from sqlalchemy import select

from jacameno.api.db import Database
from jacameno.api.db.models import Membership, ProjectRole
from tests.support.api_client import Account, ApiClient
from tests.support.concurrency import at_once

TRIALS = 6
EDITOR = {"role": "editor"}
VIEWER = {"role": "viewer"}


@pytest.fixture
async def database(db_url: str) -> AsyncIterator[Database]:
    """The server's database, read directly to count owners."""
    database = Database(db_url)
    yield database
    await database.aclose()


@pytest.fixture
async def unlimited_api(start_api: Callable[..., Any]) -> AsyncIterator[ApiClient]:
    async with start_api(rate_limits_enabled=False) as (_server, client):
        yield client


async def owners(database: Database, project_id: str) -> list[str]:
    async with database.session() as session:
        rows = await session.execute(
            select(Membership.user_id).where(
                Membership.project_id == project_id, Membership.role == ProjectRole.OWNER.value
            )
        )
        return sorted(rows.scalars())


async def project_with_owners(api: ApiClient, first: Account, *others: Account) -> str:
    project_id = await api.create_project(first)
    for other in others:
        await api.add_member(first, project_id, other, "owner")
    return project_id


def member_url(project_id: str, account: Account) -> str:
    return f"/api/v1/projects/{project_id}/members/{account.user_id}"


async def test_two_owners_demoting_each_other_keep_one(
    unlimited_api: ApiClient, database: Database
) -> None:
    api = unlimited_api
    ada, bob = await api.signup(), await api.signup()
    for _ in range(TRIALS):
        pid = await project_with_owners(api, ada, bob)
        demote_bob, demote_ada = await at_once(
            partial(api.call, "PATCH", member_url(pid, bob), ada.access_token, json=EDITOR),
            partial(api.call, "PATCH", member_url(pid, ada), bob.access_token, json=EDITOR),
        )
        remaining = await owners(database, pid)
        assert len(remaining) == 1, (demote_bob.text, demote_ada.text)
        winner, loser = (
            (demote_bob, demote_ada) if remaining == [ada.user_id] else (demote_ada, demote_bob)
        )
        assert winner.status_code == 200, winner.text
        # The loser was either already demoted when its request was checked (403), or
        # its target had just become the last owner (409).
        assert loser.status_code in (403, 409), loser.text


async def test_two_owners_leaving_at_once_keep_one(
    unlimited_api: ApiClient, database: Database
) -> None:
    api = unlimited_api
    ada, bob = await api.signup(), await api.signup()
    for _ in range(TRIALS):
        pid = await project_with_owners(api, ada, bob)
        ada_leaves, bob_leaves = await at_once(
            partial(api.call, "DELETE", member_url(pid, ada), ada.access_token),
            partial(api.call, "DELETE", member_url(pid, bob), bob.access_token),
        )
        remaining = await owners(database, pid)
        assert len(remaining) == 1, (ada_leaves.text, bob_leaves.text)
        stayed, left = (
            (ada_leaves, bob_leaves) if remaining == [ada.user_id] else (bob_leaves, ada_leaves)
        )
        assert left.status_code == 204, left.text
        assert stayed.status_code == 409, stayed.text
        assert stayed.json()["error"]["message"] == "cannot remove the last owner of a project"


async def test_every_owner_stepping_down_at_once_leaves_exactly_one(
    unlimited_api: ApiClient, database: Database
) -> None:
    api = unlimited_api
    team = [await api.signup() for _ in range(4)]
    for _ in range(TRIALS // 2):
        pid = await project_with_owners(api, *team)
        answers = await at_once(
            *(
                partial(api.call, "PATCH", member_url(pid, who), who.access_token, json=VIEWER)
                for who in team
            )
        )
        assert len(await owners(database, pid)) == 1
        assert sorted(a.status_code for a in answers) == [200, 200, 200, 409]


async def test_owner_removing_the_other_while_it_leaves_keeps_one(
    unlimited_api: ApiClient, database: Database
) -> None:
    api = unlimited_api
    ada, bob = await api.signup(), await api.signup()
    for _ in range(TRIALS):
        pid = await project_with_owners(api, ada, bob)
        removes_bob, ada_leaves = await at_once(
            partial(api.call, "DELETE", member_url(pid, bob), ada.access_token),
            partial(api.call, "DELETE", member_url(pid, ada), ada.access_token),
        )
        assert len(await owners(database, pid)) == 1, (removes_bob.text, ada_leaves.text)
        assert sorted([removes_bob.status_code, ada_leaves.status_code]) in ([204, 404], [204, 409])
