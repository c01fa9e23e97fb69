"""The field tables of each record and its lenient reader, derived from `schema.py`.

Readers never raise on what a peer wrote: a record that is not a Map (or plain object)
or lacks what makes it usable (a clip without `asset_id`, a job with an unknown status)
is skipped; a wrong optional field reads as its default. `validate()` reports both.
"""

from __future__ import annotations

from .fields import items_of
from .records import fields_of, read_record, read_root_record
from .schema import (
    AutomationPointView,
    ClipView,
    CoachingNoteView,
    CoachingView,
    CommentView,
    EffectView,
    JobView,
    MetaView,
    MidiClipView,
    MixView,
    NoteView,
    TrackView,
    track_order,
)

__all__ = [
    "AUTOMATION_POINT_FIELDS",
    "CLIP_FIELDS",
    "COACHING_FIELDS",
    "COMMENT_FIELDS",
    "EFFECT_FIELDS",
    "JOB_FIELDS",
    "META_FIELDS",
    "MIDI_CLIP_FIELDS",
    "MIDI_NOTE_FIELDS",
    "MIX_FIELDS",
    "NOTE_FIELDS",
    "TRACK_FIELDS",
    "items_of",
    "read_clip",
    "read_coaching",
    "read_comment",
    "read_effect",
    "read_job",
    "read_meta",
    "read_mix",
    "read_track",
    "sort_tracks",
]

META_FIELDS = fields_of(MetaView)
TRACK_FIELDS = fields_of(TrackView)
CLIP_FIELDS = fields_of(ClipView)
AUTOMATION_POINT_FIELDS = fields_of(AutomationPointView)
MIDI_CLIP_FIELDS = fields_of(MidiClipView)
MIDI_NOTE_FIELDS = fields_of(NoteView)
EFFECT_FIELDS = fields_of(EffectView)
MIX_FIELDS = fields_of(MixView)
JOB_FIELDS = fields_of(JobView)
COACHING_FIELDS = fields_of(CoachingView)
NOTE_FIELDS = fields_of(CoachingNoteView)
COMMENT_FIELDS = fields_of(CommentView)


def read_meta(raw: object) -> MetaView:
    return read_root_record(MetaView, raw)


def read_mix(raw: object) -> MixView:
    return read_root_record(MixView, raw)


def read_track(track_id: str, raw: object) -> TrackView | None:
    return read_record(TrackView, raw, id=track_id)


def read_clip(clip_id: str, raw: object) -> ClipView | None:
    return read_record(ClipView, raw, id=clip_id)


def read_effect(raw: object) -> EffectView | None:
    return read_record(EffectView, raw)


def read_job(job_id: str, raw: object) -> JobView | None:
    return read_record(JobView, raw, id=job_id)


def read_coaching(track_id: str, raw: object) -> CoachingView | None:
    return read_record(CoachingView, raw, track_id=track_id)


def read_comment(raw: object) -> CommentView | None:
    return read_record(CommentView, raw)


def sort_tracks(tracks: list[TrackView]) -> list[TrackView]:
    """Tracks in display order: by fractional `order`, ties and bad keys by id."""
    return sorted(tracks, key=track_order)
