"""Updates that decode but cannot be applied are never stored or relayed, and stored ones
are quarantined: the project stays loadable and honest peers converge."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import anyio
import pycrdt
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, insert, select

from jacameno.api.db import Database
from jacameno.api.db.migrate import upgrade
from jacameno.collab.errors import UnappliableUpdateError
from jacameno.collab.folding import DocumentFolder, covers, fold_updates
from jacameno.collab.protocol import decode_state_vector
from jacameno.collab.server import RoomServer
from jacameno.collab.sql_tables import doc_quarantine, doc_updates
from jacameno.collab.store_backends import create_document_store
from tests.support.poison import item_under, plain_value_doc, poison_for

ROOM = "song"


def _tracks(doc: pycrdt.Doc[Any]) -> dict[str, Any]:
    return dict(doc.get("tracks", type=pycrdt.Map).to_py() or {})


@asynccontextmanager
async def _rooms(db_url: str, **folder: Any) -> AsyncIterator[tuple[RoomServer, Database]]:
    await upgrade(db_url)
    database = Database(db_url)
    try:
        async with (
            create_document_store(database.engine) as store,
            RoomServer(store, folder=DocumentFolder(**folder)) as rooms,
        ):
            yield rooms, database
    finally:
        await database.aclose()


async def _count(database: Database, table: Any) -> int:
    async with database.engine.connect() as conn:
        return int((await conn.execute(select(func.count()).select_from(table))).scalar_one())


# ---------------------------------------------------------------------------- folding


def test_fold_leaves_out_what_cannot_apply_and_keeps_the_rest() -> None:
    doc, updates = plain_value_doc(values=6)
    waiting = item_under(doc.client_id, 5, client=77)  # k5 arrives later: pending, then breaks it
    log = [
        (1, updates[0]),
        (2, waiting),
        *[(3 + i, u) for i, u in enumerate(updates[1:])],
        (99, poison_for(doc)),
    ]
    folded = fold_updates(None, log)
    rejected = {r.update_id for r in folded.rejected}
    assert rejected == {2, 99}  # k5 (id 7) applies once the pending item is left out
    loaded: pycrdt.Doc[Any] = pycrdt.Doc()
    loaded.apply_update(folded.state)
    assert _tracks(loaded) == _tracks(doc)


def test_fold_of_a_damaged_snapshot_keeps_what_applied() -> None:
    doc, updates = plain_value_doc(values=3)
    snapshot = pycrdt.merge_updates(*updates, poison_for(doc))
    folded = fold_updates(snapshot, [])
    assert [r.update_id for r in folded.rejected] == [None]
    loaded: pycrdt.Doc[Any] = pycrdt.Doc()
    loaded.apply_update(folded.state)  # what comes back always loads


# ---------------------------------------------------------------------------- the room


async def test_a_poison_update_is_refused_and_the_room_keeps_working(db_url: str) -> None:
    async with _rooms(db_url) as (rooms, database):
        room = await rooms.open_room(ROOM)
        doc, updates = plain_value_doc(values=3)
        for update in updates:
            await room.submit(update, origin=None)
        with pytest.raises(UnappliableUpdateError):
            await room.submit(poison_for(doc), origin=None)
        with pytest.raises(UnappliableUpdateError, match="has not received"):
            await room.submit(item_under(doc.client_id, 40, client=78), origin=None)
        # Later honest edits still apply, including the one a pending item would break.
        doc.get("tracks", type=pycrdt.Map)["later"] = "yes"
        await room.submit(doc.get_update(pycrdt.Doc().get_state()), origin=None)
        await room.flushed()
        assert _tracks(room.doc) == _tracks(doc)
        assert rooms.stats.updates_rejected == 2
        assert await _count(database, doc_updates) == 4  # nothing refused was stored
        room.reserved -= 1


async def test_stored_poison_is_quarantined_and_the_rest_loads(db_url: str) -> None:
    doc, updates = plain_value_doc(values=4)
    await upgrade(db_url)
    database = Database(db_url)
    try:
        # As an older server stored them: a poison update among good ones.
        async with database.engine.begin() as conn:
            for update in [updates[0], poison_for(doc), *updates[1:]]:
                await conn.execute(insert(doc_updates).values(room=ROOM, payload=update))
    finally:
        await database.aclose()
    async with _rooms(db_url) as (rooms, database):
        room = await rooms.open_room(ROOM)
        assert _tracks(room.doc) == _tracks(doc)
        with anyio.fail_after(30):
            await room.compacted.wait()  # started at once to quarantine the damage
        assert rooms.stats.updates_quarantined == 1
        assert await _count(database, doc_quarantine) == 1
        assert await _count(database, doc_updates) == 0
        room.reserved -= 1
    async with _rooms(db_url) as (rooms, _database):  # and it loads again, cleanly
        room = await rooms.open_room(ROOM)
        assert _tracks(room.doc) == _tracks(doc)
        assert rooms.stats.updates_quarantined == 0
        room.reserved -= 1


async def test_big_logs_fold_in_a_child_process(db_url: str) -> None:
    async with _rooms(db_url, inline_max_updates=10) as (rooms, _database):
        room = await rooms.open_room(ROOM)
        doc, updates = plain_value_doc(values=50)
        for update in updates:
            await room.submit(update, origin=None)
        await room.flushed()
        room.reserved -= 1
        result = await rooms.store.compact(ROOM, rooms.folder.fold)
        assert result is not None
        assert result.folded_updates == 50
        assert rooms.folder.child_folds == 1
    async with _rooms(db_url) as (rooms, _database):
        room = await rooms.open_room(ROOM)
        assert _tracks(room.doc) == _tracks(doc)
        room.reserved -= 1


# ---------------------------------------------------------------------------- search


def _honest_updates() -> tuple[pycrdt.Doc[Any], list[bytes]]:
    doc: pycrdt.Doc[Any] = pycrdt.Doc(client_id=11)
    updates: list[bytes] = []
    doc.observe(lambda event: updates.append(event.update))
    tracks = doc.get("tracks", type=pycrdt.Map)
    lyrics = doc.get("lyrics", type=pycrdt.Text)
    for index in range(6):
        tracks[f"t{index}"] = pycrdt.Map({"name": f"track {index}", "gain": float(index)})
        lyrics.insert(len(lyrics), f"line {index}\n")
    comments = doc.get("comments", type=pycrdt.Array)
    comments.append(pycrdt.Map({"text": "hi"}))
    del lyrics[0:3]
    return doc, updates


_MUTATION = st.one_of(
    st.tuples(st.just("flip"), st.integers(0, 400), st.integers(1, 255)),
    st.tuples(st.just("truncate"), st.integers(1, 400), st.just(0)),
    st.tuples(st.just("splice"), st.integers(0, 400), st.integers(0, 255)),
)


def _content(doc: pycrdt.Doc[Any]) -> tuple[Any, ...]:
    return (
        doc.get("tracks", type=pycrdt.Map).to_py(),
        str(doc.get("lyrics", type=pycrdt.Text)),
        doc.get("comments", type=pycrdt.Array).to_py(),
    )


def _clocks(doc: pycrdt.Doc[Any]) -> dict[int, int]:
    """The document's state vector as clocks per client (entries of 0 left out)."""
    return {c: k for c, k in decode_state_vector(doc.get_state()).items() if k}


