"""The document store on SQLite: inline appends on the event loop, WAL checkpoints in
the background.

A WAL commit without fsync takes tens of microseconds, less than handing it to
a worker thread and waking the loop again (0.03 ms), so appends commit on a
plain ``sqlite3`` connection on the event loop's own thread, with a 5 ms lock
timeout after which the batch goes through aiosqlite's thread instead. WAL
checkpoints (they fsync the database file: milliseconds) run on a one-thread
pool that appends never wait for, and that the store owns while it is open:
``async with`` the store (the application's lifespan does) before appending.
Submitting to the pool starts a checkpoint at once, also from an append that
never yields to the event loop.
"""

from __future__ import annotations

import contextlib
import functools
import logging
import sqlite3
from collections.abc import Sequence
from concurrent.futures import Future, ThreadPoolExecutor, wait
from types import TracebackType
from typing import Any, Self

import anyio
from sqlalchemy import Delete, Insert, Update
from sqlalchemy.dialects import sqlite as sqlite_dialect
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncEngine

from jacameno.collab.errors import PersistenceError
from jacameno.collab.folding import Folded
from jacameno.collab.sql_store import (
    LogRead,
    SQLStoreBase,
    check_moved,
    compaction_result,
    purge_statement,
    quarantine_statements,
    snapshot_statement,
)
from jacameno.collab.store import CompactionResult, FoldFunction, StoreTuning, fold_inline

log = logging.getLogger("jacameno.collab.store")

_INSERT = "INSERT INTO doc_updates (room, payload) VALUES (?, ?)"
#: Compiles Core statements for the plain ``sqlite3`` connections (``?`` parameters).
_SQLITE_DIALECT = sqlite_dialect.dialect(paramstyle="qmark")


