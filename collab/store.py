"""Persistence of documents: an append-only update log and one snapshot per room.

``DocumentStore`` is the seam; :class:`SQLDocumentStore` implements it over
SQLAlchemy Core for SQLite and PostgreSQL. Every failure is a
:class:`~collab.errors.PersistenceError`: a database fault is never mistaken
for an empty, new document.

Compaction folds the snapshot and the logged updates with a fold function the
caller passes (the room server's :class:`~collab.folding.DocumentFolder`, which
folds big logs in a child process); updates the fold rejects are moved to
``doc_quarantine`` in the same transaction that writes the new snapshot.
"""

from __future__ import annotations

import contextlib
import functools
import logging
import sqlite3
import threading
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

import anyio
from sqlalchemy import (
    Delete,
    Insert,
    Update,
    delete,
    func,
    insert,
    select,
    text,
    update,
)
from sqlalchemy.dialects import sqlite as sqlite_dialect
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from jacameno.collab.errors import PersistenceError
from jacameno.collab.folding import Folded, fold_updates
from jacameno.collab.sql_tables import doc_quarantine, doc_snapshots, doc_updates

log = logging.getLogger("jacameno.collab.store")

#: Compiles Core statements for the plain ``sqlite3`` connections (``?`` parameters).
_SQLITE_DIALECT = sqlite_dialect.dialect(paramstyle="qmark")


@dataclass(frozen=True, slots=True)
class StoredDocument:
    """A room's persisted state: the snapshot (if any), then the updates logged after it."""

    snapshot: bytes | None
    #: ``(id, update)`` of each logged update not yet folded into the snapshot, in order.
    log: list[tuple[int, bytes]]

    @property
    def updates(self) -> list[bytes]:
        """The snapshot (if any) then every logged update: apply them in this order."""
        return ([self.snapshot] if self.snapshot is not None else []) + [u for _, u in self.log]

    @property
    def log_count(self) -> int:
        return len(self.log)

    @property
    def log_bytes(self) -> int:
        return sum(len(update) for _, update in self.log)

    @property
    def is_new(self) -> bool:
        return self.snapshot is None and not self.log


@dataclass(frozen=True, slots=True)
class CompactionResult:
    room: str
    folded_updates: int
    snapshot_bytes: int
    #: Stored updates moved to quarantine (the snapshot counts as one).
    quarantined: int = 0


FoldFunction = Callable[[bytes | None, Sequence[tuple[int, bytes]]], Awaitable[Folded]]
"""Folds a snapshot and ``(id, update)`` pairs into one state (see collab.folding)."""


async def fold_inline(snapshot: bytes | None, log: Sequence[tuple[int, bytes]]) -> Folded:
    """:func:`~collab.folding.fold_updates` on the caller's thread (small logs, tests)."""
    return fold_updates(snapshot, log)


class DocumentStore(Protocol):
    async def load(self, room: str) -> StoredDocument:
        """Everything persisted for ``room``; raises :class:`PersistenceError` on failure."""
        ...

    async def append(self, entries: Sequence[tuple[str, bytes]]) -> None:
        """Append ``(room, update)`` pairs in one transaction (all or nothing)."""
        ...

    def append_now(self, entries: Sequence[tuple[str, bytes]]) -> bool:
        """Append as :meth:`append` does if that needs no waiting; False if nothing was written."""
        ...

    async def compact(self, room: str, fold: FoldFunction = fold_inline) -> CompactionResult | None:
        """Fold the room's log into its snapshot in one transaction; None if nothing to do.

        Updates ``fold`` rejects are moved to quarantine in the same transaction.
        """
        ...

    async def delete(self, room: str) -> None:
        """Remove every trace of ``room``."""
        ...

    async def aclose(self) -> None:
        """Release connections the store holds."""
        ...


