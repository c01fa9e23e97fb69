"""The update log and snapshots on SQLite and PostgreSQL, and the room server over them."""

from __future__ import annotations

import sqlite3
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import anyio
import pycrdt
import pytest
from sqlalchemy import text

from jacameno.api.db import Database
from jacameno.api.db.migrate import upgrade
from jacameno.collab.config import CollabConfig
from jacameno.collab.errors import PersistenceError
from jacameno.collab.folding import Folded, fold_updates
from jacameno.collab.postgres_store import PostgresDocumentStore
from jacameno.collab.server import RoomServer
from jacameno.collab.sql_store import SQLStoreBase
from jacameno.collab.sqlite_store import SQLiteDocumentStore
from jacameno.collab.store import StoreTuning
from jacameno.collab.store_backends import create_document_store

Store = SQLiteDocumentStore | PostgresDocumentStore


@asynccontextmanager
async def _store(
    db_url: str, tuning: StoreTuning | None = None
) -> AsyncIterator[tuple[Database, Store]]:
    """The migrated database at ``db_url`` and its document store, open."""
    await upgrade(db_url)
    database = Database(db_url)
    try:
        async with create_document_store(database.engine, tuning) as store:
            yield database, store
    finally:
        await database.aclose()


@asynccontextmanager
async def _sqlite_store(
    path: Path, tuning: StoreTuning | None = None
) -> AsyncIterator[tuple[Database, SQLiteDocumentStore]]:
    async with _store(f"sqlite+aiosqlite:///{path}", tuning) as (database, store):
        assert isinstance(store, SQLiteDocumentStore)
        yield database, store


def _edits(count: int, seed: int = 0) -> tuple[list[bytes], pycrdt.Doc]:
    doc: pycrdt.Doc = pycrdt.Doc()
    updates: list[bytes] = []
    doc.observe(lambda event: updates.append(event.update))
    text_type = doc.get("lyrics", type=pycrdt.Text)
    tracks = doc.get("tracks", type=pycrdt.Map)
    for i in range(count):
        if i % 3 == 0:
            tracks[f"t{i}"] = pycrdt.Map({"name": f"track {i}", "volume_db": -float(i % 12)})
        elif i % 3 == 1:
            text_type.insert(len(text_type), f"line {i}\n")
        elif len(text_type) > 4:
            del text_type[0:2]
    return updates, doc


def _rebuild(updates: list[bytes]) -> pycrdt.Doc:
    doc: pycrdt.Doc = pycrdt.Doc()
    for update in updates:
        doc.apply_update(update)
    return doc


async def test_load_of_unknown_room_is_new(db_url: str) -> None:
    async with _store(db_url) as (_database, store):
        stored = await store.load("nothing-here")
    assert stored.is_new


async def test_append_load_compact_keeps_content_identical(db_url: str) -> None:
    async with _store(db_url) as (database, store):
        updates, original = _edits(400)
        for start in range(0, len(updates), 50):
            await store.append([("song", u) for u in updates[start : start + 50]])
        await store.append([("other-song", updates[0])])
        before = await store.load("song")
        assert before.log_count == len(updates)
        result = await store.compact("song")
        assert result is not None
        assert result.folded_updates == len(updates)
        after = await store.load("song")
        assert after.log_count == 0
        assert len(after.updates) == 1  # the snapshot alone
        async with database.engine.connect() as conn:  # the folded rows are gone, not just skipped
            left = await conn.execute(text("SELECT count(*) FROM doc_updates WHERE room = 'song'"))
            assert left.scalar_one() == 0
        rebuilt_before, rebuilt_after = _rebuild(before.updates), _rebuild(after.updates)
        assert rebuilt_after.get_state() == rebuilt_before.get_state() == original.get_state()
        assert rebuilt_after.get_update() == rebuilt_before.get_update()
        assert str(rebuilt_after.get("lyrics", type=pycrdt.Text)) == str(
            original.get("lyrics", type=pycrdt.Text)
        )
        # More edits after a snapshot, then a second compaction folds them in too.
        more, _ = _edits(30, seed=1)
        await store.append([("song", u) for u in more])
        assert (await store.load("song")).log_count == len(more)
        second = await store.compact("song")
        assert second is not None
        assert second.folded_updates == len(more)
        assert await store.compact("song") is None
        other = await store.load("other-song")
    assert other.log_count == 1


