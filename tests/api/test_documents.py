"""``GET /api/v1/projects/{id}/document``: the live document as JSON, for members only."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import anyio
import pycrdt

from jacameno.collab.client import CollabClient

TIMEOUT_S = 20


async def test_document_read_and_access(start_api: Callable[..., Any]) -> None:
    async with start_api(rate_limits_enabled=False) as (server, api):
        owner, viewer, stranger = [await api.signup() for _ in range(3)]
        pid = await api.create_project(owner)
        await api.add_member(owner, pid, viewer, "viewer")
        path = f"/api/v1/projects/{pid}/document"

        empty = await api.call("GET", path, viewer.access_token)
        assert empty.status_code == 200, empty.text
        assert empty.json()["project_id"] == pid
        assert empty.json()["document"]["tracks"] == []

        with anyio.fail_after(TIMEOUT_S):
            async with CollabClient.for_project(server.base_url, pid, owner.access_token) as peer:
                await peer.wait_synced()
                track = peer.project.add_track("Vocals", "vocal")
                peer.project.set_lyrics_text("hello")
                # A bare client writes a wrong shape; reads repair it and report it.
                peer.doc.get("meta", type=pycrdt.Map)["bpm"] = "fast"
                await peer.flush()

        body = (await api.call("GET", path, viewer.access_token)).json()
        document = body["document"]
        assert [t["id"] for t in document["tracks"]] == [track]
        assert document["lyrics"] == "hello"
        assert document["meta"]["bpm"] == 120.0
        assert "meta.bpm" in {p["path"] for p in body["problems"]}

        key = await api.api_key(owner, pid, "viewer")
        assert (await api.call("GET", path, key)).status_code == 200
        other = await api.create_project(owner, "other")
        other_key = await api.api_key(owner, other, "viewer")
        for token, status, code in [
            (stranger.access_token, 404, "not_found"),
            (None, 401, "unauthorized"),
            ("garbage", 401, "unauthorized"),
            (other_key, 403, "forbidden"),
        ]:
            refused = await api.call("GET", path, token)
            assert (refused.status_code, refused.json()["error"]["code"]) == (status, code)
        missing = await api.call("GET", f"/api/v1/projects/{'0' * 32}/document", owner.access_token)
        assert missing.status_code == 404
