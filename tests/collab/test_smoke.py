from __future__ import annotations

import anyio
import pycrdt

from tests.collab.conftest import CollabWorld


async def test_two_python_peers_converge(world: CollabWorld) -> None:
    async with world.peer() as a, world.peer(world.owner) as b:
        await a.wait_synced()
        await b.wait_synced()
        a.doc.get("lyrics", type=pycrdt.Text).insert(0, "hello ")
        b.doc.get("lyrics", type=pycrdt.Text).insert(0, "world ")
        with anyio.fail_after(10):
            while (
                str(a.doc.get("lyrics", type=pycrdt.Text))
                != str(b.doc.get("lyrics", type=pycrdt.Text))
                or len(str(a.doc.get("lyrics", type=pycrdt.Text))) < 12
            ):
                await a._wait_change()
        assert sorted(str(a.doc.get("lyrics", type=pycrdt.Text)).split()) == ["hello", "world"]
