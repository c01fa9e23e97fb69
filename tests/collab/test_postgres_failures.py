"""PostgreSQL failing under a running server: its connections cut mid-editing, its
document tables gone (what peers are told when the store cannot answer)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import anyio
import asyncpg
import httpx
import pycrdt
import pytest
from sqlalchemy.engine import make_url

from jacameno.api.db import Database
from jacameno.collab.channel import CloseCode
from jacameno.collab.client import CollabClient
from jacameno.collab.store_backends import create_document_store
from tests.collab.conftest import CollabWorld

pytestmark = pytest.mark.postgres
TIMEOUT_S = 60


@pytest.fixture
def db_url(postgres_url: str) -> str:
    """These tests run on PostgreSQL only (``start_world`` takes this database)."""
    return postgres_url


async def _terminate_backends(url: str) -> int:
    """``pg_terminate_backend`` every other connection to ``url``'s database (the app's
    pool and its dedicated append connection); returns how many were cut."""
    parsed = make_url(url)
    conn = await asyncpg.connect(
        host=parsed.host, port=parsed.port, user=parsed.username, database=parsed.database
    )
    try:
        cut = await conn.fetch(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            "WHERE datname = $1 AND pid <> pg_backend_pid()",
            parsed.database,
        )
    finally:
        await conn.close()
    return sum(1 for row in cut if row[0])


async def _readyz(world: CollabWorld) -> int:
    async with httpx.AsyncClient(base_url=world.server.base_url, timeout=10) as http:
        return (await http.get("/readyz")).status_code


def _items(client: CollabClient) -> list[Any]:
    return list(client.doc.get("items", type=pycrdt.Array))


async def test_the_server_recovers_when_its_database_connections_are_cut(
    start_world: Callable[..., Any], postgres_url: str
) -> None:
    """Every connection the server holds is terminated, three times, while a peer keeps
    editing: appends fail, are retried on fresh connections, and nothing the peer was
    told is stored (flush) is lost; /readyz is 200 again without a restart."""
    edits = 150
    with anyio.fail_after(TIMEOUT_S):
        async with start_world() as world:
            async with world.peer(max_backoff_s=0.5) as peer:
                await peer.wait_synced()
                items = peer.doc.get("items", type=pycrdt.Array)
                items.append(-1)
                await peer.flush()  # the room is loaded and its log written before the cuts
                cuts: list[int] = []
                all_cut = anyio.Event()

                async def cut_connections() -> None:
                    while len(cuts) < 3:
                        await anyio.sleep(0.3)
                        # None held (between a cut and the retry): try again a moment later.
                        if cut := await _terminate_backends(postgres_url):
                            cuts.append(cut)
                    all_cut.set()

                async with anyio.create_task_group() as group:
                    group.start_soon(cut_connections)
                    for i in range(edits):
                        items.append(i)
                        await anyio.sleep(0.01)
                    await all_cut.wait()
                assert len(cuts) == 3
                await peer.flush()
            # Reached the database, not only the room: read it back on a store of our own.
            # (flush() answers once the room holds every edit; the writes cut meanwhile
            # are retried by the update log, so the last of them may land a moment later.)
            expected = [-1.0, *map(float, range(edits))]
            database = Database(postgres_url)
            try:
                async with create_document_store(database.engine) as store:
                    while True:
                        stored = await store.load(world.project_id)
                        doc: pycrdt.Doc = pycrdt.Doc()
                        for update in stored.updates:
                            doc.apply_update(update)
                        if list(doc.get("items", type=pycrdt.Array)) == expected:
                            break
                        await anyio.sleep(0.05)
            finally:
                await database.aclose()
            # The pool's next checkout replaces the dead connections (pre-ping): ready again.
            for _ in range(100):
                if await _readyz(world) == 200:
                    break
                await anyio.sleep(0.1)
            else:
                pytest.fail("/readyz never answered 200 again")
            async with world.peer() as fresh:  # and the room still serves new peers
                await fresh.wait_synced()
                assert _items(fresh) == [-1.0, *map(float, range(edits))]


async def test_a_peer_is_told_to_retry_when_the_store_cannot_load_its_room(
    start_world: Callable[..., Any], postgres_url: str
) -> None:
    """A :class:`PersistenceError` (the document tables are gone) closes the peer with
    4503, a "retry" code: the client keeps reconnecting instead of giving up."""
    with anyio.fail_after(TIMEOUT_S):
        async with start_world() as world:
            pass  # an account and a project; its room is loaded only by the next server
        parsed = make_url(postgres_url)
        conn = await asyncpg.connect(
            host=parsed.host, port=parsed.port, user=parsed.username, database=parsed.database
        )
        try:
            await conn.execute("ALTER TABLE doc_snapshots RENAME TO doc_snapshots_gone")
            async with start_world(reuse=world) as again:
                peer = again.peer(reconnect=False)
                async with peer:
                    await peer.wait_for(lambda: peer.close_code is not None)
                assert peer.close_code == CloseCode.UNAVAILABLE == 4503
                assert "retry" in peer.close_reason
                await conn.execute("ALTER TABLE doc_snapshots_gone RENAME TO doc_snapshots")
                async with again.peer() as back:  # the table is back: the room loads
                    await back.wait_synced()
        finally:
            await conn.execute("ALTER TABLE IF EXISTS doc_snapshots_gone RENAME TO doc_snapshots")
            await conn.close()


# --------------------------------------------------------------------------- commit order


def _text_update(text: str) -> bytes:
    doc: pycrdt.Doc[Any] = pycrdt.Doc()
    doc.get("lyrics", type=pycrdt.Text).insert(0, text)
    return doc.get_update()


async def test_a_compaction_waits_for_an_append_that_took_a_lower_id(postgres_url: str) -> None:
    """Instance A has taken update id N but not committed; instance B commits N+1. A
    compaction must not fold "up to N+1" and later purge N unfolded: it waits for A."""
    from jacameno.api.db.migrate import upgrade
    from jacameno.collab.postgres_store import _INSERT, APPEND_LOCK_KEY

    await upgrade(postgres_url)
    room = "commit-order"
    parsed = make_url(postgres_url)
    database = Database(postgres_url)
    slow = await asyncpg.connect(
        host=parsed.host, port=parsed.port, user=parsed.username, database=parsed.database
    )
    try:
        async with create_document_store(database.engine) as store:
            # A: the append protocol (shared lock, then its id), left uncommitted.
            pending = slow.transaction()
            await pending.start()
            await slow.execute("SELECT pg_advisory_xact_lock_shared($1)", APPEND_LOCK_KEY)
            await slow.execute(_INSERT, room, _text_update("early "))
            await store.append([(room, _text_update("late "))])  # B: a higher id, committed

            compacted = anyio.Event()
            with anyio.fail_after(TIMEOUT_S):
                async with anyio.create_task_group() as group:

                    async def compact() -> None:
                        await store.compact(room)
                        compacted.set()

                    group.start_soon(compact)
                    # Commit A once the compaction waits on the lock (or, without the
                    # wait, has already finished: the case this test is here to catch).
                    while not compacted.is_set():
                        waiting = await slow.fetchval(
                            "SELECT count(*) FROM pg_locks"
                            " WHERE locktype = 'advisory' AND NOT granted"
                        )
                        if waiting:
                            break
                        await anyio.sleep(0.01)
                    await pending.commit()
            stored = await store.load(room)
            doc: pycrdt.Doc[Any] = pycrdt.Doc()
            if stored.snapshot:
                doc.apply_update(stored.snapshot)
            for update in stored.log:
                doc.apply_update(update)
            assert sorted(str(doc.get("lyrics", type=pycrdt.Text)).split()) == ["early", "late"]
    finally:
        await slow.close()
        await database.aclose()
