"""Folding a document's stored updates into one state, and finding the ones that cannot apply.

pycrdt holds the GIL for the whole of each call: one ``merge_updates`` over
50,000 updates took 55 s (it is quadratic), and even applying an 800 KB
snapshot takes about 70 ms. So the room server never folds a big log on its own
threads: :class:`DocumentFolder` applies snapshot and log in order to a fresh
document (linear: 0.3 s for 50,000 updates) in a child process, and only small
logs inline.

Folding is also where damage is found. An update that decodes but cannot be
applied (an item whose parent is a plain value), or one whose dependencies never
arrive (it would sit pending in every document that loads it and break the next
update that completes it), is *rejected*: the state is folded without it and the
caller moves it to quarantine. The state is encoded from the document, which
leaves pending structures out, so what comes back always loads.
"""

from __future__ import annotations

import contextlib
import logging
import multiprocessing
from array import array
from collections.abc import Sequence
from dataclasses import dataclass
from multiprocessing.connection import Connection
from multiprocessing.process import BaseProcess
from types import TracebackType
from typing import Any

import anyio
import pycrdt

from jacameno.collab.errors import ProtocolError
from jacameno.collab.protocol import decode_state_vector
from jacameno.collab.update_format import struct_ranges

log = logging.getLogger("jacameno.collab.folding")

#: Logs at most this big (snapshot plus updates, in bytes) fold inline, on the caller's
#: thread: about 10 ms of pycrdt work. Bigger ones go to the child process.
INLINE_MAX_BYTES = 96 * 1024
#: ... and at most this many updates.
INLINE_MAX_UPDATES = 1_000


@dataclass(frozen=True, slots=True)
class Rejected:
    """A stored update left out of the folded state (``update_id`` None: the snapshot)."""

    update_id: int | None
    reason: str


@dataclass(frozen=True, slots=True)
class Folded:
    """One update equal to the snapshot and every applicable logged update, in order."""

    state: bytes
    rejected: tuple[Rejected, ...] = ()


def covers(state_vector: dict[int, int], update: bytes) -> bool:
    """True when a document with ``state_vector`` holds every struct ``update`` carries
    (after applying it: structs left pending for missing predecessors are not held)."""
    try:
        needed = struct_ranges(update)
    except ProtocolError:
        return False
    return all(state_vector.get(client, 0) >= end for client, (_start, end) in needed.items())


def _apply_all(
    doc: pycrdt.Doc[Any], log: Sequence[tuple[int, bytes]], skip: set[int]
) -> dict[int, str]:
    failed: dict[int, str] = {}
    for update_id, payload in log:
        if update_id in skip:
            continue
        try:
            doc.apply_update(payload)
        except Exception as exc:  # pycrdt raises RuntimeError or ValueError for bad updates
            failed[update_id] = f"cannot be applied: {exc}"
    return failed


def _pending(doc: pycrdt.Doc[Any], log: Sequence[tuple[int, bytes]], skip: set[int]) -> set[int]:
    state = decode_state_vector(doc.get_state())
    return {i for i, payload in log if i not in skip and not covers(state, payload)}


def fold_updates(snapshot: bytes | None, log: Sequence[tuple[int, bytes]]) -> Folded:
    """Fold ``snapshot`` and ``log`` (``(id, update)`` pairs, in order); see the module doc.

    A rejected update may have applied in part before it failed, and may have
    broken later ones that depend on the same missing pieces; so when anything
    fails, the fold starts again without the failures, then tries each of them
    once more at the end (updates commute; pending ones last), keeping those that
    now apply whole.
    """
    rejected: list[Rejected] = []
    doc: pycrdt.Doc[Any] = pycrdt.Doc()
    if snapshot is not None:
        try:
            doc.apply_update(snapshot)
        except Exception as exc:
            # What applied before the failure stays; the snapshot is kept in quarantine.
            rejected.append(Rejected(None, f"snapshot cannot be applied: {exc}"))
    failed = _apply_all(doc, log, set())
    pending = _pending(doc, log, set(failed))
    if failed or pending:
        doc = pycrdt.Doc()
        if snapshot is not None:
            with contextlib.suppress(Exception):  # recorded in the first pass
                doc.apply_update(snapshot)
        left_out = set(failed) | pending
        _apply_all(doc, log, left_out)
        # Failures first: a pending update retried before them would break them again.
        retried = [(i, p) for i, p in log if i in failed] + [
            (i, p) for i, p in log if i in pending and i not in failed
        ]
        again = _apply_all(doc, retried, set())
        still_pending = _pending(doc, retried, set(again))
        for update_id, _payload in retried:
            if update_id in again:
                rejected.append(Rejected(update_id, again[update_id]))
            elif update_id in still_pending:
                rejected.append(Rejected(update_id, "depends on updates that never arrived"))
    return Folded(doc.get_update(), tuple(rejected))


