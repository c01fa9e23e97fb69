"""Refusals that stock clients obey: HTTP answers before accepting, per-credential connect
limits, and the viewer's permission-denied message, with real y-websocket clients."""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from typing import Any

import anyio
import pycrdt
import pytest

from jacameno.collab.client import CollabClient
from tests.collab.conftest import CollabWorld
from tests.support.node_peer import NODE_DIR

PROBE = NODE_DIR / "provider_probe.mjs"
TIMEOUT_S = 60


async def _probe(world: CollabWorld, **options: Any) -> dict[str, Any]:
    """Run a stock y-websocket provider (tests/node/provider_probe.mjs); its report."""
    node = shutil.which("node")
    assert node is not None
    config = {"url": f"{world.server.ws_url}/collab", "room": world.project_id, **options}
    with anyio.fail_after(TIMEOUT_S):
        done = await anyio.run_process([node, str(PROBE), json.dumps(config)], cwd=NODE_DIR)
    report: dict[str, Any] = json.loads(done.stdout.decode().strip().splitlines()[-1])
    return report


@pytest.mark.node
@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
async def test_a_stale_tab_backs_off_and_its_neighbours_keep_connecting(
    start_world: Callable[..., Any],
) -> None:
    """y-websocket 1.5 resets its back-off whenever a socket opens: refused after
    accepting, a tab with a bad token reconnected ~9 times a second and got everyone
    behind its address refused (4429) within 13 s. Refused before accepting, it backs off."""
    async with start_world(rate_limits_enabled=True, rate_limit_ws_connect_ip="30/minute") as world:
        good_connects = 0

        async def neighbour() -> None:
            nonlocal good_connects
            for _ in range(20):  # under its own credential's limit, over what the stale tab
                # would leave of a limit per address
                async with CollabClient(world.url(), token=world.editor.access_token) as peer:
                    await peer.wait_synced()
                good_connects += 1

        async with anyio.create_task_group() as group:
            group.start_soon(neighbour)
            stale = await _probe(world, version="1", token="not-a-token", seconds=10)
    assert stale["opened"] == 0
    assert 1 <= stale["attempts"] <= 12  # exponential back-off: ~8 in 10 s (was ~90)
    assert good_connects == 20


@pytest.mark.node
@pytest.mark.parametrize("version", ["1", "3"])
async def test_a_viewer_is_told_once_that_its_edits_are_refused(
    world: CollabWorld, version: str
) -> None:
    report = await _probe(
        world, version=version, token=world.viewer.access_token, seconds=3, edits=3
    )
    assert report["synced"]
    assert report["permission_denied"] == [
        "read-only: your role in this project cannot edit, so your changes are not saved"
    ]
    async with CollabClient(world.url(), token=world.owner.access_token) as owner:
        await owner.wait_synced()
        assert "edit" not in str(owner.doc.get("lyrics", type=pycrdt.Text))
