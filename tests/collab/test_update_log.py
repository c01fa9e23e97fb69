"""Group commit with a quiet-log shortcut: order, batching and durability on both databases."""

from __future__ import annotations

import anyio
import pycrdt
import pytest

from jacameno.api.db import Database
from jacameno.api.db.migrate import upgrade
from jacameno.collab.config import CollabConfig, UpdateLogTuning
from jacameno.collab.store_backends import create_document_store
from jacameno.collab.update_log import PendingWrite, UpdateLog


class RecordingTarget:
    """A room stand-in that keeps the batches handed to it."""

    def __init__(self) -> None:
        self.batches: list[list[bytes]] = []

    def persisted(self, writes: list[PendingWrite]) -> None:
        self.batches.append([w.update for w in writes])


def _updates(count: int) -> list[bytes]:
    doc: pycrdt.Doc = pycrdt.Doc()
    updates: list[bytes] = []
    doc.observe(lambda event: updates.append(event.update))
    entries = doc.get("entries", type=pycrdt.Map)
    for i in range(count):
        entries[f"k{i}"] = i
    return updates


async def _run(
    db_url: str, updates: list[bytes], *, quiet_s: float
) -> tuple[UpdateLog, RecordingTarget, list[bool], list[bytes]]:
    """Submit ``updates`` back to back to an idle log quiet after ``quiet_s``; return it, the
    target, whether each was persisted when its submit returned, and what the store holds
    afterwards."""
    await upgrade(db_url)
    database = Database(db_url)
    target = RecordingTarget()
    writes = [PendingWrite(target=target, room="song", update=u) for u in updates]
    at_return: list[bool] = []
    try:
        async with create_document_store(database.engine) as store:
            log = UpdateLog(store, CollabConfig(update_log=UpdateLogTuning(quiet_s=quiet_s)))
            with anyio.fail_after(10):
                async with anyio.create_task_group() as group:
                    group.start_soon(log.run)
                    await anyio.wait_all_tasks_blocked()  # the writer waits on an empty queue
                    for write in writes:
                        await log.submit(write)
                        at_return.append(write.persisted.is_set())
                    for write in writes:
                        await write.persisted.wait()
                    log.close()
            stored = await store.load("song")
    finally:
        await database.aclose()
    return log, target, at_return, stored.updates


async def test_a_quiet_log_writes_at_once_and_a_burst_still_shares_a_transaction(
    db_url: str,
) -> None:
    updates = _updates(4)
    # Only a log that never wrote counts as quiet, however slow this machine is.
    log, target, at_return, stored = await _run(db_url, updates, quiet_s=3600.0)
    assert stored == updates  # durable, in submit order
    assert [u for batch in target.batches for u in batch] == updates  # relayed in that order
    assert log.written == 4
    if db_url.startswith("sqlite"):
        # The first update was written and relayed before submit returned; the three
        # right behind it (the log no longer quiet) went to the writer task together.
        assert at_return == [True, False, False, False]
        assert target.batches == [updates[:1], updates[1:]]
        assert log.batches == 2
    else:
        # PostgreSQL always waits for the server: everything goes through the writer task.
        assert at_return == [False] * 4
        assert target.batches == [updates]
        assert log.batches == 1


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
async def test_every_update_of_a_quiet_log_is_written_on_its_submitter(db_url: str) -> None:
    updates = _updates(5)
    log, target, at_return, stored = await _run(db_url, updates, quiet_s=-1.0)  # always quiet
    assert at_return == [True] * 5
    assert target.batches == [[u] for u in updates]
    assert stored == updates
    assert log.batches == 5