class SQLiteDocumentStore(SQLStoreBase):
    """The update log and snapshots in a SQLite file (or an in-memory database, which
    has no WAL: every write then goes through aiosqlite)."""

    def __init__(self, engine: AsyncEngine, tuning: StoreTuning | None = None) -> None:
        super().__init__(engine, tuning)
        database = engine.url.database
        self._path = database if database and database != ":memory:" else None
        #: The connection inline appends commit on (opened by the first one).
        self._inline: sqlite3.Connection | None = None
        self._inline_commits = 0
        #: Runs the checkpoints, one at a time (open from ``async with`` to its end).
        self._checkpointer: ThreadPoolExecutor | None = None
        #: The last checkpoint started (None: none yet).
        self._checkpoint: Future[int] | None = None
        #: The WAL's length in frames at the end of the last background checkpoint (set
        #: by the checkpoint's thread).
        self._wal_frames = 0
        #: Background checkpoints started so far.
        self.checkpoints = 0

    async def __aenter__(self) -> Self:
        if self._checkpointer is not None:
            raise RuntimeError("this SQLiteDocumentStore is already open")
        self._checkpointer = ThreadPoolExecutor(1, thread_name_prefix="sqlite-checkpoint")
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        pool, self._checkpointer = self._checkpointer, None
        if pool is None:
            raise RuntimeError("this SQLiteDocumentStore was not opened with 'async with'")
        try:
            await anyio.to_thread.run_sync(pool.shutdown)  # after a running checkpoint ends
        finally:
            await self.aclose()

    async def aclose(self) -> None:
        """Release the append connections (after a running checkpoint ends)."""
        await self._checkpoint_ended()
        if self._inline is not None:
            self._inline.close()
            self._inline = None
        await super().aclose()

    def _require_open(self) -> None:
        if self._path is not None and self._checkpointer is None:
            raise RuntimeError(
                "open the SQLite document store with 'async with create_document_store(engine)"
                " as store:' before appending: its WAL checkpoints run in its task group"
            )

    # ------------------------------------------------------------------ appends

    def append_now(self, entries: Sequence[tuple[str, bytes]]) -> bool:
        """Commit on the event loop's thread if nothing else is appending; else False.

        False leaves nothing written, also on an error: :meth:`append` then retries
        and reports it.
        """
        if (
            self._path is None
            or self._writer_lock.locked()  # an append or a compaction's write is under way
            or self._wal_frames > self._tuning.wal_max_frames  # append() must wait for one
        ):
            return False
        self._require_open()
        try:
            if not self._append_inline(list(entries)):
                return False
        except Exception:
            return False
        self._checkpoint_if_due()
        return True

    async def append(self, entries: Sequence[tuple[str, bytes]]) -> None:
        if not entries:
            return
        self._require_open()
        rows = [(room, data) for room, data in entries]
        async with self._writer_lock:
            try:
                inline = self._append_inline(rows)
            except Exception as exc:
                raise PersistenceError(f"cannot append {len(entries)} updates: {exc}") from exc
            if not inline:
                await self._append_on_writer(rows)
            elif self._wal_frames > self._tuning.wal_max_frames:
                # Commits never paused long enough for the WAL to rewind: this append
                # (written already) waits for a whole checkpoint, with no commit racing it.
                self._wal_frames = 0
                await self.checkpoint()
            else:
                self._checkpoint_if_due()

    def _append_inline(self, rows: list[tuple[str, bytes]]) -> bool:
        """Commit on the event loop's thread; False when the file is busy (then use a thread).

        A short busy timeout bounds the stall of the loop.
        """
        if self._path is None:
            return False
        if self._inline is None:
            self._inline = _sqlite_connect(
                self._path, busy_timeout_ms=self._tuning.inline_busy_timeout_ms
            )
            self._inline.execute("PRAGMA journal_mode=WAL")
        connection = self._inline
        try:
            connection.execute("BEGIN IMMEDIATE")
        except sqlite3.OperationalError:
            return False
        try:
            connection.executemany(_INSERT, rows)
            connection.execute("COMMIT")
        except BaseException:
            with contextlib.suppress(sqlite3.Error):
                connection.execute("ROLLBACK")
            connection.close()
            self._inline = None
            raise
        self._inline_commits += 1
        return True

    async def _write_rows(self, driver: Any, rows: list[tuple[str, bytes]]) -> None:
        try:
            await driver.executemany(_INSERT, rows)
            await driver.commit()
        except BaseException:
            with anyio.CancelScope(shield=True):
                await driver.rollback()
            raise

    # ------------------------------------------------------------------ checkpoints

    def _checkpoint_if_due(self) -> None:
        """Start a background checkpoint every ``checkpoint_every`` inline commits."""
        if self._inline_commits % self._tuning.checkpoint_every == 0:
            self._start_checkpoint()

    def _start_checkpoint(self) -> None:
        """Fold the WAL back into the database file in the background (if none runs).

        A PASSIVE checkpoint takes no write lock, so appends go on while it runs.
        """
        if self._path is None or (self._checkpoint is not None and not self._checkpoint.done()):
            return
        self._require_open()
        assert self._checkpointer is not None
        checkpoint = self._checkpointer.submit(
            _checkpoint, self._path, self._tuning.checkpoint_passes
        )
        checkpoint.add_done_callback(self._record_wal_frames)
        self._checkpoint = checkpoint
        self.checkpoints += 1

    def _record_wal_frames(self, checkpoint: Future[int]) -> None:
        if not checkpoint.cancelled() and checkpoint.exception() is None:
            self._wal_frames = checkpoint.result()

    async def _checkpoint_ended(self) -> None:
        """Wait until the last checkpoint started has ended (its errors are logged)."""
        if self._checkpoint is not None and not self._checkpoint.done():
            await anyio.to_thread.run_sync(wait, [self._checkpoint])

    async def checkpoint(self) -> None:
        """Finish a running checkpoint, then run one more and wait for it.

        Under the append lock (as :meth:`append` calls it) the new one copies the
        whole WAL and the next commit rewinds it.
        """
        await self._checkpoint_ended()
        self._start_checkpoint()
        await self._checkpoint_ended()

    # ------------------------------------------------------------------ compaction

    async def compact(self, room: str, fold: FoldFunction = fold_inline) -> CompactionResult | None:
        try:
            if self._path is not None:
                return await self._compact_file(self._path, room, fold)
            return await self._compact_in_transaction(room, fold)
        except (SQLAlchemyError, sqlite3.Error, OSError) as exc:
            raise PersistenceError(f"cannot compact document {room!r}: {exc}") from exc

    async def _compact_file(
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
        purge_slice = self._tuning.purge_slice
        try:
            async with self._writer_lock:
                await anyio.to_thread.run_sync(_sqlite_fold, connection, room, read, folded)
            while True:
                async with self._writer_lock:
                    deleted = await anyio.to_thread.run_sync(
                        _sqlite_execute,
                        connection,
                        purge_statement(room, read.last_id, purge_slice),
                    )
                if deleted < purge_slice:
                    break
        finally:
            connection.close()
        return compaction_result(room, read, folded)


def _checkpoint(path: str, passes: int) -> int:
    """``PRAGMA wal_checkpoint(PASSIVE)`` on a connection of its own (runs in a thread).

    Passes repeat (``passes`` at most) while commits landed during the last one, so
    that in a quiet moment the WAL is fully copied and the next commit rewinds it.
    Returns the WAL's length in frames at the last pass (-1 on error).
    """
    try:
        connection = _sqlite_connect(path)
        try:
            frames = 0
            for _ in range(passes):
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


def _sqlite_execute(connection: sqlite3.Connection, statement: Insert | Update | Delete) -> int:
    """Run a Core statement on a plain ``sqlite3`` connection; the rows it changed."""
    compiled = statement.compile(dialect=_SQLITE_DIALECT)
    params = [compiled.params[name] for name in compiled.positiontup or ()]
    return connection.execute(str(compiled), params).rowcount


def _sqlite_fold(connection: sqlite3.Connection, room: str, read: LogRead, folded: Folded) -> None:
    """Make ``folded`` the room's snapshot and quarantine its rejects, in one transaction
    (runs in a thread)."""
    connection.execute("BEGIN IMMEDIATE")
    try:
        for statement in quarantine_statements(room, read, folded):
            _sqlite_execute(connection, statement)
        check_moved(room, _sqlite_execute(connection, snapshot_statement(room, read, folded.state)))
    except BaseException:
        connection.execute("ROLLBACK")
        raise
    connection.execute("COMMIT")
