"""Named versions over REST and GraphQL: name, list, compare, restore; permissions and bad input."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import Any

import anyio
import pytest

from jacameno.collab.client import CollabClient
from tests.support.api_client import Account, ApiClient
from tests.support.app_server import RunningServer

TIMEOUT_S = 20


@dataclass
class Song:
    server: RunningServer
    api: ApiClient
    owner: Account
    editor: Account
    viewer: Account
    stranger: Account
    project_id: str

    def peer(self, account: Account) -> CollabClient:
        return CollabClient.for_project(self.server.base_url, self.project_id, account.access_token)

    def path(self, suffix: str = "") -> str:
        return f"/api/v1/projects/{self.project_id}/versions{suffix}"


@pytest.fixture
async def song(start_api: Callable[..., Any]) -> AsyncIterator[Song]:
    async with start_api(rate_limits_enabled=False) as (server, api):
        owner, editor, viewer, stranger = [await api.signup() for _ in range(4)]
        project_id = await api.create_project(owner)
        await api.add_member(owner, project_id, editor, "editor")
        await api.add_member(owner, project_id, viewer, "viewer")
        yield Song(server, api, owner, editor, viewer, stranger, project_id)


def error_code(response: Any) -> str:
    code: str = response.json()["error"]["code"]
    return code


async def test_name_compare_and_restore(song: Song) -> None:
    with anyio.fail_after(TIMEOUT_S):
        async with song.peer(song.editor) as peer:
            await peer.wait_synced()
            drums = peer.project.add_track("Drums", "audio")
            peer.project.set_lyrics_text("first verse\n")
            await peer.flush()

            named = await song.api.call(
                "POST", song.path(), song.editor.access_token, json={"name": " v1 "}
            )
            assert named.status_code == 201, named.text
            v1 = named.json()
            assert v1["name"] == "v1"
            assert v1["created_by"] == f"user:{song.editor.user_id}"
            assert set(v1) == {"id", "name", "created_by", "created_at"}

            peer.project.add_track("Synth", "instrument")
            peer.project.update_track(drums, volume_db=-4.0)
            peer.project.set_lyrics_text("first verse\nsecond verse\n")
            await peer.flush()

            listed = await song.api.call("GET", song.path(), song.viewer.access_token)
            assert listed.status_code == 200
            assert [item["id"] for item in listed.json()["items"]] == [v1["id"]]
            assert listed.json()["total"] == 1

            detail = await song.api.call(
                "GET", song.path(f"/{v1['id']}?document=true"), song.viewer.access_token
            )
            assert detail.status_code == 200, detail.text
            changes = detail.json()["changes"]
            assert changes["identical"] is False
            assert len(changes["tracks"]["added"]) == 1
            assert changes["tracks"]["changed"] == {drums: ["volume_db"]}
            assert changes["lyrics"]["chars_inserted"] == len("second verse\n")
            assert detail.json()["document"]["lyrics"] == "first verse\n"

            restored = await song.api.call(
                "POST", song.path(f"/{v1['id']}/restore"), song.editor.access_token
            )
            assert restored.status_code == 200, restored.text
            body = restored.json()
            assert body["version"]["id"] == v1["id"]
            assert body["changes"]["tracks"]["removed"] == changes["tracks"]["added"]
            assert body["backup_version_id"]
            # The connected peer receives the restore as an ordinary update.
            await peer.wait_for(lambda: peer.project.lyrics_text() == "first verse\n")
            assert [t.name for t in peer.project.tracks_in_order()] == ["Drums"]
            assert peer.project.get_track(drums).volume_db == 0.0

        document = await song.api.call(
            "GET", f"/api/v1/projects/{song.project_id}/document", song.viewer.access_token
        )
        assert document.json()["document"]["lyrics"] == "first verse\n"

        # Restoring the automatic backup undoes the restore.
        undo = await song.api.call(
            "POST", song.path(f"/{body['backup_version_id']}/restore"), song.owner.access_token
        )
        assert undo.status_code == 200
        document = await song.api.call(
            "GET", f"/api/v1/projects/{song.project_id}/document", song.viewer.access_token
        )
        assert document.json()["document"]["lyrics"] == "first verse\nsecond verse\n"
        assert len(document.json()["document"]["tracks"]) == 2


async def test_rest_permissions_and_bad_input(song: Song) -> None:
    api, editor = song.api, song.editor.access_token
    v1 = (await api.call("POST", song.path(), editor, json={"name": "v1"})).json()
    viewer_key = await api.api_key(song.owner, song.project_id, "viewer")
    editor_key = await api.api_key(song.owner, song.project_id, "editor")
    other = await api.create_project(song.owner, "other")
    other_version = (
        await api.call(
            "POST",
            f"/api/v1/projects/{other}/versions",
            song.owner.access_token,
            json={"name": "o"},
        )
    ).json()

    cases: list[tuple[str, str, str | None, dict[str, Any], int, str]] = [
        ("POST", song.path(), song.viewer.access_token, {"json": {"name": "x"}}, 403, "forbidden"),
        ("POST", song.path(), viewer_key, {"json": {"name": "x"}}, 403, "forbidden"),
        ("POST", song.path(f"/{v1['id']}/restore"), song.viewer.access_token, {}, 403, "forbidden"),
        (
            "POST",
            song.path(),
            song.stranger.access_token,
            {"json": {"name": "x"}},
            404,
            "not_found",
        ),
        ("GET", song.path(), song.stranger.access_token, {}, 404, "not_found"),
        ("GET", song.path(f"/{v1['id']}"), song.stranger.access_token, {}, 404, "not_found"),
        ("GET", song.path(), None, {}, 401, "unauthorized"),
        ("GET", song.path("/" + "0" * 32), editor, {}, 404, "not_found"),
        ("POST", song.path("/" + "0" * 32 + "/restore"), editor, {}, 404, "not_found"),
        ("GET", song.path(f"/{other_version['id']}"), editor, {}, 404, "not_found"),
        ("POST", song.path(f"/{other_version['id']}/restore"), editor, {}, 404, "not_found"),
        ("POST", song.path(), editor, {"json": {}}, 422, "validation_failed"),
        ("POST", song.path(), editor, {"json": {"name": "  "}}, 422, "validation_failed"),
        ("POST", song.path(), editor, {"json": {"name": 3}}, 422, "validation_failed"),
        ("POST", song.path(), editor, {"json": {"name": "x" * 201}}, 422, "validation_failed"),
        (
            "POST",
            song.path(),
            editor,
            {"json": {"name": "x", "extra": 1}},
            422,
            "validation_failed",
        ),
        ("POST", song.path(), editor, {"content": b"{nope"}, 400, "bad_request"),
        ("GET", song.path("?limit=0"), editor, {}, 422, "validation_failed"),
        ("GET", "/api/v1/projects/" + "0" * 32 + "/versions", editor, {}, 404, "not_found"),
    ]
    for method, path, token, kwargs, status, code in cases:
        if "content" in kwargs:
            kwargs = {**kwargs, "headers": {"content-type": "application/json"}}
        response = await api.call(method, path, token, **kwargs)
        assert (response.status_code, error_code(response)) == (status, code), (method, path)

    by_key = await api.call("POST", song.path(), editor_key, json={"name": "from a bot"})
    assert by_key.status_code == 201
    assert by_key.json()["created_by"].startswith("apikey:")
    other_key = await api.api_key(song.owner, other, "editor")
    refused = await api.call("GET", song.path(), other_key)
    assert (refused.status_code, error_code(refused)) == (403, "forbidden")


GQL_NAME = "mutation($p: ID!, $n: String!) { nameVersion(projectId: $p, name: $n) { id name } }"
GQL_RESTORE = """
mutation($p: ID!, $v: ID!) {
  restoreVersion(projectId: $p, versionId: $v) { version { id } changes backupVersionId }
}
"""
GQL_DOCUMENT = (
    "query($p: ID!) { project(id: $p) { document documentProblems { path } versions { id } } }"
)


async def gql(song: Song, query: str, token: str, **variables: Any) -> dict[str, Any]:
    response = await song.api.call(
        "POST", "/graphql", token, json={"query": query, "variables": variables}
    )
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def gql_codes(body: dict[str, Any]) -> list[str]:
    return [error.get("extensions", {}).get("code", "") for error in body.get("errors", [])]


async def test_graphql_versions_and_document(song: Song) -> None:
    pid, editor = song.project_id, song.editor.access_token
    async with song.peer(song.editor) as peer:
        with anyio.fail_after(TIMEOUT_S):
            await peer.wait_synced()
            peer.project.set_lyrics_text("la la")
            await peer.flush()
            named = await gql(song, GQL_NAME, editor, p=pid, n="chorus idea")
            version_id = named["data"]["nameVersion"]["id"]
            assert named["data"]["nameVersion"]["name"] == "chorus idea"
            peer.project.set_lyrics_text("la la la")
            await peer.flush()
            restored = await gql(song, GQL_RESTORE, editor, p=pid, v=version_id)
            result = restored["data"]["restoreVersion"]
            assert result["version"]["id"] == version_id
            assert result["changes"]["lyrics"]["chars_removed"] == 3
            assert result["backupVersionId"]
            await peer.wait_for(lambda: peer.project.lyrics_text() == "la la")

    read = await gql(song, GQL_DOCUMENT, song.viewer.access_token, p=pid)
    project = read["data"]["project"]
    assert project["document"]["lyrics"] == "la la"
    assert project["documentProblems"] == []
    assert len(project["versions"]) == 2

    expectations = [
        (GQL_NAME, song.viewer.access_token, {"p": pid, "n": "x"}, "forbidden"),
        (GQL_NAME, song.stranger.access_token, {"p": pid, "n": "x"}, "not_found"),
        (GQL_NAME, editor, {"p": pid, "n": "   "}, "validation_failed"),
        (GQL_RESTORE, song.viewer.access_token, {"p": pid, "v": version_id}, "forbidden"),
        (GQL_RESTORE, editor, {"p": pid, "v": "0" * 32}, "not_found"),
        (GQL_DOCUMENT, song.stranger.access_token, {"p": pid}, "not_found"),
    ]
    for query, token, variables, code in expectations:
        assert gql_codes(await gql(song, query, token, **variables)) == [code], (query, code)
