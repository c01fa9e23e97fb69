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


class PostgresDocumentStore(SQLStoreBase):
    """The update log and snapshots in PostgreSQL.

    Appends skip SQLAlchemy: one dedicated asyncpg connection commits in 0.7 ms,
    through a session it took 4 ms. Compactions of one room by several instances
    are serialised by an advisory lock.
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
            return await self._compact_in_transaction(room, fold)
        except (SQLAlchemyError, OSError) as exc:
            raise PersistenceError(f"cannot compact document {room!r}: {exc}") from exc

    async def _lock_room(self, conn: AsyncConnection, room: str) -> None:
        # Two instances compacting one room must not interleave.
        await conn.execute(text("SELECT pg_advisory_xact_lock(hashtext(:room))"), {"room": room})
