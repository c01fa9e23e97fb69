"""What the SQLite and PostgreSQL document stores share: reads, compaction statements,
the dedicated append connection.

Appends are the hot path (every edit waits for one before it is relayed), so
each store writes them on a raw driver connection of its own, past SQLAlchemy;
everything else goes through SQLAlchemy Core here.
"""

from __future__ import annotations

import logging
from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass
from types import TracebackType
from typing import Any, Self

import anyio
from sqlalchemy import Delete, Insert, Row, Update, delete, func, insert, select, update
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from jacameno.collab.errors import PersistenceError
from jacameno.collab.folding import Folded
from jacameno.collab.sql_tables import doc_quarantine, doc_snapshots, doc_updates
from jacameno.collab.store import (
    CompactionResult,
    FoldFunction,
    StoredDocument,
    StoreTuning,
    fold_inline,
)

log = logging.getLogger("jacameno.collab.store")

#: Reads of one load at most while compactions keep moving the watermark (SQLite).
LOAD_ATTEMPTS = 5


@dataclass(frozen=True)
class LogRead:
    """What compaction read: the snapshot (if any) then the logged updates after it."""

    snapshot: bytes | None
    log: list[tuple[int, bytes]]
    #: The snapshot's watermark, or None when the room has no snapshot yet.
    after: int | None
    last_id: int


class SQLStoreBase(ABC):
    """The update log and snapshots in the application database (either dialect): a
    :class:`~collab.store.DocumentStore`.

    Subclasses append and compact, write rows on the raw driver (:meth:`_write_rows`)
    and may lock a room for compaction (:meth:`_lock_room`). ``async with`` the store,
    or call :meth:`aclose` when done.
    """

    def __init__(self, engine: AsyncEngine, tuning: StoreTuning | None = None) -> None:
        self._engine = engine
        self._tuning = tuning or StoreTuning()
        self._writer: AsyncConnection | None = None
        # fast_acquire: an uncontended append takes the lock without a trip round the loop.
        self._writer_lock = anyio.Lock(fast_acquire=True)

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        """Release the dedicated append connection."""
        writer, self._writer = self._writer, None
        if writer is not None:
            await writer.close()

    async def load(self, room: str) -> StoredDocument:
        try:
            read = await self._load_log(room)
        except (SQLAlchemyError, OSError) as exc:
            raise PersistenceError(f"cannot load document {room!r}: {exc}") from exc
        return StoredDocument(snapshot=read.snapshot, log=read.log)

    async def _load_log(self, room: str) -> LogRead:
        """The snapshot and the log after it, as of one moment.

        The snapshot and the log are separate statements: a compaction committing between
        them (a new snapshot, the folded rows purged) would leave the log read short of
        the updates it folded. Here (SQLite: one file, reads outside a transaction) the
        watermark is read again after the log, and the whole read repeated if it moved;
        PostgreSQL reads everything in one REPEATABLE READ transaction instead.
        """
        for _ in range(LOAD_ATTEMPTS):
            async with self._engine.connect() as conn:
                read = await self._read_log(conn, room)
                snapshot = await self._read_snapshot(conn, room)
            if (snapshot.last_update_id if snapshot else None) == read.after:
                return read
        raise PersistenceError(f"document {room!r} kept being compacted while it loaded; retry")

    async def delete(self, room: str) -> None:
        try:
            async with self._engine.begin() as conn:
                await conn.execute(delete(doc_updates).where(doc_updates.c.room == room))
                await conn.execute(delete(doc_snapshots).where(doc_snapshots.c.room == room))
                await conn.execute(delete(doc_quarantine).where(doc_quarantine.c.room == room))
        except (SQLAlchemyError, OSError) as exc:
            raise PersistenceError(f"cannot delete document {room!r}: {exc}") from exc

    # ------------------------------------------------------------------ appends

    @abstractmethod
    def append_now(self, entries: Sequence[tuple[str, bytes]]) -> bool:
        """Append as :meth:`append` does if that needs no waiting; False if nothing was written."""

    @abstractmethod
    async def append(self, entries: Sequence[tuple[str, bytes]]) -> None:
        """Append ``(room, update)`` pairs in one transaction (all or nothing)."""

    @abstractmethod
    async def _write_rows(self, driver: Any, rows: list[tuple[str, bytes]]) -> None:
        """Insert ``rows`` in one transaction on the raw driver connection."""

    async def _append_on_writer(self, rows: list[tuple[str, bytes]]) -> None:
        """Append on the dedicated connection; the caller holds the append lock."""
        try:
            writer = self._writer
            if writer is None:
                writer = self._writer = await self._engine.connect()
            raw = await writer.get_raw_connection()
            await self._write_rows(raw.driver_connection, rows)
        except Exception as exc:
            # Driver errors (sqlite3.Error, asyncpg.PostgresError, OSError...) all mean
            # "not written": drop the connection so the retry starts clean.
            await self._drop_writer()
            raise PersistenceError(f"cannot append {len(rows)} updates: {exc}") from exc

    async def _drop_writer(self) -> None:
        writer, self._writer = self._writer, None
        if writer is not None:
            with anyio.CancelScope(shield=True):
                try:
                    await writer.invalidate()
                    await writer.close()
                except Exception:  # noqa: S110 - a broken connection may fail to close; it is gone anyway
                    pass

    # ------------------------------------------------------------------ compaction

    @abstractmethod
    async def compact(self, room: str, fold: FoldFunction = fold_inline) -> CompactionResult | None:
        """Fold the room's log into its snapshot; None if nothing to do (see DocumentStore)."""

    async def _lock_room(self, conn: AsyncConnection, room: str) -> None:  # noqa: B027 - optional hook
        """Keep other instances from compacting ``room`` until ``conn``'s transaction ends
        (SQLite has one writer anyway: nothing to do by default)."""

    async def _compact_in_transaction(
        self, room: str, fold: FoldFunction, upto: int | None = None
    ) -> CompactionResult | None:
        """Read, fold and write back in one transaction through SQLAlchemy; only updates
        with ids up to ``upto`` when given (those later may still be uncommitted)."""
        async with self._engine.begin() as conn:
            await self._lock_room(conn, room)
            read = await self._read_log(conn, room, upto)
            if not read.log:
                return None
            folded = await fold(read.snapshot, read.log)
            for statement in quarantine_statements(room, read, folded):
                await conn.execute(statement)
            moved = await conn.execute(snapshot_statement(room, read, folded.state))
            check_moved(room, moved.rowcount)
            await conn.execute(purge_statement(room, read.last_id))
        return compaction_result(room, read, folded)

    async def _read_log(self, conn: AsyncConnection, room: str, upto: int | None = None) -> LogRead:
        """The room's snapshot and the logged updates after it (up to id ``upto`` when
        given), in two steps: consistent only if ``conn`` reads one snapshot or nobody
        compacts meanwhile."""
        snapshot = await self._read_snapshot(conn, room)
        after = snapshot.last_update_id if snapshot else None
        log = await self._read_updates(conn, room, after, upto)
        return LogRead(
            snapshot=bytes(snapshot.state) if snapshot else None,
            log=log,
            after=after,
            last_id=log[-1][0] if log else (after or 0),
        )

    async def _read_snapshot(self, conn: AsyncConnection, room: str) -> Row[Any, Any] | None:
        """The room's snapshot row (``state``, ``last_update_id``), if it has one."""
        return (
            await conn.execute(
                select(doc_snapshots.c.state, doc_snapshots.c.last_update_id).where(
                    doc_snapshots.c.room == room
                )
            )
        ).first()

    async def _read_updates(
        self, conn: AsyncConnection, room: str, after: int | None, upto: int | None = None
    ) -> list[tuple[int, bytes]]:
        """``(id, update)`` of the room's logged updates after id ``after`` (and up to
        ``upto``), in order."""
        page_rows = self._tuning.read_page
        # In pages: turning 50,000 rows into Python objects at once held the event loop
        # for over 100 ms; between pages it serves everyone else.
        log: list[tuple[int, bytes]] = []
        while True:
            page = (
                await conn.execute(
                    select(doc_updates.c.id, doc_updates.c.payload)
                    .where(
                        doc_updates.c.room == room,
                        doc_updates.c.id > (log[-1][0] if log else (after or 0)),
                        *([doc_updates.c.id <= upto] if upto is not None else []),
                    )
                    .order_by(doc_updates.c.id)
                    .limit(page_rows)
                )
            ).all()
            log.extend((int(row.id), bytes(row.payload)) for row in page)
            if len(page) < page_rows:
                break
        return log


