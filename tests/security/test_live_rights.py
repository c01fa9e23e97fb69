"""Rights follow changes live: open sockets close, or turn read-only, within a second of
the change that takes their rights away."""

from __future__ import annotations

import contextlib
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import anyio
import pycrdt
import pytest
from sqlalchemy import func, select
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, InvalidStatus

from jacameno.api.auth.tokens import TokenIssuer
from jacameno.api.db import Database
from jacameno.collab.protocol import AuthMessage, decode_message, sync_update
from jacameno.collab.sql_tables import doc_snapshots, doc_updates
from tests.collab.conftest import CollabWorld
from tests.support.api_client import DEFAULT_PASSWORD, Account

TIMEOUT_S = 30
#: The issue's promise: a change reaches open sockets within a second.
LIVE_S = 1.0


@asynccontextmanager
async def _socket(world: CollabWorld, token: str) -> AsyncIterator[ClientConnection]:
    async with connect(f"{world.url()}?token={token}", max_size=None) as ws:
        with anyio.fail_after(TIMEOUT_S):
            await ws.recv()  # sync step 1: the server has joined us to the room
        yield ws


async def _closed_within(ws: ClientConnection, seconds: float) -> int:
    """Read until the server closes; return its code, failing if that took too long."""
    started = time.perf_counter()
    with anyio.fail_after(TIMEOUT_S), contextlib.suppress(ConnectionClosed):
        while True:
            await ws.recv()
    assert time.perf_counter() - started < seconds
    assert ws.close_code is not None
    return ws.close_code


def _edit(text: str) -> bytes:
    doc: pycrdt.Doc[Any] = pycrdt.Doc()
    doc.get("lyrics", type=pycrdt.Text).insert(0, text)
    return doc.get_update()


async def _lyrics(world: CollabWorld, reader: Account) -> str:
    response = await world.api.call(
        "GET", f"/api/v1/projects/{world.project_id}/document", reader.access_token
    )
    assert response.status_code == 200, response.text
    return str(response.json().get("lyrics", ""))


async def test_a_revoked_api_key_loses_its_socket(world: CollabWorld) -> None:
    created = await world.api.call(
        "POST",
        f"/api/v1/projects/{world.project_id}/api-keys",
        world.owner.access_token,
        json={"name": "bot", "role": "editor"},
    )
    key = created.json()
    async with _socket(world, key["key"]) as ws:
        revoked = await world.api.call(
            "DELETE",
            f"/api/v1/projects/{world.project_id}/api-keys/{key['id']}",
            world.owner.access_token,
        )
        assert revoked.status_code == 204
        assert await _closed_within(ws, LIVE_S) == 4401
    # And it cannot come back: the upgrade itself is refused.
    with pytest.raises(InvalidStatus) as refused:
        async with connect(f"{world.url()}?token={key['key']}"):
            pass
    assert refused.value.response.status_code == 401


async def test_a_demoted_editor_is_read_only_at_once_and_told_so(world: CollabWorld) -> None:
    async with _socket(world, world.editor.access_token) as ws:
        changed = await world.api.call(
            "PATCH",
            f"/api/v1/projects/{world.project_id}/members/{world.editor.user_id}",
            world.owner.access_token,
            json={"role": "viewer"},
        )
        assert changed.status_code == 200, changed.text
        await ws.send(sync_update(_edit("sneaky")))
        with anyio.fail_after(TIMEOUT_S):
            while not isinstance(message := decode_message(bytes(await ws.recv())), AuthMessage):
                pass
        assert b"read-only" in message.payload
    assert "sneaky" not in await _lyrics(world, world.owner)


async def test_a_removed_member_loses_the_socket(world: CollabWorld) -> None:
    async with _socket(world, world.viewer.access_token) as ws:
        removed = await world.api.call(
            "DELETE",
            f"/api/v1/projects/{world.project_id}/members/{world.viewer.user_id}",
            world.owner.access_token,
        )
        assert removed.status_code == 204
        assert await _closed_within(ws, LIVE_S) == 4404


async def test_logging_out_closes_the_sessions_sockets(world: CollabWorld) -> None:
    async with _socket(world, world.editor.access_token) as ws:
        out = await world.api.call(
            "POST",
            "/api/v1/auth/logout",
            world.editor.access_token,
            json={"refresh_token": world.editor.refresh_token},
        )
        assert out.status_code == 204
        assert await _closed_within(ws, LIVE_S) == 4401


