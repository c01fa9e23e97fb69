"""What the browser client needs from projects: tempo, key and time signature set at
creation (in the document's meta) and a name search in the project list."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from tests.support.api_client import Account, ApiClient


async def document_meta(api: ApiClient, account: Account, project_id: str) -> dict[str, Any]:
    response = await api.call(
        "GET", f"/api/v1/projects/{project_id}/document", account.access_token
    )
    assert response.status_code == 200, response.text
    meta: dict[str, Any] = response.json()["document"]["meta"]
    return meta


async def names(api: ApiClient, token: str, query: str) -> list[str]:
    response = await api.call("GET", "/api/v1/projects", token, params={"q": query})
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["total"] == len(body["items"])
    return sorted(p["name"] for p in body["items"])


async def test_create_writes_tempo_key_and_time_signature_into_meta(api: ApiClient) -> None:
    owner = await api.signup()
    created = await api.call(
        "POST",
        "/api/v1/projects",
        owner.access_token,
        json={"name": "Waltz", "bpm": 96.5, "key": " F# minor ", "time_signature": "3/4"},
    )
    assert created.status_code == 201, created.text
    meta = await document_meta(api, owner, created.json()["id"])
    assert meta["title"] == "Waltz"
    assert meta["bpm"] == 96.5
    assert meta["key"] == "F# minor"
    assert meta["time_signature"] == "3/4"


async def test_create_without_settings_uses_the_defaults(api: ApiClient) -> None:
    owner = await api.signup()
    meta = await document_meta(api, owner, await api.create_project(owner, "Plain"))
    assert meta["bpm"] == 120.0
    assert meta["key"] is None
    assert meta["time_signature"] == "4/4"


@pytest.mark.parametrize(
    "fields",
    [
        {"bpm": 0},
        {"bpm": -10},
        {"bpm": 1000},
        {"bpm": "fast"},
        {"time_signature": "5/5"},
        {"time_signature": "0/4"},
        {"time_signature": "4/4 "},
        {"time_signature": "100/4"},
        {"key": ""},
        {"key": "x" * 33},
    ],
)
async def test_bad_settings_are_refused(api: ApiClient, fields: dict[str, Any]) -> None:
    owner = await api.signup()
    response = await api.call(
        "POST", "/api/v1/projects", owner.access_token, json={"name": "Bad", **fields}
    )
    assert response.status_code == 422, (fields, response.text)
    assert response.json()["error"]["code"] == "validation_failed"
    listed = await api.call("GET", "/api/v1/projects", owner.access_token)
    assert listed.json()["total"] == 0


async def test_search_by_name_ignores_case_and_treats_wildcards_literally(
    api: ApiClient,
) -> None:
    owner = await api.signup()
    other = await api.signup()
    for name in ("Summer Song", "summer nights", "Winter", "100% Pure", "1000 Pure", "a_b", "aXb"):
        await api.create_project(owner, name)
    await api.create_project(other, "Summer of someone else")
    token = owner.access_token

    assert await names(api, token, "SUMMER") == ["Summer Song", "summer nights"]
    assert await names(api, token, "  song ") == ["Summer Song"]
    assert await names(api, token, "%") == ["100% Pure"]
    assert await names(api, token, "0%") == ["100% Pure"]
    assert await names(api, token, "_") == ["a_b"]
    assert await names(api, token, "a_b") == ["a_b"]
    assert await names(api, token, "\\") == []
    assert await names(api, token, "nothing like it") == []
    everything = await names(api, token, "")
    assert len(everything) == 7

    page = await api.call(
        "GET", "/api/v1/projects", token, params={"q": "pure", "limit": 1, "offset": 1}
    )
    assert page.json()["total"] == 2
    assert len(page.json()["items"]) == 1

    too_long = await api.call("GET", "/api/v1/projects", token, params={"q": "x" * 201})
    assert too_long.status_code == 422


async def test_search_with_an_api_key(api: ApiClient) -> None:
    owner = await api.signup()
    project_id = await api.create_project(owner, "Night Drive")
    await api.create_project(owner, "Night Shift")
    key = await api.api_key(owner, project_id, "viewer")

    assert await names(api, key, "NIGHT") == ["Night Drive"]
    assert await names(api, key, "drive") == ["Night Drive"]
    assert await names(api, key, "shift") == []
    assert await names(api, key, "%") == []


async def test_search_ignores_case_beyond_ascii(start_api: Callable[..., Any]) -> None:
    async with start_api() as (_server, api):
        owner = await api.signup()
        await api.create_project(owner, "Été indien")
        assert await names(api, owner.access_token, "été") == ["Été indien"]
        assert await names(api, owner.access_token, "ÉTÉ") == ["Été indien"]
