"""MIDI clips: notes keyed by id under a clip of a MIDI track, so two people can edit
one clip at once (each note is its own Map: moving one note and adding another merge).

A clip sits at ``start_s`` in the song for ``duration_s``; its notes start and last in
beats from the clip's start (the song's ``meta.bpm`` turns beats into seconds).
"""

from __future__ import annotations

from pycrdt import Map

from .base import DocumentBase, Origin, new_id
from .errors import MalformedDocumentError, UnknownClipError, UnknownNoteError
from .fields import UNSET, Unset, checked_fields, describe, has_key
from .records import read_record
from .schema import MidiClipView
from .views import MIDI_CLIP_FIELDS, MIDI_NOTE_FIELDS

__all__ = ["MAX_NOTES", "MidiMixin"]

#: Notes one clip may hold.
MAX_NOTES = 20_000


class MidiMixin(DocumentBase):
    def add_midi_clip(
        self, track_id: str, *, start_s: float, duration_s: float, origin: Origin = None
    ) -> str:
        """An empty MIDI clip at ``start_s`` lasting ``duration_s``; returns its id."""
        fields = checked_fields({"start_s": start_s, "duration_s": duration_s}, MIDI_CLIP_FIELDS)
        clip_id = new_id()
        with self._transaction(origin):
            track = self._track_map(track_id)
            clips = track.get("midi_clips")
            if clips is None:
                # add_track makes it; tracks of older documents get it here.
                clips = Map()
                track["midi_clips"] = clips
            if not isinstance(clips, Map):
                raise MalformedDocumentError(
                    f"tracks.{track_id}.midi_clips is {describe(clips)}, not a Map"
                )
            clips[clip_id] = Map({**fields, "notes": Map()})
        return clip_id

    def get_midi_clip(self, track_id: str, clip_id: str) -> MidiClipView:
        with self._transaction(None):
            view = read_record(MidiClipView, self._midi_clip_map(track_id, clip_id), id=clip_id)
        if view is None:
            raise MalformedDocumentError(f"tracks.{track_id}.midi_clips.{clip_id} is not readable")
        return view

    def update_midi_clip(
        self,
        track_id: str,
        clip_id: str,
        *,
        start_s: float | Unset = UNSET,
        duration_s: float | Unset = UNSET,
        origin: Origin = None,
    ) -> None:
        fields = checked_fields({"start_s": start_s, "duration_s": duration_s}, MIDI_CLIP_FIELDS)
        with self._transaction(origin):
            clip = self._midi_clip_map(track_id, clip_id)
            for key, value in fields.items():
                clip[key] = value

    def remove_midi_clip(self, track_id: str, clip_id: str, *, origin: Origin = None) -> None:
        with self._transaction(origin):
            self._midi_clip_map(track_id, clip_id)
            clips = self._track_map(track_id)["midi_clips"]
            assert isinstance(clips, Map)
            del clips[clip_id]

    def add_note(
        self,
        track_id: str,
        clip_id: str,
        *,
        pitch: int,
        start_beats: float,
        length_beats: float,
        velocity: int = 100,
        origin: Origin = None,
    ) -> str:
        """Add a note to a MIDI clip; returns its id."""
        fields = checked_fields(
            {
                "pitch": pitch,
                "velocity": velocity,
                "start_beats": start_beats,
                "length_beats": length_beats,
            },
            MIDI_NOTE_FIELDS,
        )
        note_id = new_id()
        with self._transaction(origin):
            notes = self._notes_map(track_id, clip_id)
            if len(notes) >= MAX_NOTES:
                raise MalformedDocumentError(f"a MIDI clip holds at most {MAX_NOTES} notes")
            notes[note_id] = Map(fields)
        return note_id

    def update_note(
        self,
        track_id: str,
        clip_id: str,
        note_id: str,
        *,
        pitch: int | Unset = UNSET,
        velocity: int | Unset = UNSET,
        start_beats: float | Unset = UNSET,
        length_beats: float | Unset = UNSET,
        origin: Origin = None,
    ) -> None:
        """Set the given fields of a note (a note moved by one peer and lengthened by
        another keeps both changes)."""
        fields = checked_fields(
            {
                "pitch": pitch,
                "velocity": velocity,
                "start_beats": start_beats,
                "length_beats": length_beats,
            },
            MIDI_NOTE_FIELDS,
        )
        with self._transaction(origin):
            note = self._notes_map(track_id, clip_id).get(note_id)
            if not isinstance(note, Map):
                raise UnknownNoteError(note_id)
            for key, value in fields.items():
                note[key] = value

    def remove_note(
        self, track_id: str, clip_id: str, note_id: str, *, origin: Origin = None
    ) -> None:
        with self._transaction(origin):
            notes = self._notes_map(track_id, clip_id)
            if not has_key(notes, note_id):
                raise UnknownNoteError(note_id)
            del notes[note_id]

    def _midi_clip_map(self, track_id: str, clip_id: str) -> Map[object]:
        clips = self._track_map(track_id).get("midi_clips")
        if not isinstance(clips, Map) or not has_key(clips, clip_id):
            raise UnknownClipError(clip_id)
        clip = clips[clip_id]
        if not isinstance(clip, Map):
            raise MalformedDocumentError(
                f"tracks.{track_id}.midi_clips.{clip_id} is {describe(clip)}, not a Map"
            )
        return clip

    def _notes_map(self, track_id: str, clip_id: str) -> Map[object]:
        notes = self._midi_clip_map(track_id, clip_id).get("notes")
        if not isinstance(notes, Map):
            raise MalformedDocumentError(
                f"tracks.{track_id}.midi_clips.{clip_id}.notes is {describe(notes)}, not a Map"
            )
        return notes
