"""Nothing a peer saw is ever lost: bursts, last-client-leaves, restarts and SIGKILL."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import anyio
import httpx
import pycrdt
import pytest

from jacameno.collab.client import CollabClient
from tests.support.api_client import ApiClient
from tests.support.app_server import free_port
from tests.support.node_peer import NodePeer

pytestmark = pytest.mark.node
TIMEOUT_S = 60
BURST = 300


async def _connect(peer: NodePeer, ws_url: str, project_id: str, token: str) -> None:
    await peer.connect(
        f"{ws_url}/collab",
        project_id,
        params={"token": token},
        per_message_deflate=False,
        max_backoff_ms=200,
    )


def _items(client: CollabClient) -> list[Any]:
    return list(client.doc.get("items", type=pycrdt.Array))


async def test_burst_then_disconnect_survives_restart(start_world: Callable[..., Any]) -> None:
    with anyio.fail_after(TIMEOUT_S):
        async with start_world() as world, NodePeer(label="burst") as peer:
            await _connect(peer, world.server.ws_url, world.project_id, world.editor.access_token)
            await peer.wait_synced()
            for i in range(BURST):
                await peer.array_push("items", [i])
            await peer.disconnect()  # at once: the last client leaves mid-write
        # The server has stopped (and restarted below) without anyone reading the room.
        async with start_world(reuse=world) as again, again.peer() as fresh:
            await fresh.wait_synced()
            assert _items(fresh) == [float(i) for i in range(BURST)]


async def test_burst_then_disconnect_survives_room_eviction(
    start_world: Callable[..., Any],
) -> None:
    with anyio.fail_after(TIMEOUT_S):
        async with start_world(collab_room_grace_s=0.0) as world:
            async with NodePeer(label="burst") as peer:
                await _connect(
                    peer, world.server.ws_url, world.project_id, world.editor.access_token
                )
                await peer.wait_synced()
                await peer.transact([{"cmd": "array_push", "name": "items", "values": [-1]}])
                for i in range(BURST):
                    await peer.array_push("items", [i])
                await peer.disconnect()
            async with world.peer() as fresh:
                await fresh.wait_synced()
                await fresh.wait_for(lambda: len(_items(fresh)) == BURST + 1)
                assert _items(fresh)[1:] == [float(i) for i in range(BURST)]


# --------------------------------------------------------------------------- SIGKILL


@contextmanager
def serve_process(tmp_path: Path, port: int, db_url: str) -> Iterator[subprocess.Popen[bytes]]:
    """``jacameno serve`` as a real process (so that it can be SIGKILLed)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("JACAMENO_")}
    env.update(
        {
            "JACAMENO_ENV": "test",
            "JACAMENO_DATA_DIR": str(tmp_path / "var"),
            "JACAMENO_DATABASE_URL": db_url,
            "JACAMENO_STORAGE_URL": f"file://{tmp_path / 'var' / 'storage'}",
            "JACAMENO_SECRET_KEY": "kill-test-secret-" + "k" * 40,
            "JACAMENO_ARGON2_TIME_COST": "1",
            "JACAMENO_ARGON2_MEMORY_KIB": "64",
            "JACAMENO_RATE_LIMITS_ENABLED": "false",
            "JACAMENO_LOG_LEVEL": "WARNING",
            "PYTHONPATH": str(Path(__file__).resolve().parents[2]),
        }
    )
    process = subprocess.Popen(
        [sys.executable, "-m", "jacameno.api.cli", "serve", "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        yield process
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


async def _wait_ready(base_url: str) -> None:
    async with httpx.AsyncClient() as http:
        with anyio.fail_after(30):
            while True:
                try:
                    if (await http.get(f"{base_url}/readyz")).status_code == 200:
                        return
                except httpx.TransportError:
                    pass
                await anyio.sleep(0.05)


async def _steady_writer(peer: NodePeer, prefix: str, stop: anyio.Event) -> None:
    i = 0
    while not stop.is_set():
        try:
            await peer.map_set("entries", f"{prefix}{i}", i)
        except Exception:  # the peer keeps editing offline; only the command channel matters
            return
        i += 1


async def test_sigkill_loses_nothing_any_peer_received(tmp_path: Path, db_url: str) -> None:
    from jacameno.api.db.migrate import upgrade

    await upgrade(db_url)
    port = free_port()
    base_url, ws_url = f"http://127.0.0.1:{port}", f"ws://127.0.0.1:{port}"
    roots = {"entries": "map"}
    with anyio.fail_after(TIMEOUT_S * 2):
        with serve_process(tmp_path, port, db_url) as first:
            await _wait_ready(base_url)
            async with httpx.AsyncClient(base_url=base_url) as http:
                api = ApiClient(http)
                owner = await api.signup()
                project_id = await api.create_project(owner)
            async with NodePeer(label="a") as a, NodePeer(label="b") as b:
                for peer in (a, b):
                    await _connect(peer, ws_url, project_id, owner.access_token)
                    await peer.wait_synced()
                stop = anyio.Event()
                async with anyio.create_task_group() as group:
                    group.start_soon(_steady_writer, a, "a", stop)
                    group.start_soon(_steady_writer, b, "b", stop)
                    # Both directions relayed at least 50 times before the kill.
                    await a.wait_for("map_key", name="entries", key="b50")
                    await b.wait_for("map_key", name="entries", key="a50")
                    first.send_signal(signal.SIGKILL)
                    first.wait()
                    stop.set()
                seen_a = set((await a.state(roots)).json["entries"])
                seen_b = set((await b.state(roots)).json["entries"])
                # What each peer had received from the other when the server died.
                relayed = {x for x in seen_a if x.startswith("b")} | {
                    x for x in seen_b if x.startswith("a")
                }
                assert relayed, "no update was relayed before the kill"

                with serve_process(tmp_path, port, db_url):
                    await _wait_ready(base_url)
                    # A fresh client before the old peers resend anything.
                    async with CollabClient(
                        f"{ws_url}/collab/{project_id}", token=owner.access_token
                    ) as fresh:
                        await fresh.wait_synced()
                        persisted = set(fresh.doc.get("entries", type=pycrdt.Map).keys())
                    assert relayed <= persisted
                    # The old peers reconnect on their own and everyone converges.
                    everything = seen_a | seen_b
                    for peer in (a, b):
                        await peer.wait_synced(timeout_s=30)
                        for key in ("a", "b"):
                            last = max(int(k[1:]) for k in everything if k.startswith(key))
                            await peer.wait_for("map_key", name="entries", key=f"{key}{last}")
                    final_a, final_b = await a.state(roots), await b.state(roots)
                    assert final_a.json == final_b.json
                    assert set(final_a.json["entries"]) == everything
                    async with CollabClient(
                        f"{ws_url}/collab/{project_id}", token=owner.access_token
                    ) as late:
                        await late.wait_synced()
                        entries = late.doc.get("entries", type=pycrdt.Map)
                        await late.wait_for(lambda: set(entries.keys()) == everything)