def _fold_packed(snapshot: bytes | None, ids: bytes, lengths: bytes, blob: bytes) -> Folded:
    """:func:`fold_updates` on a log packed into three buffers (cheap to send to a child)."""
    id_list = array("q")
    id_list.frombytes(ids)
    length_list = array("Q")
    length_list.frombytes(lengths)
    log: list[tuple[int, bytes]] = []
    offset = 0
    for update_id, length in zip(id_list, length_list, strict=True):
        log.append((update_id, blob[offset : offset + length]))
        offset += length
    return fold_updates(snapshot, log)


def _serve_folds(connection: Connection) -> None:
    """The child process: fold each packed log it is sent, until the pipe closes."""
    while True:
        try:
            request = connection.recv()
        except EOFError:
            return
        connection.send(_fold_packed(*request))


class DocumentFolder:
    """Folds logs inline when small, else in one child process it owns.

    Use as ``async with DocumentFolder() as folder``; the child is spawned on the
    first big fold (spawn, not fork: the server has threads), folds one log at a
    time, and is terminated on exit, so shutdown never waits for a long fold.
    """

    def __init__(
        self,
        *,
        inline_max_bytes: int = INLINE_MAX_BYTES,
        inline_max_updates: int = INLINE_MAX_UPDATES,
    ) -> None:
        self.inline_max_bytes = inline_max_bytes
        self.inline_max_updates = inline_max_updates
        self._child: BaseProcess | None = None
        self._pipe: Connection | None = None
        self._lock = anyio.Lock()
        self._closed = False
        #: Folds done in the child process (tests and metrics read it).
        self.child_folds = 0

    async def __aenter__(self) -> DocumentFolder:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._closed = True
        self._stop_child()

    def _stop_child(self) -> None:
        child, pipe = self._child, self._pipe
        self._child = self._pipe = None
        if pipe is not None:
            pipe.close()
        if child is not None:
            child.terminate()
            child.join(timeout=5)

    async def fold(self, snapshot: bytes | None, logged: Sequence[tuple[int, bytes]]) -> Folded:
        """The folded state of ``snapshot`` plus ``logged`` (see :func:`fold_updates`)."""
        size = (len(snapshot) if snapshot else 0) + sum(len(p) for _, p in logged)
        if self._closed or (
            size <= self.inline_max_bytes and len(logged) <= self.inline_max_updates
        ):
            return fold_updates(snapshot, logged)
        request = (
            snapshot,
            array("q", (i for i, _ in logged)).tobytes(),
            array("Q", (len(p) for _, p in logged)).tobytes(),
            b"".join(p for _, p in logged),
        )
        async with self._lock:
            for attempt in (1, 2):
                try:
                    folded = await self._in_child(request)
                except (EOFError, OSError) as exc:
                    log.warning("the folding process died (attempt %d): %s", attempt, exc)
                    self._stop_child()
                    continue
                self.child_folds += 1
                return folded
        # Twice dead (out of memory?): fold here rather than fail the room.
        return fold_updates(snapshot, logged)

    async def _in_child(self, request: tuple[bytes | None, bytes, bytes, bytes]) -> Folded:
        if self._pipe is None or self._child is None or not self._child.is_alive():
            self._stop_child()
            parent, child_end = multiprocessing.get_context("spawn").Pipe()
            process = multiprocessing.get_context("spawn").Process(
                target=_serve_folds, args=(child_end,), name="jacameno-fold", daemon=True
            )
            process.start()
            child_end.close()
            self._child, self._pipe = process, parent
        pipe = self._pipe

        def round_trip() -> Folded:
            pipe.send(request)
            folded: Folded = pipe.recv()
            return folded

        try:
            return await anyio.to_thread.run_sync(round_trip, abandon_on_cancel=True)
        except anyio.get_cancelled_exc_class():
            # The child is mid-fold and its answer would reach the next caller: drop it.
            self._stop_child()
            raise
