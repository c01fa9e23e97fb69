"""The collaboration route end to end: refusals, read-only peers, awareness, bad input."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import anyio
import pycrdt
import pytest
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, InvalidStatus

from jacameno.collab.channel import CloseCode
from jacameno.collab.client import ClientRefusedError, CollabClient
from jacameno.collab.protocol import (
    MessageType,
    SyncType,
    awareness_message,
    decode_message,
    sync_step1,
    sync_update,
    write_varbytes,
)
from tests.collab.conftest import CollabWorld

TIMEOUT_S = 15


def text_of(client: CollabClient, name: str = "lyrics") -> str:
    return str(client.doc.get(name, type=pycrdt.Text))


async def close_code_of(ws: ClientConnection) -> int:
    """Read until the server closes; the close code it sent."""
    with anyio.fail_after(TIMEOUT_S):
        try:
            async for _ in ws:
                pass
        except ConnectionClosed:
            pass
    assert ws.close_code is not None, "the connection did not close"
    return int(ws.close_code)


async def raw(world: CollabWorld, token: str | None, project_id: str | None = None) -> Any:
    url = world.url(project_id) + (f"?token={token}" if token else "")
    return connect(url, compression=None, max_size=None)


@pytest.mark.parametrize(
    ("who", "expected"),
    [
        ("nobody", 401),
        ("garbage", 401),
        ("stranger", 404),
        ("missing-project", 404),
        ("other-project-key", 403),
    ],
)
async def test_refusals_are_http_answers_before_accepting(
    world: CollabWorld, who: str, expected: int
) -> None:
    project_id = None
    token: str | None = None
    if who == "garbage":
        token = "not.a.token"
    elif who == "stranger":
        token = (await world.api.signup()).access_token
    elif who == "missing-project":
        token = world.owner.access_token
        project_id = "0" * 32
    elif who == "other-project-key":
        other = await world.api.create_project(world.owner, "other")
        token = await world.api.api_key(world.owner, other, "editor")
    with pytest.raises(InvalidStatus) as refused:
        async with await raw(world, token, project_id):
            pass
    assert refused.value.response.status_code == expected
    body = json.loads(refused.value.response.body or b"")
    assert set(body["error"]) == {"code", "message", "details"}


async def test_refused_client_stops_reconnecting(world: CollabWorld) -> None:
    stranger = await world.api.signup()
    async with world.peer(stranger) as client:
        with anyio.fail_after(TIMEOUT_S), pytest.raises(ClientRefusedError) as refused:
            await client.wait_synced()
    assert refused.value.code == CloseCode.NOT_FOUND


async def test_viewer_reads_but_cannot_write_and_keeps_awareness(world: CollabWorld) -> None:
    async with world.peer(world.editor) as editor, world.peer(world.viewer) as viewer:
        with anyio.fail_after(TIMEOUT_S):
            await editor.wait_synced()
            await viewer.wait_synced()
            viewer.doc.get("lyrics", type=pycrdt.Text).insert(0, "VIEWER WAS HERE ")
            viewer.set_awareness({"user": "viewer", "playhead_s": 12.5})
            editor.doc.get("lyrics", type=pycrdt.Text).insert(0, "editor line")
            await viewer.wait_for(lambda: "editor line" in text_of(viewer))
            await editor.wait_for(lambda: viewer.client_id in editor.awareness_states)
            seen_by_editor = editor.awareness_states[viewer.client_id]
            editor_text = text_of(editor)
    assert seen_by_editor == {"user": "viewer", "playhead_s": 12.5}
    assert "VIEWER" not in editor_text
    async with world.peer(world.owner) as fresh:
        with anyio.fail_after(TIMEOUT_S):
            await fresh.wait_synced()
        assert text_of(fresh) == "editor line"


async def test_viewer_api_key_is_read_only(world: CollabWorld) -> None:
    key = await world.api.api_key(world.owner, world.project_id, "viewer")
    async with (
        CollabClient(world.url(), token=key) as bot,
        world.peer(world.editor) as editor,
    ):
        with anyio.fail_after(TIMEOUT_S):
            await bot.wait_synced()
            await editor.wait_synced()
            bot.doc.get("comments", type=pycrdt.Array).append("bot comment")
            editor.doc.get("lyrics", type=pycrdt.Text).insert(0, "marker")
            await bot.wait_for(lambda: text_of(bot) == "marker")
    assert len(editor.doc.get("comments", type=pycrdt.Array)) == 0


async def test_late_joiner_gets_awareness_at_once(world: CollabWorld) -> None:
    async with world.peer(world.editor) as early:
        with anyio.fail_after(TIMEOUT_S):
            await early.wait_synced()
            early.set_awareness({"user": "early", "cursor": 3})
            async with world.peer(world.owner) as helper:
                await helper.wait_synced()
                await helper.wait_for(lambda: early.client_id in helper.awareness_states)
            async with await raw(world, world.viewer.access_token) as ws:
                frames = [await ws.recv(), await ws.recv()]
    kinds = [decode_message(bytes(frame)) for frame in frames]
    assert any(getattr(k, "payload", b"").find(b"early") >= 0 for k in kinds)


async def test_awareness_removed_when_peer_leaves(world: CollabWorld) -> None:
    async with world.peer(world.editor) as stay:
        with anyio.fail_after(TIMEOUT_S):
            await stay.wait_synced()
            async with world.peer(world.owner) as leave:
                await leave.wait_synced()
                leave.set_awareness({"user": "leaving"})
                await stay.wait_for(lambda: leave.client_id in stay.awareness_states)
                gone = leave.client_id
            await stay.wait_for(lambda: gone not in stay.awareness_states)


async def test_duplicate_awareness_is_not_forwarded(world: CollabWorld) -> None:
    async with world.peer(world.editor) as watcher:
        with anyio.fail_after(TIMEOUT_S):
            await watcher.wait_synced()
            async with await raw(world, world.owner.access_token) as ws:
                from jacameno.collab.protocol import AwarenessEntry, encode_awareness

                frame = awareness_message(encode_awareness([AwarenessEntry(777, 1, '{"a":1}')]))
                for _ in range(5):
                    await ws.send(frame)  # the same clock again and again
                await watcher.wait_for(lambda: 777 in watcher.awareness_states)
                newer = awareness_message(encode_awareness([AwarenessEntry(777, 2, '{"a":2}')]))
                await ws.send(newer)
                await watcher.wait_for(lambda: watcher.awareness_states.get(777) == {"a": 2})


GARBAGE: list[tuple[str, Callable[[], bytes], int]] = [
    ("random bytes", lambda: b"\x17\x99\x00\xfe" * 8, CloseCode.MALFORMED),
    (
        "truncated varint",
        lambda: bytes([MessageType.SYNC, SyncType.UPDATE, 0xFF]),
        CloseCode.MALFORMED,
    ),
    (
        "length past the end",
        lambda: bytes([MessageType.SYNC, SyncType.UPDATE]) + b"\x50abc",
        CloseCode.MALFORMED,
    ),
    ("undecodable update", lambda: sync_update(b"\x05\x01garbage-update"), CloseCode.MALFORMED),
    ("bad state vector", lambda: sync_step1(b"\xff\xff"), CloseCode.MALFORMED),
    (
        "awareness not JSON",
        lambda: (
            bytes([MessageType.AWARENESS])
            + write_varbytes(b"\x01\x05\x01" + write_varbytes(b"{nope"))
        ),
        CloseCode.MALFORMED,
    ),
    ("empty frame", lambda: b"", CloseCode.MALFORMED),
    ("oversized", lambda: sync_update(b"\x00" * 200_000), CloseCode.MESSAGE_TOO_BIG),
]


@pytest.mark.parametrize(("name", "make_frame", "expected"), GARBAGE, ids=[g[0] for g in GARBAGE])
async def test_bad_messages_close_only_the_sender(
    start_world: Callable[..., Any], name: str, make_frame: Callable[[], bytes], expected: int
) -> None:
    async with (
        start_world(collab_max_message_bytes=100_000) as world,
        world.peer(world.editor) as healthy,
        world.peer(world.owner) as other,
    ):
        with anyio.fail_after(TIMEOUT_S):
            await healthy.wait_synced()
            await other.wait_synced()
            async with await raw(world, world.owner.access_token) as ws:
                await ws.send(make_frame())
                assert await close_code_of(ws) == expected
            healthy.doc.get("lyrics", type=pycrdt.Text).insert(0, f"still here after {name}")
            await other.wait_for(lambda: text_of(other).startswith("still here"))
        assert healthy.connected
        assert other.connected


async def test_text_frames_are_refused(world: CollabWorld) -> None:
    async with await raw(world, world.editor.access_token) as ws:
        await ws.send("hello")
        assert await close_code_of(ws) == CloseCode.MALFORMED


# The send queue is the same on either database (19 s a run): SQLite only.
@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
async def test_slow_client_is_disconnected_not_silently_starved(
    start_world: Callable[..., Any],
) -> None:
    async with (
        start_world(collab_send_queue_messages=16) as world,
        world.peer(world.editor) as writer,
        world.peer(world.owner) as reader,
    ):
        with anyio.fail_after(60):
            await writer.wait_synced()
            await reader.wait_synced()
            # A raw client that never reads: its kernel buffers fill, then its queue.
            ws = await connect(
                world.url() + f"?token={world.viewer.access_token}",
                compression=None,
                max_size=None,
                max_queue=1,
            )
            ws.transport.pause_reading()
            text = writer.doc.get("lyrics", type=pycrdt.Text)
            chunk = "x" * 50_000
            for i in range(400):
                text.insert(len(text), chunk)
                if i % 20 == 0:
                    await reader.wait_for(lambda i=i: len(text_of(reader)) >= (i + 1) * 50_000)
            await reader.wait_for(lambda: len(text_of(reader)) == 400 * 50_000)
            ws.transport.resume_reading()
            assert await close_code_of(ws) == CloseCode.TOO_SLOW
        assert reader.connected