def compaction_result(room: str, read: LogRead, folded: Folded) -> CompactionResult:
    if folded.rejected:
        log.warning(
            "quarantined %d stored updates that cannot be applied",
            len(folded.rejected),
            extra={"room": room, "reasons": [r.reason for r in folded.rejected][:5]},
        )
    return CompactionResult(
        room=room,
        folded_updates=len(read.log),
        snapshot_bytes=len(folded.state),
        quarantined=len(folded.rejected),
    )


def quarantine_statements(room: str, read: LogRead, folded: Folded) -> list[Insert]:
    """Statements keeping each rejected update (or the snapshot) aside with its reason."""
    payloads = dict(read.log)
    statements = []
    for rejected in folded.rejected:
        payload = read.snapshot if rejected.update_id is None else payloads.get(rejected.update_id)
        if payload is None:
            continue
        statements.append(
            insert(doc_quarantine).values(
                room=room,
                update_id=rejected.update_id,
                payload=payload,
                reason=rejected.reason[:500],
            )
        )
    return statements


def snapshot_statement(room: str, read: LogRead, merged: bytes) -> Insert | Update:
    """The statement making ``merged`` the room's snapshot, if its watermark is still ``read``'s."""
    values = {
        "state": merged,
        "last_update_id": read.last_id,
        "size_bytes": len(merged),
        "updated_at": func.now(),
    }
    if read.after is None:
        return insert(doc_snapshots).values(room=room, **values)
    return (
        update(doc_snapshots)
        .where(doc_snapshots.c.room == room, doc_snapshots.c.last_update_id == read.after)
        .values(**values)
    )


def check_moved(room: str, rowcount: int) -> None:
    if rowcount != 1:
        # Someone else compacted meanwhile: roll back rather than delete.
        raise PersistenceError(f"concurrent compaction of {room!r}; retry")


def purge_statement(room: str, last_id: int, limit: int | None = None) -> Delete:
    """Delete the room's logged updates up to ``last_id`` (only the oldest ``limit``)."""
    folded = (doc_updates.c.room == room, doc_updates.c.id <= last_id)
    if limit is None:
        return delete(doc_updates).where(*folded)
    oldest = select(doc_updates.c.id).where(*folded).order_by(doc_updates.c.id).limit(limit)
    return delete(doc_updates).where(doc_updates.c.id.in_(oldest))
