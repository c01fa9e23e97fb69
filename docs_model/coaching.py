"""Coaching: per-track summary figures and timed notes, written by the coaching service."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from pycrdt import Array, Map

from .base import DocumentBase, Origin
from .errors import InvalidValueError, UnknownTrackError
from .fields import has_key, to_stored
from .records import checked_entry
from .schema import CoachingNoteView, CoachingView, JSONValue
from .views import read_coaching

__all__ = ["CoachingMixin", "NoteSpec"]

NoteSpec = CoachingNoteView | Mapping[str, object]
"""A note to write: a `CoachingNoteView`, or a mapping with `start_s` (or `time_s`),
optional `end_s`, `kind`, `message` and optional `figures`."""


def _note_entry(note: NoteSpec, index: int) -> dict[str, object]:
    if not isinstance(note, CoachingNoteView):
        values = dict(note)
        if "start_s" not in values and "time_s" in values:
            values["start_s"] = values.pop("time_s")
        note = {**values, "figures": values.get("figures") or {}}
    return checked_entry(CoachingNoteView, note, f"notes[{index}]")


class CoachingMixin(DocumentBase):
    def set_coaching(
        self,
        track_id: str,
        summary: Mapping[str, object],
        notes: Sequence[NoteSpec],
        *,
        origin: Origin = None,
    ) -> None:
        """Replace the coaching of a track: JSON `summary` figures and timed `notes`."""
        stored_summary: JSONValue = to_stored(summary, "summary")
        if not isinstance(stored_summary, dict):
            raise InvalidValueError("summary must be a mapping")
        entries = [_note_entry(note, index) for index, note in enumerate(notes)]
        with self._transaction(origin):
            if not has_key(self._roots.tracks, track_id):
                raise UnknownTrackError(track_id)
            # A whole new entry under the track id: the coaching service is the only
            # writer, and replacing the Map keeps notes from two runs from interleaving.
            self._roots.coaching[track_id] = Map(
                {
                    "summary": stored_summary,
                    "notes": Array([Map(entry) for entry in entries]),
                    "updated_at": self._clock(),
                }
            )

    def get_coaching(self, track_id: str) -> CoachingView | None:
        """The coaching of a track, or None if it has none (or none readable)."""
        with self._transaction(None):
            if not has_key(self._roots.coaching, track_id):
                return None
            return read_coaching(track_id, self._roots.coaching[track_id])

    def clear_coaching(self, track_id: str, *, origin: Origin = None) -> None:
        with self._transaction(origin):
            if has_key(self._roots.coaching, track_id):
                del self._roots.coaching[track_id]