#: Longest the event loop may wait for SQLite's write lock before the append moves to a thread.
_INLINE_BUSY_TIMEOUT_MS = 5
#: Inline SQLite commits between two WAL checkpoints (run off the event loop).
_CHECKPOINT_EVERY = 256
#: Passes of one background checkpoint at most (each copies what the last one missed).
_CHECKPOINT_PASSES = 4
#: WAL length in frames (4 KiB pages) past which an append waits once for a checkpoint:
#: when commits never pause long enough for the WAL to rewind, it would grow unbounded.
_WAL_MAX_FRAMES = 8192

#: Logged updates read per query (each page is turned into Python objects on the loop).
_READ_PAGE = 2_000
#: Folded updates deleted per transaction after a SQLite compaction (appends wait for each).
_PURGE_SLICE = 200

_INSERT = {
    "sqlite": "INSERT INTO doc_updates (room, payload) VALUES (?, ?)",
    "postgresql": "INSERT INTO doc_updates (room, payload) VALUES ($1, $2)",
}


def _checkpoint(path: str) -> int:
    """``PRAGMA wal_checkpoint(PASSIVE)`` on a connection of its own (runs in a thread).

    Passes repeat (a few at most) while commits landed during the last one, so that
    in a quiet moment the WAL is fully copied and the next commit rewinds it.
    Returns the WAL's length in frames at the last pass (-1 on error).
    """
    try:
        connection = _sqlite_connect(path)
        try:
            for _ in range(_CHECKPOINT_PASSES):
                _busy, frames, copied = connection.execute(
                    "PRAGMA wal_checkpoint(PASSIVE)"
                ).fetchone()
                if copied >= frames:
                    break
            return int(frames)
        finally:
            connection.close()
    except sqlite3.Error as exc:  # the next checkpoint will try again
        log.warning("WAL checkpoint failed", extra={"error": str(exc)})
        return -1