def _mutate(update: bytes, mutation: tuple[str, int, int]) -> bytes:
    kind, position, value = mutation
    data = bytearray(update)
    index = position % len(data)
    if kind == "flip":
        data[index] ^= value
    elif kind == "truncate":
        del data[index:]
    else:
        data.insert(index, value)
    return bytes(data)


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(
    picks=st.lists(st.tuples(st.integers(0, 20), _MUTATION), min_size=1, max_size=12),
)
def test_no_mutated_update_breaks_the_room(tmp_path_factory: Any, picks: list[Any]) -> None:
    """Whatever a hostile editor sends, honest peers converge and the room reloads."""
    doc, honest = _honest_updates()
    db_url = f"sqlite+aiosqlite:///{tmp_path_factory.mktemp('fuzz') / 'db.sqlite'}"

    async def scenario() -> None:
        async with _rooms(db_url) as (rooms, _database):
            room = await rooms.open_room(ROOM)
            sent = 0
            for pick, mutation in picks:
                # Honest updates go in order (never refused); a mutated copy of one of
                # them comes in between and is either refused or harmless.
                while sent <= pick % len(honest):
                    await room.submit(honest[sent], origin=None)
                    sent += 1
                hostile = _mutate(honest[pick % len(honest)], mutation)
                with contextlib.suppress(UnappliableUpdateError):
                    await room.submit(hostile, origin=None)
            for update in honest[sent:]:
                await room.submit(update, origin=None)
            await room.flushed()
            await room.sound()  # a refused update's damage is repaired from the log
            # Every honest struct is in the room (a valid mutation may add more).
            have = decode_state_vector(room.doc.get_state())
            assert covers(have, doc.get_update())
            state, content = _clocks(room.doc), _content(room.doc)
            room.reserved -= 1
        async with _rooms(db_url) as (rooms, _database):
            room = await rooms.open_room(ROOM)  # loads, whatever was stored
            assert (_clocks(room.doc), _content(room.doc)) == (state, content)
            peer: pycrdt.Doc[Any] = pycrdt.Doc()  # a fresh peer syncs to the same state
            peer.apply_update(room.doc.get_update())
            assert (_clocks(peer), _content(peer)) == (state, content)
            room.reserved -= 1

    anyio.run(scenario)
