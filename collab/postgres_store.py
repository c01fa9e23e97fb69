"""The document store on PostgreSQL: appends on one dedicated asyncpg connection."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncConnection

from jacameno.collab.errors import PersistenceError
from jacameno.collab.sql_store import LogRead, SQLStoreBase
from jacameno.collab.store import CompactionResult, FoldFunction, fold_inline

_INSERT = "INSERT INTO doc_updates (room, payload) VALUES ($1, $2)"
#: Advisory lock key held shared by every append transaction and taken exclusively,
#: briefly, by a compaction before it reads (see :meth:`_committed_upto`).
APPEND_LOCK_KEY = 0x6A61_6361  # "jaca"


class PostgresDocumentStore(SQLStoreBase):
    """The update log and snapshots in PostgreSQL.

    Appends skip SQLAlchemy: one dedicated asyncpg connection commits in 0.7 ms,
    through a session it took 4 ms. Compactions of one room by several instances
    are serialised by an advisory lock.

    Update ids come from a sequence, so with several instances appending, a lower id
    can commit after a higher one: a compaction folding "everything up to the
    highest id it sees" would skip the late row and purge it later. So each append
    holds a shared advisory lock from before its id is taken until it commits, and a
    compaction first takes that lock exclusively for a moment (every id allocated by
    then is committed), notes the room's highest id, and folds only up to it.
    """

    def append_now(self, entries: Sequence[tuple[str, bytes]]) -> bool:
        """Always False: every append waits for the server (see :meth:`append`)."""
        return False

    async def append(self, entries: Sequence[tuple[str, bytes]]) -> None:
        if not entries:
            return
        rows = [(room, data) for room, data in entries]
        async with self._writer_lock:
            await self._append_on_writer(rows)

    async def _write_rows(self, driver: Any, rows: list[tuple[str, bytes]]) -> None:
        async with driver.transaction():
            await driver.execute("SELECT pg_advisory_xact_lock_shared($1)", APPEND_LOCK_KEY)
            await driver.executemany(_INSERT, rows)

    async def _load_log(self, room: str) -> LogRead:
        # One snapshot for every statement of the read: another instance's compaction
        # committing meanwhile (a new snapshot, the folded rows purged) is not seen at
        # all, rather than half; nothing waits on a read-only transaction.
        async with self._engine.connect() as conn:
            await conn.execution_options(
                isolation_level="REPEATABLE READ", postgresql_readonly=True
            )
            async with conn.begin():
                return await self._read_log(conn, room)

    async def compact(self, room: str, fold: FoldFunction = fold_inline) -> CompactionResult | None:
        try:
            upto = await self._committed_upto(room)
            return await self._compact_in_transaction(room, fold, upto)
        except (SQLAlchemyError, OSError) as exc:
            raise PersistenceError(f"cannot compact document {room!r}: {exc}") from exc

    async def _committed_upto(self, room: str) -> int:
        """The room's highest update id once no append is in flight: every id up to it
        is committed (appends hold the shared lock from their id to their commit)."""
        async with self._engine.begin() as conn:
            await conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": APPEND_LOCK_KEY})
            top = await conn.scalar(
                text("SELECT coalesce(max(id), 0) FROM doc_updates WHERE room = :room"),
                {"room": room},
            )
        return int(top or 0)

    async def _lock_room(self, conn: AsyncConnection, room: str) -> None:
        # Two instances compacting one room must not interleave.
        await conn.execute(text("SELECT pg_advisory_xact_lock(hashtext(:room))"), {"room": room})