class SQLDocumentStore:
    """The update log and snapshots in the application database.

    Appends are the hot path (every edit waits for one before it is relayed), so
    they skip SQLAlchemy: on PostgreSQL one dedicated asyncpg connection (0.7 ms
    per commit instead of 4 ms through a session); on SQLite a plain ``sqlite3``
    connection committing on the event loop's own thread (0.03 ms, less than a hop
    to a worker thread), with a 5 ms lock timeout after which the batch goes
    through aiosqlite's thread instead. WAL checkpoints (they fsync the database
    file: milliseconds) run in a thread of their own that appends never wait for.
    Everything else goes through SQLAlchemy.
    """

    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine
        self._writer: AsyncConnection | None = None
        # fast_acquire: an uncontended append takes the lock without a trip round the loop.
        self._writer_lock = anyio.Lock(fast_acquire=True)
        self._sqlite: sqlite3.Connection | None = None
        self._inline_commits = 0
        self._checkpointer: threading.Thread | None = None
        #: The WAL's length in frames at the last background checkpoint (set by its thread).
        self._wal_frames = 0
        database = engine.url.database
        if engine.dialect.name == "sqlite" and database and database != ":memory:":
            self._sqlite_path: str | None = database
        else:
            self._sqlite_path = None

    def _append_sqlite_inline(self, rows: list[tuple[str, bytes]]) -> bool:
        """Commit on the event loop's thread; False when the file is busy (then use a thread).

        A WAL commit without fsync takes tens of microseconds, less than handing it to
        a worker thread and waking the loop again; a short busy timeout bounds the stall.
        """
        if self._sqlite_path is None:
            return False
        if self._sqlite is None:
            self._sqlite = _sqlite_connect(
                self._sqlite_path, busy_timeout_ms=_INLINE_BUSY_TIMEOUT_MS
            )
            self._sqlite.execute("PRAGMA journal_mode=WAL")
        connection = self._sqlite
        try:
            connection.execute("BEGIN IMMEDIATE")
        except sqlite3.OperationalError:
            return False
        try:
            connection.executemany(_INSERT["sqlite"], rows)
            connection.execute("COMMIT")
        except BaseException:
            with contextlib.suppress(sqlite3.Error):
                connection.execute("ROLLBACK")
            connection.close()
            self._sqlite = None
            raise
        self._inline_commits += 1
        return True

    def _start_checkpoint(self) -> None:
        """Fold the WAL back into the database file in a background thread (if none runs).

        A PASSIVE checkpoint takes no write lock, so appends go on while it runs.
        """
        if self._sqlite_path is None or (
            self._checkpointer is not None and self._checkpointer.is_alive()
        ):
            return
        path = self._sqlite_path

        def run() -> None:
            self._wal_frames = _checkpoint(path)

        self._checkpointer = threading.Thread(target=run, name="sqlite-checkpoint", daemon=True)
        self._checkpointer.start()

    def _checkpoint_if_due(self) -> None:
        """Start a background checkpoint every :data:`_CHECKPOINT_EVERY` inline commits."""
        if self._inline_commits % _CHECKPOINT_EVERY == 0:
            self._start_checkpoint()

    async def _checkpoint_while_appends_wait(self) -> None:
        """Finish a running checkpoint, then run one with no commit racing it.

        The caller holds the append lock, so the new one copies the whole WAL
        and the next commit rewinds it (errors are logged by the thread).
        """
        if self._checkpointer is not None:
            await anyio.to_thread.run_sync(self._checkpointer.join)
        self._start_checkpoint()
        if self._checkpointer is not None:
            await anyio.to_thread.run_sync(self._checkpointer.join)

    async def _driver(self) -> Any:
        if self._writer is None:
            self._writer = await self._engine.connect()
        raw = await self._writer.get_raw_connection()
        return raw.driver_connection

    async def _drop_writer(self) -> None:
        writer, self._writer = self._writer, None
        if writer is not None:
            with anyio.CancelScope(shield=True):
                try:
                    await writer.invalidate()
                    await writer.close()
                except Exception:  # noqa: S110 - a broken connection may fail to close; it is gone anyway
                    pass

    async def aclose(self) -> None:
        """Release the dedicated append connections (after a running checkpoint ends)."""
        checkpointer, self._checkpointer = self._checkpointer, None
        if checkpointer is not None:
            await anyio.to_thread.run_sync(checkpointer.join)
        if self._sqlite is not None:
            self._sqlite.close()
            self._sqlite = None
        writer, self._writer = self._writer, None
        if writer is not None:
            await writer.close()

    async def load(self, room: str) -> StoredDocument:
        try:
            async with self._engine.connect() as conn:
                read = await self._read_log(conn, room)
        except (SQLAlchemyError, OSError) as exc:
            raise PersistenceError(f"cannot load document {room!r}: {exc}") from exc
        return StoredDocument(snapshot=read.snapshot, log=read.log)

    def append_now(self, entries: Sequence[tuple[str, bytes]]) -> bool:
        """Commit on the event loop's thread if nothing else is appending; else False.

        SQLite only (PostgreSQL always waits for the server). False leaves nothing
        written, also on an error: :meth:`append` then retries and reports it.
        """
        if (
            self._sqlite_path is None
            or self._writer_lock.locked()  # an append or a compaction's write is under way
            or self._wal_frames > _WAL_MAX_FRAMES  # append() must wait for a checkpoint
        ):
            return False
        try:
            if not self._append_sqlite_inline(list(entries)):
                return False
        except Exception:
            return False
        self._checkpoint_if_due()
        return True

    async def append(self, entries: Sequence[tuple[str, bytes]]) -> None:
        if not entries:
            return
        dialect = self._engine.dialect.name
        rows = [(room, data) for room, data in entries]
        async with self._writer_lock:
            try:
                inline = self._append_sqlite_inline(rows)
            except Exception as exc:
                raise PersistenceError(f"cannot append {len(entries)} updates: {exc}") from exc
            if inline:
                if self._wal_frames > _WAL_MAX_FRAMES:
                    # Commits never paused long enough for the WAL to rewind: this
                    # append (written already) waits for a whole checkpoint.
                    self._wal_frames = 0
                    await self._checkpoint_while_appends_wait()
                else:
                    self._checkpoint_if_due()
                return
            try:
                driver = await self._driver()
                if dialect == "postgresql":
                    async with driver.transaction():
                        await driver.executemany(_INSERT[dialect], rows)
                else:
                    try:
                        await driver.executemany(_INSERT[dialect], rows)
                        await driver.commit()
                    except BaseException:
                        with anyio.CancelScope(shield=True):
                            await driver.rollback()
                        raise
            except Exception as exc:
                # Driver errors (sqlite3.Error, asyncpg.PostgresError, OSError...) all mean
                # "not written": drop the connection so the retry starts clean.
                await self._drop_writer()
                raise PersistenceError(f"cannot append {len(entries)} updates: {exc}") from exc

    async def compact(self, room: str, fold: FoldFunction = fold_inline) -> CompactionResult | None:
        try:
            if self._sqlite_path is not None:
                return await self._compact_sqlite(self._sqlite_path, room, fold)
            async with self._engine.begin() as conn:
                await self._lock_room(conn, room)
                read = await self._read_log(conn, room)
                if not read.log:
                    return None
                folded = await fold(read.snapshot, read.log)
                await self._fold(conn, room, read, folded)
        except (SQLAlchemyError, sqlite3.Error, OSError) as exc:
            raise PersistenceError(f"cannot compact document {room!r}: {exc}") from exc
        return _result(room, read, folded)

    async def _compact_sqlite(
        self, path: str, room: str, fold: FoldFunction
    ) -> CompactionResult | None:
        """Read and merge outside SQLite's one write lock; write under the append lock.

        Holding the file's write lock while appends run inline would make them wait
        on the event loop's thread (busy timeout); the append lock makes them wait
        asynchronously instead, and only briefly: one transaction replaces the
        snapshot and moves its watermark (from then on loads skip the folded
        updates), then the folded rows are deleted a slice per transaction. The
        writes use a connection of their own without automatic checkpoints (one
        would run inside the commit, with its fsync, while appends wait).
        """
        async with self._engine.connect() as conn:
            read = await self._read_log(conn, room)
        if not read.log:
            return None
        folded = await fold(read.snapshot, read.log)
        connection = await anyio.to_thread.run_sync(
            functools.partial(_sqlite_connect, path, any_thread=True)
        )
        try:
            async with self._writer_lock:
                await anyio.to_thread.run_sync(_sqlite_fold, connection, room, read, folded)
            while True:
                async with self._writer_lock:
                    deleted = await anyio.to_thread.run_sync(
                        _sqlite_execute, connection, _purge(room, read.last_id, _PURGE_SLICE)
                    )
                if deleted < _PURGE_SLICE:
                    break
        finally:
            connection.close()
        return _result(room, read, folded)

    @staticmethod
    async def _read_log(conn: AsyncConnection, room: str) -> _LogRead:
        """The room's snapshot and the logged updates after it (maybe none)."""
        snapshot = (
            await conn.execute(
                select(doc_snapshots.c.state, doc_snapshots.c.last_update_id).where(
                    doc_snapshots.c.room == room
                )
            )
        ).first()
        after = snapshot.last_update_id if snapshot else None
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
                    )
                    .order_by(doc_updates.c.id)
                    .limit(_READ_PAGE)
                )
            ).all()
            log.extend((int(row.id), bytes(row.payload)) for row in page)
            if len(page) < _READ_PAGE:
                break
        return _LogRead(
            snapshot=bytes(snapshot.state) if snapshot else None,
            log=log,
            after=after,
            last_id=log[-1][0] if log else (after or 0),
        )

    @staticmethod
    async def _fold(conn: AsyncConnection, room: str, read: _LogRead, folded: Folded) -> None:
        """Replace the snapshot with ``folded``, quarantine what it rejected, and delete
        the updates it holds."""
        for statement in _quarantine(room, read, folded):
            await conn.execute(statement)
        moved = await conn.execute(_snapshot(room, read, folded.state))
        _check_moved(room, moved.rowcount)
        await conn.execute(_purge(room, read.last_id))

    async def delete(self, room: str) -> None:
        try:
            async with self._engine.begin() as conn:
                await conn.execute(delete(doc_updates).where(doc_updates.c.room == room))
                await conn.execute(delete(doc_snapshots).where(doc_snapshots.c.room == room))
                await conn.execute(delete(doc_quarantine).where(doc_quarantine.c.room == room))
        except (SQLAlchemyError, OSError) as exc:
            raise PersistenceError(f"cannot delete document {room!r}: {exc}") from exc

    @staticmethod
    async def _lock_room(conn: AsyncConnection, room: str) -> None:
        # Two instances compacting one room must not interleave; SQLite has one writer anyway.
        if conn.dialect.name == "postgresql":
            await conn.execute(
                text("SELECT pg_advisory_xact_lock(hashtext(:room))"), {"room": room}
            )


