"""Persistence of documents: an append-only update log and one snapshot per room.

``DocumentStore`` is the seam; two implementations sit behind it, one module
each: :class:`~collab.sqlite_store.SQLiteDocumentStore` and
:class:`~collab.postgres_store.PostgresDocumentStore` (shared SQL in
:mod:`collab.sql_store`). :func:`collab.store_backends.create_document_store`
picks one from the engine's URL. Every failure is a
:class:`~collab.errors.PersistenceError`: a database fault is never mistaken
for an empty, new document.

Compaction folds the snapshot and the logged updates with a fold function the
caller passes (the room server's :class:`~collab.folding.DocumentFolder`, which
folds big logs in a child process); updates the fold rejects are moved to
``doc_quarantine`` in the same transaction that writes the new snapshot.

Several instances may share one PostgreSQL database: a load reads one consistent
state even while another instance compacts the room, and compactions of one room
are serialised (see :mod:`collab.sql_store`, :mod:`collab.postgres_store`).

When the database fails, what peers see (tests/collab/test_postgres_failures.py):
a room that cannot be loaded closes its peers with 4503 "document store
unavailable; retry" (:mod:`collab.close_codes`: ``PersistenceError``), and clients
reconnect; appends that fail are retried by the update log until the database
takes them (dropped connections are replaced), so peers stay connected and their
edits are neither relayed nor acknowledged (``CollabClient.flush`` waits) meanwhile.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Protocol

from jacameno.collab.folding import Folded, fold_updates


@dataclass(frozen=True, slots=True)
class StoreTuning:
    """Tunables of the SQL document stores (the defaults are what production runs)."""

    #: Longest the event loop may wait for SQLite's write lock, in milliseconds, before
    #: the append moves to a thread.
    inline_busy_timeout_ms: int = 5
    #: Inline SQLite commits between two WAL checkpoints (run off the event loop).
    checkpoint_every: int = 256
    #: Passes of one background checkpoint at most (each copies what the last one missed).
    checkpoint_passes: int = 4
    #: WAL length in frames (4 KiB pages) past which an append waits once for a checkpoint:
    #: when commits never pause long enough for the WAL to rewind, it would grow unbounded.
    wal_max_frames: int = 8192
    #: Logged updates read per query (each page is turned into Python objects on the loop).
    read_page: int = 2_000
    #: Folded updates deleted per transaction after a SQLite compaction (appends wait for each).
    purge_slice: int = 200


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