async def test_an_expiring_token_closes_its_socket_on_time(world: CollabWorld) -> None:
    issuer = TokenIssuer(world.server.settings.secret, ttl_s=2)
    token, claims = issuer.issue(world.editor.user_id, "family-for-the-test")
    async with _socket(world, token) as ws:
        with anyio.fail_after(TIMEOUT_S), contextlib.suppress(ConnectionClosed):
            while True:
                await ws.recv()
        assert time.time() - claims.expires_at < LIVE_S
        assert ws.close_code == 4401


async def test_deleting_the_project_closes_sockets_and_removes_the_document(
    world: CollabWorld,
) -> None:
    async with _socket(world, world.editor.access_token) as ws:
        await ws.send(sync_update(_edit("last words ")))
        deleted = await world.api.call(
            "DELETE", f"/api/v1/projects/{world.project_id}", world.owner.access_token
        )
        assert deleted.status_code == 204
        assert await _closed_within(ws, LIVE_S) == 4404
    database = Database(world.server.settings.database_url)
    try:
        async with database.engine.connect() as conn:
            for table in (doc_updates, doc_snapshots):
                count = await conn.execute(
                    select(func.count()).select_from(table).where(table.c.room == world.project_id)
                )
                assert count.scalar_one() == 0
    finally:
        await database.aclose()
    with pytest.raises(InvalidStatus) as refused:
        async with connect(f"{world.url()}?token={world.owner.access_token}"):
            pass
    assert refused.value.response.status_code == 404


async def test_ending_a_stolen_session_from_the_list_closes_its_sockets(
    world: CollabWorld,
) -> None:
    """The owner of an account, signed in elsewhere, ends the session a thief holds."""
    thief = await world.api.call(
        "POST",
        "/api/v1/auth/login",
        headers={"user-agent": "Mozilla/5.0 (Windows NT 10.0; Win64; x64) Firefox/133.0"},
        json={"email": world.editor.email, "password": DEFAULT_PASSWORD},
    )
    stolen = thief.json()
    async with _socket(world, stolen["access_token"]) as ws:
        listed = await world.api.call("GET", "/api/v1/me/sessions", world.editor.access_token)
        sessions = listed.json()["sessions"]
        (theirs,) = [s for s in sessions if s["device"] == "Firefox on Windows"]
        assert theirs["current"] is False
        assert theirs["place"] == "this computer"
        assert [s["current"] for s in sessions].count(True) == 1
        ended = await world.api.call(
            "DELETE", f"/api/v1/me/sessions/{theirs['id']}", world.editor.access_token
        )
        assert ended.status_code == 204
        assert await _closed_within(ws, LIVE_S) == 4401
    refreshed = await world.api.call(
        "POST", "/api/v1/auth/refresh", json={"refresh_token": stolen["refresh_token"]}
    )
    assert refreshed.status_code == 401
    me = await world.api.call("GET", "/api/v1/me", stolen["access_token"])
    assert me.status_code == 401
    listed = await world.api.call("GET", "/api/v1/me/sessions", world.editor.access_token)
    assert theirs["id"] not in {s["id"] for s in listed.json()["sessions"]}
    # Someone else's session is not theirs to end.
    other = await world.api.call(
        "DELETE", f"/api/v1/me/sessions/{theirs['id']}", world.viewer.access_token
    )
    assert other.status_code == 404


async def test_a_key_revoked_from_the_account_page_loses_its_socket(world: CollabWorld) -> None:
    key = await world.api.api_key(world.owner, world.project_id, "editor")
    async with connect(
        f"{world.url()}?token={key}", max_size=None, user_agent_header="mix-bot/1.0 curl/8.5"
    ) as ws:
        with anyio.fail_after(TIMEOUT_S):
            await ws.recv()
        listed = await world.api.call("GET", "/api/v1/me/sessions", world.owner.access_token)
        (entry,) = listed.json()["api_keys"]
        assert entry["ip"] == "127.0.0.1"
        assert entry["last_used_at"] is not None
        assert entry["project_name"]
        assert entry["role"] == "editor"
        assert entry["prefix"] in key
        # Only the key's maker may revoke it here.
        refused = await world.api.call(
            "DELETE", f"/api/v1/me/api-keys/{entry['id']}", world.editor.access_token
        )
        assert refused.status_code == 404
        revoked = await world.api.call(
            "DELETE", f"/api/v1/me/api-keys/{entry['id']}", world.owner.access_token
        )
        assert revoked.status_code == 204
        assert await _closed_within(ws, LIVE_S) == 4401
    listed = await world.api.call("GET", "/api/v1/me/sessions", world.owner.access_token)
    assert listed.json()["api_keys"] == []
