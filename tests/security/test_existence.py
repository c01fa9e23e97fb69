"""No existence oracle: a caller who cannot see a row gets the same answer for its real id
as for a random one (status, code, message and details).

Before the one not-found path in ``api/auth/permissions.py``, a random asset id answered
"asset not found" while a real one in someone else's project answered "project not
found", or "scoped to another project" for an API key.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

import pytest

from jacameno.api.db import Database
from jacameno.api.db.models import Asset, Job
from tests.support.api_client import Account, ApiClient

#: (method, path, JSON body). ``{project}`` is the hidden project, ``{own}`` the caller's.
ROUTES: list[tuple[str, str, dict[str, Any] | None]] = [
    ("GET", "/api/v1/assets/{asset}", None),
    ("GET", "/api/v1/assets/{asset}/waveform", None),
    ("GET", "/api/v1/assets/{asset}/content", None),
    ("GET", "/api/v1/jobs/{job}", None),
    ("GET", "/api/v1/projects/{project}", None),
    ("PATCH", "/api/v1/projects/{project}", {"name": "mine now"}),
    ("DELETE", "/api/v1/projects/{project}", None),
    ("GET", "/api/v1/projects/{project}/document", None),
    ("GET", "/api/v1/projects/{project}/members", None),
    ("POST", "/api/v1/projects/{project}/members", {"email": "x@example.com", "role": "owner"}),
    ("PATCH", "/api/v1/projects/{project}/members/{member}", {"role": "viewer"}),
    ("DELETE", "/api/v1/projects/{project}/members/{member}", None),
    ("GET", "/api/v1/projects/{project}/invites", None),
    ("POST", "/api/v1/projects/{project}/invites", {"role": "owner"}),
    ("DELETE", "/api/v1/projects/{project}/invites/{invite}", None),
    ("GET", "/api/v1/projects/{project}/api-keys", None),
    ("DELETE", "/api/v1/projects/{project}/api-keys/{key}", None),
    ("GET", "/api/v1/projects/{project}/versions", None),
    ("GET", "/api/v1/projects/{project}/versions/{version}", None),
    ("POST", "/api/v1/projects/{project}/versions/{version}/restore", None),
    ("GET", "/api/v1/projects/{project}/analytics", None),
    # The hidden project's rows asked for through the caller's own project.
    ("GET", "/api/v1/projects/{own}/versions/{version}", None),
    ("POST", "/api/v1/projects/{own}/versions/{version}/restore", None),
    ("DELETE", "/api/v1/projects/{own}/invites/{invite}", None),
    ("DELETE", "/api/v1/projects/{own}/api-keys/{key}", None),
    ("PATCH", "/api/v1/projects/{own}/members/{member}", {"role": "viewer"}),
    ("DELETE", "/api/v1/projects/{own}/members/{member}", None),
    ("POST", "/api/v1/me/invites/{invite}/accept", None),
]

GRAPHQL_PROJECT = "query ($id: ID!) { project(id: $id) { id name } }"


@dataclass
class HiddenProject:
    """A project with one row of each kind, and its owner and viewer."""

    owner: Account
    viewer: Account
    ids: dict[str, str]


HIDDEN_ROWS = ("project", "asset", "job", "version", "invite", "key", "member")


def random_ids() -> dict[str, str]:
    return {name: uuid.uuid4().hex for name in HIDDEN_ROWS}


@pytest.fixture
async def hidden(api: ApiClient, db_url: str) -> HiddenProject:
    owner = await api.signup()
    viewer = await api.signup()
    pid = await api.create_project(owner, "Secret")
    await api.add_member(owner, pid, viewer, "viewer")
    database = Database(db_url)
    async with database.session() as session:
        asset = Asset(
            project_id=pid,
            storage_key=f"projects/{pid}/{uuid.uuid4().hex}.wav",
            kind="audio",
            filename="take.wav",
            content_type="audio/wav",
            size_bytes=44,
            sha256="0" * 64,
        )
        job = Job(project_id=pid, kind="mixing", input_hash="0" * 64, params={})
        session.add_all([asset, job])
    await database.aclose()
    version = await api.call(
        "POST", f"/api/v1/projects/{pid}/versions", owner.access_token, json={"name": "v1"}
    )
    invite = await api.call(
        "POST",
        f"/api/v1/projects/{pid}/invites",
        owner.access_token,
        json={"role": "editor", "email": "someone.else@example.com"},
    )
    key = await api.call(
        "POST",
        f"/api/v1/projects/{pid}/api-keys",
        owner.access_token,
        json={"name": "bot", "role": "editor"},
    )
    assert (version.status_code, invite.status_code, key.status_code) == (201, 201, 201)
    ids = {
        "project": pid,
        "asset": asset.id,
        "job": job.id,
        "version": version.json()["id"],
        "invite": invite.json()["id"],
        "key": key.json()["id"],
        "member": owner.user_id,
    }
    # The rows are real: the owner sees them.
    for path in ("/api/v1/assets/{asset}", "/api/v1/jobs/{job}", "/api/v1/projects/{project}"):
        seen = await api.call("GET", path.format(**ids), owner.access_token)
        assert seen.status_code == 200, seen.text
    return HiddenProject(owner, viewer, ids)


@pytest.mark.parametrize("caller", ["user", "api_key"])
async def test_hidden_rows_answer_like_random_ids(
    api: ApiClient, hidden: HiddenProject, caller: str
) -> None:
    stranger = await api.signup()
    own = await api.create_project(stranger, "Mine")
    token = stranger.access_token if caller == "user" else await api.api_key(stranger, own, "owner")
    mismatches = []
    for method, path, body in ROUTES:
        real = await api.call(method, path.format(own=own, **hidden.ids), token, json=body)
        fake = await api.call(method, path.format(own=own, **random_ids()), token, json=body)
        assert real.status_code in (403, 404), (method, path, real.text)
        if (real.status_code, real.json()) != (fake.status_code, fake.json()):
            mismatches.append((method, path, real.json(), fake.json()))
    assert mismatches == []
    real_graphql, fake_graphql = [
        (
            await api.call(
                "POST", "/graphql", token, json={"query": GRAPHQL_PROJECT, "variables": {"id": id_}}
            )
        ).json()
        for id_ in (hidden.ids["project"], uuid.uuid4().hex)
    ]
    assert real_graphql["data"] is None
    assert real_graphql == fake_graphql

    # Nothing of the hidden project changed.
    owner = hidden.owner.access_token
    pid = hidden.ids["project"]
    listed = await api.call("GET", f"/api/v1/projects/{pid}/invites", owner)
    pending = [i["id"] for i in listed.json()["items"] if i["accepted_at"] is None]
    assert pending == [hidden.ids["invite"]]
    keys = await api.call("GET", f"/api/v1/projects/{pid}/api-keys", owner)
    assert [(k["id"], k["revoked_at"]) for k in keys.json()["items"]] == [(hidden.ids["key"], None)]
    project = await api.call("GET", f"/api/v1/projects/{pid}", owner)
    assert project.json()["name"] == "Secret"


async def test_a_member_below_the_needed_role_may_learn_the_row_exists(
    api: ApiClient, hidden: HiddenProject
) -> None:
    viewer = hidden.viewer.access_token
    ids = hidden.ids
    assert (await api.call("GET", f"/api/v1/assets/{ids['asset']}", viewer)).status_code == 200
    restore = await api.call(
        "POST", f"/api/v1/projects/{ids['project']}/versions/{ids['version']}/restore", viewer
    )
    assert restore.status_code == 403
    assert restore.json()["error"]["details"] == {"required": "editor", "role": "viewer"}
