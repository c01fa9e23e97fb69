"""`ProjectDocument`: typed reads and writes over the `pycrdt.Doc` of one project."""

from __future__ import annotations

import time
from typing import Any

from pycrdt import Doc

from .automation import AutomationMixin
from .base import Clock, Origin, new_doc
from .coaching import CoachingMixin
from .comments import CommentsMixin
from .fields import UNSET, Unset, checked_fields
from .jobs import JobsMixin
from .lyrics import LyricsMixin
from .midi import MidiMixin
from .migrations import migrate, schema_version
from .mix import MixMixin
from .schema import DEFAULT_BPM, DEFAULT_TIME_SIGNATURE, DEFAULT_TITLE, MetaView
from .tracks import TracksMixin
from .views import META_FIELDS, read_meta

__all__ = ["ProjectDocument", "create_document"]


class ProjectDocument(
    TracksMixin,
    AutomationMixin,
    MidiMixin,
    JobsMixin,
    CoachingMixin,
    CommentsMixin,
    LyricsMixin,
    MixMixin,
):
    """Typed access to a project document.

    Reads return frozen views and never fail on shapes a peer wrote wrongly (they skip or
    repair them; `validate()` reports them). Each write is one transaction with the given
    `origin`; if you call it inside your own transaction, pass that transaction's origin
    (or None). Arguments are checked before anything is written, because a pycrdt
    transaction cannot roll back.

    Construct it outside observer callbacks (it defines the root types); afterwards its
    reads also work inside them. `clock` returns float epoch seconds for timestamps.
    """

    def __init__(self, doc: Doc[Any] | None = None, *, clock: Clock = time.time) -> None:
        super().__init__(doc, clock=clock)

    def get_meta(self) -> MetaView:
        with self._transaction(None):
            return read_meta(self._roots.meta)

    def set_meta(
        self,
        *,
        title: str | Unset = UNSET,
        bpm: float | Unset = UNSET,
        key: str | Unset | None = UNSET,
        time_signature: str | Unset = UNSET,
        origin: Origin = None,
    ) -> None:
        """Set the given meta fields (`bpm` in beats per minute, `time_signature` like
        "4/4", `key` like "A minor" or None)."""
        fields = checked_fields(
            {"title": title, "bpm": bpm, "key": key, "time_signature": time_signature},
            META_FIELDS,
        )
        with self._transaction(origin):
            for name, value in fields.items():
                self._roots.meta[name] = value

    def initialise(
        self,
        *,
        title: str = DEFAULT_TITLE,
        bpm: float = DEFAULT_BPM,
        key: str | None = None,
        time_signature: str = DEFAULT_TIME_SIGNATURE,
        origin: Origin = None,
    ) -> None:
        """Fill in whichever meta fields are missing and migrate to the current schema.

        Safe on an existing document and when two peers do it at once: it only sets Map
        keys (last writer wins) and never inserts list items. Raises `SchemaTooNewError`
        before writing anything if newer code made the document.
        """
        fields = checked_fields(
            {"title": title, "bpm": bpm, "key": key, "time_signature": time_signature},
            META_FIELDS,
        )
        with self._transaction(origin):
            schema_version(self)
            for name, value in fields.items():
                if name not in self._roots.meta:
                    self._roots.meta[name] = value
            migrate(self, origin=origin)


def create_document(
    *,
    title: str = DEFAULT_TITLE,
    bpm: float = DEFAULT_BPM,
    key: str | None = None,
    time_signature: str = DEFAULT_TIME_SIGNATURE,
    clock: Clock = time.time,
) -> ProjectDocument:
    """A new, initialised project document on a fresh `pycrdt.Doc`."""
    project = ProjectDocument(new_doc(), clock=clock)
    project.initialise(title=title, bpm=bpm, key=key, time_signature=time_signature)
    return project
