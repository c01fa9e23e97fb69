"""What every part of `ProjectDocument` shares: the roots, the clock, ids, transactions."""

from __future__ import annotations

import secrets
import time
import uuid
from collections.abc import Callable, Hashable
from typing import Any, TypeAlias

from pycrdt import Doc, Map, Transaction

from .errors import MalformedDocumentError, UnknownTrackError
from .fields import describe, has_key
from .roots import Roots, get_roots

__all__ = ["CLIENT_ID_BITS", "Clock", "DocumentBase", "Origin", "new_doc", "new_id", "roots_of"]

Clock: TypeAlias = Callable[[], float]
"""Returns the time as float epoch seconds (`time.time` by default)."""

Origin: TypeAlias = Hashable | None
"""A transaction origin: anything hashable. Services pass their own and skip it in their
observers, so they do not react to their own writes."""


#: Client ids this many bits wide: yjs uses 32-bit ids, and peers that assume so (pycrdt
#: 0.12, for one) misread the 53-bit ids pycrdt picks by default and re-send items.
CLIENT_ID_BITS = 32


def new_doc() -> Doc[Any]:
    """A fresh `pycrdt.Doc` with a random 32-bit client id, as yjs peers expect."""
    return Doc(client_id=secrets.randbits(CLIENT_ID_BITS))


def new_id() -> str:
    """A fresh id for a track, clip, job or comment: a uuid4 as 32 hex digits."""
    return uuid.uuid4().hex


class DocumentBase:
    """Holds the typed roots of one `pycrdt.Doc`; the mixins add the operations."""

    def __init__(self, doc: Doc[Any] | None = None, *, clock: Clock = time.time) -> None:
        self._doc = doc if doc is not None else new_doc()
        self._roots = get_roots(self._doc)
        self._clock = clock

    @property
    def doc(self) -> Doc[Any]:
        """The underlying document (sync it with `get_update()` / `apply_update()`)."""
        return self._doc

    @property
    def roots(self) -> Roots:
        """Typed handles on the root types, for code that needs the raw pycrdt objects."""
        return self._roots

    def _transaction(self, origin: Origin) -> Transaction:
        # Every multi-field write goes through one transaction: peers see it whole, and
        # observers receive one batch of events with this origin.
        return self._doc.transaction(origin=origin)

    def _track_map(self, track_id: str) -> Map[object]:
        """The Map of a track, for writing."""
        if not has_key(self._roots.tracks, track_id):
            raise UnknownTrackError(track_id)
        track = self._roots.tracks[track_id]
        if not isinstance(track, Map):
            raise MalformedDocumentError(
                f"tracks.{track_id} is {describe(track)}, not a Map; a peer wrote it wrongly "
                "(see validate()) and it cannot be edited in place"
            )
        return track


def roots_of(target: Doc[Any] | DocumentBase) -> Roots:
    """The roots of a bare `Doc` or of a `ProjectDocument`."""
    return target.roots if isinstance(target, DocumentBase) else get_roots(target)