@dataclass(frozen=True)
class _LogRead:
    """What compaction read: the snapshot (if any) then the logged updates after it."""

    snapshot: bytes | None
    log: list[tuple[int, bytes]]
    #: The snapshot's watermark, or None when the room has no snapshot yet.
    after: int | None
    last_id: int


def _result(room: str, read: _LogRead, folded: Folded) -> CompactionResult:
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


def _quarantine(room: str, read: _LogRead, folded: Folded) -> list[Insert]:
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


def _sqlite_connect(
    path: str, *, busy_timeout_ms: int = 5000, any_thread: bool = False
) -> sqlite3.Connection:
    """A plain ``sqlite3`` connection for the log's own writes (autocommit, no auto-checkpoint).

    ``any_thread``: for one task's serial use from worker threads.
    """
    connection = sqlite3.connect(path, isolation_level=None, check_same_thread=not any_thread)
    # A checkpoint fsyncs the database file; SQLite's automatic one would run inside
    # some commit (on the event loop, or while appends wait), so the store runs its own.
    connection.execute("PRAGMA synchronous=NORMAL")
    connection.execute("PRAGMA wal_autocheckpoint=0")
    connection.execute(f"PRAGMA busy_timeout={busy_timeout_ms}")
    return connection


def _snapshot(room: str, read: _LogRead, merged: bytes) -> Insert | Update:
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


