from __future__ import annotations

from collections.abc import AsyncIterator

from tests.support.api_client import ApiClient


async def test_create_get_update_delete(api: ApiClient) -> None:
    owner = await api.signup()
    created = await api.call(
        "POST",
        "/api/v1/projects",
        owner.access_token,
        json={"name": "  First Song  ", "description": "demo"},
    )
    assert created.status_code == 201
    project = created.json()
    assert project["name"] == "First Song"
    assert project["role"] == "owner"
    pid = project["id"]

    got = await api.call("GET", f"/api/v1/projects/{pid}", owner.access_token)
    assert got.json() == project

    renamed = await api.call(
        "PATCH", f"/api/v1/projects/{pid}", owner.access_token, json={"name": "Second"}
    )
    assert renamed.status_code == 200
    assert renamed.json()["name"] == "Second"
    assert renamed.json()["description"] == "demo"

    assert (
        await api.call("DELETE", f"/api/v1/projects/{pid}", owner.access_token)
    ).status_code == 204
    assert (await api.call("GET", f"/api/v1/projects/{pid}", owner.access_token)).status_code == 404


async def test_list_shows_only_member_projects_paginated(api: ApiClient) -> None:
    alice = await api.signup()
    bob = await api.signup()
    alice_ids = [await api.create_project(alice, f"A{i}") for i in range(5)]
    await api.create_project(bob, "B0")
    page1 = (await api.call("GET", "/api/v1/projects?limit=2", alice.access_token)).json()
    page3 = (await api.call("GET", "/api/v1/projects?limit=2&offset=4", alice.access_token)).json()
    assert page1["total"] == 5
    assert len(page1["items"]) == 2
    assert len(page3["items"]) == 1
    seen = {p["id"] for p in page1["items"]} | {p["id"] for p in page3["items"]}
    assert seen <= set(alice_ids)
    bobs = (await api.call("GET", "/api/v1/projects", bob.access_token)).json()
    assert [p["name"] for p in bobs["items"]] == ["B0"]


async def test_bad_pagination_is_422(api: ApiClient) -> None:
    owner = await api.signup()
    for query in ("limit=0", "limit=1000", "offset=-1", "limit=abc"):
        response = await api.call("GET", f"/api/v1/projects?{query}", owner.access_token)
        assert response.status_code == 422, query


async def test_non_member_gets_404_and_viewer_cannot_change(api: ApiClient) -> None:
    owner = await api.signup()
    viewer = await api.signup()
    stranger = await api.signup()
    pid = await api.create_project(owner)
    await api.add_member(owner, pid, viewer, "viewer")

    assert (
        await api.call("GET", f"/api/v1/projects/{pid}", stranger.access_token)
    ).status_code == 404
    got = await api.call("GET", f"/api/v1/projects/{pid}", viewer.access_token)
    assert got.status_code == 200
    assert got.json()["role"] == "viewer"
    patch = await api.call(
        "PATCH", f"/api/v1/projects/{pid}", viewer.access_token, json={"name": "Mine now"}
    )
    assert patch.status_code == 403
    assert patch.json()["error"]["details"] == {"required": "editor", "role": "viewer"}
    delete = await api.call("DELETE", f"/api/v1/projects/{pid}", viewer.access_token)
    assert delete.status_code == 403
    name = (await api.call("GET", f"/api/v1/projects/{pid}", owner.access_token)).json()["name"]
    assert name == "Song"


async def test_editor_may_rename_but_not_delete(api: ApiClient) -> None:
    owner = await api.signup()
    editor = await api.signup()
    pid = await api.create_project(owner)
    await api.add_member(owner, pid, editor, "editor")
    rename = await api.call(
        "PATCH", f"/api/v1/projects/{pid}", editor.access_token, json={"description": "new"}
    )
    assert rename.status_code == 200
    assert (
        await api.call("DELETE", f"/api/v1/projects/{pid}", editor.access_token)
    ).status_code == 403


async def test_update_bad_input(api: ApiClient) -> None:
    owner = await api.signup()
    pid = await api.create_project(owner)
    for body in ({}, {"name": ""}, {"name": 7}, {"colour": "red"}, {"name": "x" * 201}):
        response = await api.call("PATCH", f"/api/v1/projects/{pid}", owner.access_token, json=body)
        assert response.status_code == 422, body
    assert (await api.call("GET", f"/api/v1/projects/{pid}", owner.access_token)).json()[
        "name"
    ] == "Song"


async def test_huge_bodies_are_refused_and_change_nothing(api: ApiClient) -> None:
    owner = await api.signup()
    declared = await api.call(
        "POST",
        "/api/v1/projects",
        owner.access_token,
        content=b'{"name": "' + b"x" * 2_000_000 + b'"}',
        headers={"content-type": "application/json"},
    )
    assert declared.status_code == 413

    async def stream() -> AsyncIterator[bytes]:
        yield b'{"name": "'
        for _ in range(40):
            yield b"y" * 65536
        yield b'"}'

    chunked = await api.call(
        "POST",
        "/api/v1/projects",
        owner.access_token,
        content=stream(),
        headers={"content-type": "application/json"},
    )
    assert chunked.status_code == 413
    assert chunked.json()["error"]["code"] == "payload_too_large"
    listed = (await api.call("GET", "/api/v1/projects", owner.access_token)).json()
    assert listed["total"] == 0


async def test_creating_a_project_creates_its_document(api: ApiClient) -> None:
    owner = await api.signup()
    pid = await api.create_project(owner, "Night Train")
    document = (
        await api.call("GET", f"/api/v1/projects/{pid}/document", owner.access_token)
    ).json()
    assert document["document"]["meta"]["schema_version"] == 1
    assert document["document"]["meta"]["title"] == "Night Train"
    assert document["problems"] == []
