"""The Python peer offline: a 5,000-edit backlog merges with what real yjs clients did meanwhile."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import AsyncExitStack, asynccontextmanager
from typing import Any

import anyio
import pycrdt
import pytest

from jacameno.collab.channel import CloseCode
from jacameno.collab.client import ClientRefusedError, CollabClient
from tests.collab.conftest import CollabWorld
from tests.support.api_client import Account
from tests.support.app_server import free_port
from tests.support.node_peer import NodePeer

TIMEOUT_S = 45
OFFLINE_EDITS = 5_000
JS_EDITS = 40


@asynccontextmanager
async def js_peers(
    world: CollabWorld, *accounts: Account, max_backoff_ms: int = 2500
) -> AsyncIterator[list[NodePeer]]:
    async with AsyncExitStack() as stack:
        peers = []
        for i, account in enumerate(accounts):
            peer = await stack.enter_async_context(NodePeer(label=f"js{i}"))
            await peer.connect(
                f"{world.server.ws_url}/collab",
                world.project_id,
                params={"token": account.access_token},
                per_message_deflate=False,
                max_backoff_ms=max_backoff_ms,
            )
            peers.append(peer)
        for peer in peers:
            await peer.wait_synced(timeout_s=10)
        yield peers


def lyrics(client: CollabClient) -> str:
    return str(client.doc.get("lyrics", type=pycrdt.Text))


def py_map(client: CollabClient) -> dict[str, object]:
    return dict(client.doc.get("py", type=pycrdt.Map).to_py() or {})


def offline_edits(client: CollabClient) -> tuple[set[str], int]:
    """5,000 separate transactions: appends, prepends and Map sets; the tokens and keys."""
    text = client.doc.get("lyrics", type=pycrdt.Text)
    keyed = client.doc.get("py", type=pycrdt.Map)
    tokens: set[str] = set()
    keys = 0
    for i in range(OFFLINE_EDITS):
        if i % 3 == 1:
            keyed[f"k{i}"] = float(i)
            keys += 1
            continue
        token = f"<p{i}>"
        tokens.add(token)
        text.insert(len(text) if i % 3 == 0 else 0, token)
    return tokens, keys


def js_meta(meta: dict[str, Any]) -> dict[str, Any]:
    """The meta keys the JS client wrote (b0, b1, ...), beside the document's own fields."""
    return {k: v for k, v in meta.items() if k[:1] == "b" and k[1:].isdigit()}


@pytest.mark.node
@pytest.mark.usefixtures("node")
async def test_offline_backlog_merges_with_js_edits(world: CollabWorld) -> None:
    with anyio.fail_after(TIMEOUT_S):
        async with (
            js_peers(world, world.editor, world.owner) as (alice, bob),
            world.peer(world.editor) as py,
        ):
            await py.wait_synced()
            py.doc.get("lyrics", type=pycrdt.Text).insert(0, "<start>")
            await alice.wait_for("text_length", name="lyrics", length=len("<start>"))

            await py.disconnect()
            await py.wait_disconnected()
            tokens, keys = offline_edits(py)

            # Meanwhile the JS clients edit; the server never sees the Python backlog.
            js_tokens = {f"<a{j}>" for j in range(JS_EDITS)}
            for j in range(JS_EDITS):
                await alice.text_insert("lyrics", 0, f"<a{j}>")
                await bob.map_set("meta", f"b{j}", float(j))
            online = len("<start>") + len("".join(js_tokens))
            await bob.wait_for("text_length", name="lyrics", length=online)
            assert "<p" not in await bob.text_get("lyrics")

            py.connect()
            await py.wait_synced()
            total = len("<start>") + len("".join(tokens)) + len("".join(js_tokens))
            for peer in (alice, bob):
                await peer.wait_for("text_length", name="lyrics", length=total, timeout_s=30)
                await peer.wait_for("map_key", name="py", key=f"k{OFFLINE_EDITS - 1}")
            await py.wait_for(lambda: len(lyrics(py)) == total)
            meta = py.doc.get("meta", type=pycrdt.Map)
            await py.wait_for(lambda: len(js_meta(meta.to_py() or {})) == JS_EDITS)
            roots = {"lyrics": "text", "meta": "map", "py": "map"}
            a, b = await alice.state(roots), await bob.state(roots)
            assert a.json == b.json
            assert a.json["lyrics"] == lyrics(py)
            assert a.json["py"] == py_map(py)
            await py.flush()

        # A fresh client sees every edit of both sides, each exactly once.
        async with world.peer(world.viewer) as fresh:
            await fresh.wait_synced()
            text = lyrics(fresh)
            assert len(text) == total
            for token in (*tokens, *js_tokens, "<start>"):
                assert text.count(token) == 1, token
            assert len(py_map(fresh)) == keys
            assert js_meta(fresh.doc.get("meta", type=pycrdt.Map).to_py() or {}) == {
                f"b{j}": float(j) for j in range(JS_EDITS)
            }


@pytest.mark.node
@pytest.mark.usefixtures("node")
async def test_backlog_written_while_the_server_is_down(start_world: Callable[..., Any]) -> None:
    """The server stops (every peer drops), all sides edit, it starts again on the same port."""
    port = free_port()
    first = start_world(port=port)
    world = await first.__aenter__()
    stopped = False
    try:
        with anyio.fail_after(TIMEOUT_S):
            async with (
                js_peers(world, world.editor, max_backoff_ms=200) as (alice,),
                world.peer(world.editor, max_backoff_s=0.2) as py,
            ):
                await py.wait_synced()
                before_stop = len(alice.events)
                await first.__aexit__(None, None, None)
                stopped = True
                await py.wait_disconnected()
                # It may be reconnecting already: look for the drop, not the state now.
                await alice.wait_event(
                    "status",
                    where=lambda event: event.fields.get("status") == "disconnected",
                    after=before_stop,
                )
                tokens, keys = offline_edits(py)
                await alice.text_insert("lyrics", 0, "<js offline>")

                async with start_world(reuse=world, port=port) as again:
                    await py.wait_synced()
                    await alice.wait_synced(timeout_s=15)
                    total = len("".join(tokens)) + len("<js offline>")
                    await alice.wait_for("text_length", name="lyrics", length=total, timeout_s=30)
                    await py.wait_for(lambda: len(lyrics(py)) == total)
                    await py.flush()
                    async with again.peer(again.owner) as fresh:
                        await fresh.wait_synced()
                        assert lyrics(fresh) == lyrics(py)
                        assert len(py_map(fresh)) == keys
    finally:
        if not stopped:
            await first.__aexit__(None, None, None)


async def test_backlog_over_the_server_limit_stops_instead_of_looping(
    start_world: Callable[..., Any],
) -> None:
    limit = 64 * 1024
    async with start_world(collab_max_message_bytes=limit) as world, world.peer() as py:
        with anyio.fail_after(TIMEOUT_S):
            await py.wait_synced()
            await py.disconnect()
            await py.wait_disconnected()
            text = py.doc.get("lyrics", type=pycrdt.Text)
            for i in range(200):
                text.insert(len(text), f"{i:04d}" + "x" * 996)  # ~200 kB in all
            py.connect()
            with pytest.raises(ClientRefusedError) as refused:
                await py.wait_for(lambda: False)  # raises once the server refuses the backlog
            assert refused.value.code == CloseCode.MESSAGE_TOO_BIG
            assert not py.connected
            with pytest.raises(ClientRefusedError):
                await py.wait_synced()  # no reconnect loop: it says so at once