def _check_moved(room: str, rowcount: int) -> None:
    if rowcount != 1:
        # Someone else compacted meanwhile: roll back rather than delete.
        raise PersistenceError(f"concurrent compaction of {room!r}; retry")


def _purge(room: str, last_id: int, limit: int | None = None) -> Delete:
    """Delete the room's logged updates up to ``last_id`` (only the oldest ``limit``)."""
    folded = (doc_updates.c.room == room, doc_updates.c.id <= last_id)
    if limit is None:
        return delete(doc_updates).where(*folded)
    oldest = select(doc_updates.c.id).where(*folded).order_by(doc_updates.c.id).limit(limit)
    return delete(doc_updates).where(doc_updates.c.id.in_(oldest))


def _sqlite_execute(connection: sqlite3.Connection, statement: Insert | Update | Delete) -> int:
    """Run a Core statement on a plain ``sqlite3`` connection; the rows it changed."""
    compiled = statement.compile(dialect=_SQLITE_DIALECT)
    params = [compiled.params[name] for name in compiled.positiontup or ()]
    return connection.execute(str(compiled), params).rowcount


def _sqlite_fold(connection: sqlite3.Connection, room: str, read: _LogRead, folded: Folded) -> None:
    """Make ``folded`` the room's snapshot and quarantine its rejects, in one transaction
    (runs in a thread)."""
    connection.execute("BEGIN IMMEDIATE")
    try:
        for statement in _quarantine(room, read, folded):
            _sqlite_execute(connection, statement)
        _check_moved(room, _sqlite_execute(connection, _snapshot(room, read, folded.state)))
    except BaseException:
        connection.execute("ROLLBACK")
        raise
    connection.execute("COMMIT")