async def test_a_load_holds_every_update_when_a_compaction_commits_in_its_middle(
    db_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Another instance compacts the room between the load's snapshot read and its log
    read (new snapshot, folded rows purged): the load still returns every update."""
    updates, original = _edits(60)
    async with _store(db_url) as (_database, store), _store(db_url) as (_other_db, other):
        await store.append([("song", u) for u in updates[:30]])
        assert await store.compact("song") is not None
        await store.append([("song", u) for u in updates[30:]])
        read_updates = store._read_updates
        compacted: list[int] = []

        async def compact_meanwhile(
            conn: object, room: str, after: int | None, upto: int | None = None
        ) -> list[tuple[int, bytes]]:
            if not compacted:  # the first read only: between the snapshot and the log
                result = await other.compact(room)
                assert result is not None
                compacted.append(result.folded_updates)
            return await read_updates(conn, room, after, upto)  # type: ignore[arg-type]

        monkeypatch.setattr(store, "_read_updates", compact_meanwhile)
        loaded = await store.load("song")
    assert compacted == [30]
    assert _rebuild(loaded.updates).get_state() == original.get_state()


@pytest.mark.postgres
async def test_two_instances_compacting_one_room_lose_and_repeat_nothing(
    postgres_url: str,
) -> None:
    """Two instances compact one room at once while edits keep coming: the advisory lock
    makes one wait for the other, and every update is folded exactly once or still logged."""
    updates, original = _edits(300)
    inside = 0
    overlapped = False

    async def slow_fold(snapshot: bytes | None, log: list[tuple[int, bytes]]) -> Folded:
        nonlocal inside, overlapped
        inside += 1
        overlapped = overlapped or inside > 1
        await anyio.sleep(0.2)  # long enough for the other instance to try meanwhile
        inside -= 1
        return fold_updates(snapshot, log)

    async with _store(postgres_url) as (database, one), _store(postgres_url) as (_db, two):
        await one.append([("song", u) for u in updates[:200]])
        results: list[int] = []

        async def compact(store: SQLStoreBase) -> None:
            result = await store.compact("song", slow_fold)
            results.append(result.folded_updates if result else 0)

        async def keep_editing() -> None:
            for update in updates[200:]:
                await two.append([("song", update)])
                await anyio.sleep(0.002)

        async with anyio.create_task_group() as group:
            group.start_soon(compact, one)
            group.start_soon(compact, two)
            group.start_soon(keep_editing)
        loaded = await one.load("song")
        async with database.engine.connect() as conn:
            rows = await conn.execute(text("SELECT count(*) FROM doc_updates WHERE room = 'song'"))
            logged = rows.scalar_one()
    assert not overlapped
    assert len(results) == 2
    assert sum(results) + loaded.log_count == len(updates)  # none lost, none folded twice
    assert logged == loaded.log_count  # the folded rows are gone
    assert _rebuild(loaded.updates).get_state() == original.get_state()


async def test_database_fault_is_not_a_new_document(tmp_path: object) -> None:
    database = Database("postgresql+asyncpg://postgres@127.0.0.1:9/nowhere")
    async with create_document_store(database.engine) as store:
        with pytest.raises(PersistenceError):
            await store.load("song")
        with pytest.raises(PersistenceError):
            await store.append([("song", b"\x00\x00")])
    await database.aclose()


async def test_missing_tables_are_a_fault_not_a_new_document(db_url: str) -> None:
    async with _store(db_url) as (database, store):
        async with database.engine.begin() as conn:
            await conn.execute(text("DROP TABLE doc_snapshots"))
        with pytest.raises(PersistenceError):
            await store.load("song")


async def test_service_document_writes_are_durable_and_tagged(db_url: str) -> None:
    seen: list[object] = []
    # pycrdt drops a subscription when its shared-type object is collected: keep both.
    keep: list[object] = []
    async with _store(db_url) as (_database, store):
        async with RoomServer(store, CollabConfig(room_grace_s=0.0)) as rooms:

            def watch(room: object) -> None:
                from jacameno.collab.room import Room

                assert isinstance(room, Room)
                jobs = room.doc.get("jobs", type=pycrdt.Map)
                keep.append(jobs)
                keep.append(
                    jobs.observe_deep(
                        lambda events: seen.extend(e.transaction.origin for e in events)
                    )
                )

            rooms.add_room_listener(watch)
            async with rooms.document("p1", origin="service:test") as doc:
                doc.get("jobs", type=pycrdt.Map)["j1"] = pycrdt.Map({"status": "done"})
            assert seen == ["service:test"]
        reloaded = await store.load("p1")
    doc = _rebuild(reloaded.updates)
    assert doc.get("jobs", type=pycrdt.Map)["j1"]["status"] == "done"


async def test_empty_room_is_flushed_then_evicted_and_reloads(db_url: str) -> None:
    config = CollabConfig(room_grace_s=0.0, compact_after_updates=10_000)
    async with _store(db_url) as (_database, store), RoomServer(store, config) as rooms:
        async with rooms.document("p2", origin="service:test") as doc:
            doc.get("lyrics", type=pycrdt.Text).insert(0, "kept")
            room = rooms.rooms["p2"]
        with anyio.fail_after(10):
            await room.evicted.wait()
        assert "p2" not in rooms.rooms
        assert rooms.stats.rooms_evicted == 1
        assert rooms.stats.compactions == 1  # eviction folded the log into the snapshot
        async with rooms.document("p2", origin="service:test") as again:
            assert str(again.get("lyrics", type=pycrdt.Text)) == "kept"


async def test_compaction_runs_past_the_threshold(db_url: str) -> None:
    config = CollabConfig(room_grace_s=60.0, compact_after_updates=20)
    async with _store(db_url) as (_database, store):
        async with RoomServer(store, config) as rooms:
            async with rooms.document("p3", origin="service:test"):
                compacted = rooms.rooms["p3"].compacted
            for i in range(25):
                async with rooms.document("p3", origin="service:test") as doc:
                    doc.get("lyrics", type=pycrdt.Text).insert(0, f"{i} ")
            with anyio.fail_after(10):
                await compacted.wait()
        stored = await store.load("p3")
    assert stored.log_count < 25
    text_value = str(_rebuild(stored.updates).get("lyrics", type=pycrdt.Text))
    assert sorted(int(x) for x in text_value.split()) == list(range(25))


async def test_sqlite_append_falls_back_to_a_thread_when_the_file_is_busy(tmp_path: Path) -> None:
    async with _sqlite_store(tmp_path / "busy.db") as (_database, store):
        holder = sqlite3.connect(tmp_path / "busy.db", isolation_level=None)
        holder.execute("BEGIN IMMEDIATE")  # another writer holds the lock
        try:
            # Inline (on the event loop) gives up after its short lock timeout ...
            assert not store._append_inline([("song", b"\x00\x00")])
        finally:
            holder.execute("COMMIT")
            holder.close()
        # ... and the same append, once the lock is free, goes through.
        updates, _ = _edits(5)
        await store.append([("song", u) for u in updates])
        assert (await store.load("song")).log_count == len(updates)


async def test_append_now_writes_only_when_nothing_has_to_wait(db_url: str) -> None:
    updates, _ = _edits(3)
    async with _store(db_url) as (_database, store):
        if not db_url.startswith("sqlite"):
            assert not store.append_now([("song", updates[0])])  # the server always answers later
            assert (await store.load("song")).log_count == 0
            return
        assert store.append_now([("song", updates[0])])
        path = db_url.removeprefix("sqlite+aiosqlite:///")
        holder = sqlite3.connect(path, isolation_level=None)
        holder.execute("BEGIN IMMEDIATE")  # another writer holds the file
        try:
            assert not store.append_now([("song", updates[1])])
        finally:
            holder.execute("COMMIT")
            holder.close()
        assert store.append_now([("song", updates[2])])
        assert (await store.load("song")).updates == [updates[0], updates[2]]


async def test_sqlite_store_used_without_async_with_says_how_to_open_it(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'closed.db'}"
    await upgrade(url)
    database = Database(url)
    store = create_document_store(database.engine)
    try:
        with pytest.raises(RuntimeError, match="async with create_document_store"):
            await store.append([("song", b"\x00\x00")])
        assert (await store.load("song")).is_new  # reads need no background work
    finally:
        await store.aclose()
        await database.aclose()


def test_the_store_is_picked_from_the_database_url() -> None:
    from types import SimpleNamespace

    from sqlalchemy import make_url
    from sqlalchemy.ext.asyncio import create_async_engine

    sqlite = create_async_engine("sqlite+aiosqlite:///x.db")
    postgres = create_async_engine("postgresql+asyncpg://u@localhost/db")
    assert isinstance(create_document_store(sqlite), SQLiteDocumentStore)
    assert isinstance(create_document_store(postgres), PostgresDocumentStore)
    mysql = SimpleNamespace(url=make_url("mysql+aiomysql://u@localhost/db"))  # no driver here
    with pytest.raises(ValueError, match="postgresql\\+asyncpg://"):
        create_document_store(mysql)  # type: ignore[arg-type]


def _wal_frames(path: Path) -> int:
    """Frames in the WAL of the SQLite database at ``path`` (a passive checkpoint reports it)."""
    connection = sqlite3.connect(path, isolation_level=None)
    try:
        return int(connection.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()[1])
    finally:
        connection.close()


async def test_sqlite_wal_is_checkpointed_in_the_background_and_rewinds(tmp_path: Path) -> None:
    async with _sqlite_store(tmp_path / "wal.db") as (_database, store):
        updates, original = _edits(600)
        for update in updates:  # one commit each, as under light load
            await store.append([("song", update)])
        assert store.checkpoints >= 1  # appends started background checkpoints
        await store.checkpoint()  # one more, after the last commit: the quiet moment
        await store.append([("song", updates[0])])
        # The checkpoint copied the whole WAL, so the next commit rewound it to its start.
        assert _wal_frames(tmp_path / "wal.db") < 10
        stored = await store.load("song")
    assert _rebuild(stored.updates).get_state() == original.get_state()


async def test_sqlite_wal_stays_bounded_under_nonstop_writes(tmp_path: Path) -> None:
    tuning = StoreTuning(wal_max_frames=512)
    async with _sqlite_store(tmp_path / "wal.db", tuning) as (_database, store):
        updates, original = _edits(8192)
        for update in updates:  # back to back: a background checkpoint never catches up
            await store.append([("song", update)])
        # Every commit adds two or three 4 KiB pages to the WAL (~100 MB here if it never
        # rewound); past the bound, an append waited for a checkpoint and the WAL rewound.
        assert (tmp_path / "wal.db-wal").stat().st_size < 16 * 1024 * 1024
        stored = await store.load("song")
    assert _rebuild(stored.updates).get_state() == original.get_state()
