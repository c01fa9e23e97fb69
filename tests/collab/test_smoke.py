from __future__ import annotations

import anyio
import pycrdt

from jacameno.collab.client import CollabClient
from tests.collab.conftest import CollabWorld


def _lyrics(peer: CollabClient) -> str:
    return str(peer.doc.get("lyrics", type=pycrdt.Text))


async def test_two_python_peers_converge(world: CollabWorld) -> None:
    async with world.peer() as a, world.peer(world.owner) as b:
        await a.wait_synced()
        await b.wait_synced()
        a.doc.get("lyrics", type=pycrdt.Text).insert(0, "hello ")
        b.doc.get("lyrics", type=pycrdt.Text).insert(0, "world ")
        with anyio.fail_after(10):
            # Each peer waits on its own changes: one may hold both edits before the other.
            await a.wait_for(lambda: len(_lyrics(a)) == 12)
            await b.wait_for(lambda: len(_lyrics(b)) == 12)
        assert _lyrics(a) == _lyrics(b)
        assert sorted(_lyrics(a).split()) == ["hello", "world"]
