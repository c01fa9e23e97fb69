"""The fields of each record, and lenient readers that turn raw values into views.

Readers never raise on what a peer wrote: a record that is not a Map (or plain object)
or lacks what makes it usable (a clip without `asset_id`, a job with an unknown status)
is skipped; a wrong optional field reads as its default. `validate()` reports both.
"""

from __future__ import annotations

import re

from pycrdt import Array

from .fields import MISSING, Field, FieldType, entries
from .ordering import order_sort_key
from .schema import (
    DEFAULT_BPM,
    DEFAULT_TIME_SIGNATURE,
    DEFAULT_TITLE,
    ClipView,
    CoachingNoteView,
    CoachingView,
    CommentView,
    EffectView,
    JobKind,
    JobStatus,
    JobView,
    MetaView,
    MixView,
    TrackKind,
    TrackView,
)

__all__ = [
    "CLIP_FIELDS",
    "COACHING_FIELDS",
    "COMMENT_FIELDS",
    "EFFECT_FIELDS",
    "JOB_FIELDS",
    "META_FIELDS",
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

_NUMBER, _STRING, _BOOL, _OBJECT = (
    FieldType.NUMBER,
    FieldType.STRING,
    FieldType.BOOL,
    FieldType.OBJECT,
)


def _by_name(*fields: Field) -> dict[str, Field]:
    return {field.name: field for field in fields}


def _timestamp(name: str) -> Field:
    return Field(name, _NUMBER, nullable=True, minimum=0.0)


META_FIELDS = _by_name(
    Field("schema_version", _NUMBER, default=0.0, minimum=0.0, integer=True),
    Field("title", _STRING, default=DEFAULT_TITLE),
    Field("bpm", _NUMBER, default=DEFAULT_BPM, positive=True, maximum=999.0),
    Field("key", _STRING, nullable=True),
    Field(
        "time_signature",
        _STRING,
        default=DEFAULT_TIME_SIGNATURE,
        pattern=re.compile(r"[1-9][0-9]?/(1|2|4|8|16|32)"),
    ),
)

TRACK_FIELDS = _by_name(
    Field("name", _STRING, default="", required=True),
    Field("kind", _STRING, default=TrackKind.AUDIO.value, required=True, choices=tuple(TrackKind)),
    Field("order", FieldType.ORDER_KEY, default="", required=True),
    Field("volume_db", _NUMBER, default=0.0),
    Field("pan", _NUMBER, default=0.0, minimum=-1.0, maximum=1.0),
    Field("mute", _BOOL, default=False),
    Field("solo", _BOOL, default=False),
    Field("asset_id", _STRING, nullable=True),
)

CLIP_FIELDS = _by_name(
    Field("asset_id", _STRING, default="", required=True),
    Field("start_s", _NUMBER, default=0.0, required=True, minimum=0.0),
    Field("offset_s", _NUMBER, default=0.0, minimum=0.0),
    Field("duration_s", _NUMBER, default=0.0, required=True, positive=True),
    Field("gain_db", _NUMBER, default=0.0),
)

EFFECT_FIELDS = _by_name(
    Field("plugin", _STRING, default="", required=True, pattern=re.compile(r"\S.*", re.DOTALL)),
    Field("params", _OBJECT),
)

MIX_FIELDS = _by_name(
    Field("preset", _STRING, nullable=True),
    Field("master_settings", _OBJECT, nullable=True),
    Field("render_asset_id", _STRING, nullable=True),
    Field("render_loudness_lufs", _NUMBER, nullable=True),
    Field("render_true_peak_dbtp", _NUMBER, nullable=True),
    Field("master_asset_id", _STRING, nullable=True),
    Field("master_loudness_lufs", _NUMBER, nullable=True),
    Field("master_true_peak_dbtp", _NUMBER, nullable=True),
)

JOB_FIELDS = _by_name(
    Field("kind", _STRING, default="", required=True, choices=tuple(JobKind)),
    Field("status", _STRING, default="", required=True, choices=tuple(JobStatus)),
    Field("progress", _NUMBER, default=0.0, minimum=0.0, maximum=1.0),
    Field("params", _OBJECT, nullable=True),
    Field("requested_by", _STRING, default=""),
    Field("result", _OBJECT, nullable=True),
    Field("error", _STRING, nullable=True),
    _timestamp("created_at"),
    _timestamp("updated_at"),
    _timestamp("started_at"),
    _timestamp("finished_at"),
)

COACHING_FIELDS = _by_name(Field("summary", _OBJECT, nullable=True), _timestamp("updated_at"))

NOTE_FIELDS = _by_name(
    Field("start_s", _NUMBER, default=0.0, required=True, minimum=0.0),
    Field("end_s", _NUMBER, nullable=True, minimum=0.0),
    Field("kind", _STRING, default="note"),
    Field("message", _STRING, default="", required=True),
    Field("figures", _OBJECT, nullable=True),
)

COMMENT_FIELDS = _by_name(
    Field("id", _STRING, nullable=True),
    Field("author", _STRING, default="", required=True),
    Field("text", _STRING, default="", required=True),
    Field("time_s", _NUMBER, nullable=True, minimum=0.0),
    _timestamp("created_at"),
    Field("reply_to", _STRING, nullable=True),
    Field("resolved", _BOOL, default=False),
)


def _usable(fields: dict[str, object], specs: dict[str, Field]) -> bool:
    """Whether every required field is present and acceptable."""
    return all(
        spec.problem(fields.get(name, MISSING)) is None
        for name, spec in specs.items()
        if spec.required
    )


def items_of(value: object) -> list[object]:
    """The items of an Array (or of a plain list a client wrote instead); [] otherwise."""
    if isinstance(value, Array):
        return list(value)
    if isinstance(value, list):
        return value
    return []


def read_meta(raw: object) -> MetaView:
    f = entries(raw) or {}
    m = META_FIELDS
    version = m["schema_version"].read_optional_float(f)
    return MetaView(
        schema_version=int(version) if version is not None else 0,
        title=m["title"].read_str(f),
        bpm=m["bpm"].read_float(f),
        key=m["key"].read_optional_str(f),
        time_signature=m["time_signature"].read_str(f),
    )


def read_clip(clip_id: str, raw: object) -> ClipView | None:
    f = entries(raw)
    if f is None or not _usable(f, CLIP_FIELDS):
        return None
    c = CLIP_FIELDS
    return ClipView(
        id=clip_id,
        asset_id=c["asset_id"].read_str(f),
        start_s=c["start_s"].read_float(f),
        offset_s=c["offset_s"].read_float(f),
        duration_s=c["duration_s"].read_float(f),
        gain_db=c["gain_db"].read_float(f),
    )


def read_effect(raw: object) -> EffectView | None:
    f = entries(raw)
    if f is None or not _usable(f, EFFECT_FIELDS):
        return None
    return EffectView(
        plugin=EFFECT_FIELDS["plugin"].read_str(f),
        params=EFFECT_FIELDS["params"].read_object(f) or {},
    )


def read_track(track_id: str, raw: object) -> TrackView | None:
    f = entries(raw)
    if f is None:
        return None
    t = TRACK_FIELDS
    clip_entries = entries(f.get("clips")) or {}
    clips = (read_clip(clip_id, clip) for clip_id, clip in clip_entries.items())
    effects = (read_effect(effect) for effect in items_of(f.get("effects")))
    return TrackView(
        id=track_id,
        name=t["name"].read_str(f),
        kind=TrackKind(t["kind"].read_str(f)),
        order=t["order"].read_str(f),
        volume_db=t["volume_db"].read_float(f),
        pan=t["pan"].read_float(f),
        mute=t["mute"].read_bool(f),
        solo=t["solo"].read_bool(f),
        asset_id=t["asset_id"].read_optional_str(f),
        clips=tuple(sorted((c for c in clips if c is not None), key=lambda c: (c.start_s, c.id))),
        effects=tuple(e for e in effects if e is not None),
    )


def sort_tracks(tracks: list[TrackView]) -> list[TrackView]:
    """Tracks in display order: by fractional `order`, ties and bad keys by id."""
    return sorted(tracks, key=lambda track: order_sort_key(track.order, track.id))


def read_mix(raw: object) -> MixView:
    f = entries(raw) or {}
    m = MIX_FIELDS
    return MixView(
        preset=m["preset"].read_optional_str(f),
        master_settings=m["master_settings"].read_object(f) or {},
        render_asset_id=m["render_asset_id"].read_optional_str(f),
        render_loudness_lufs=m["render_loudness_lufs"].read_optional_float(f),
        render_true_peak_dbtp=m["render_true_peak_dbtp"].read_optional_float(f),
        master_asset_id=m["master_asset_id"].read_optional_str(f),
        master_loudness_lufs=m["master_loudness_lufs"].read_optional_float(f),
        master_true_peak_dbtp=m["master_true_peak_dbtp"].read_optional_float(f),
    )


def read_job(job_id: str, raw: object) -> JobView | None:
    f = entries(raw)
    if f is None or not _usable(f, JOB_FIELDS):
        return None
    j = JOB_FIELDS
    return JobView(
        id=job_id,
        kind=JobKind(j["kind"].read_str(f)),
        status=JobStatus(j["status"].read_str(f)),
        progress=j["progress"].read_float(f),
        params=j["params"].read_object(f) or {},
        requested_by=j["requested_by"].read_str(f),
        result=j["result"].read_object(f),
        error=j["error"].read_optional_str(f),
        created_at=j["created_at"].read_optional_float(f),
        updated_at=j["updated_at"].read_optional_float(f),
        started_at=j["started_at"].read_optional_float(f),
        finished_at=j["finished_at"].read_optional_float(f),
    )


def _read_note(raw: object) -> CoachingNoteView | None:
    f = entries(raw)
    if f is None or not _usable(f, NOTE_FIELDS):
        return None
    n = NOTE_FIELDS
    start_s = n["start_s"].read_float(f)
    end_s = n["end_s"].read_optional_float(f)
    return CoachingNoteView(
        start_s=start_s,
        end_s=end_s if end_s is not None and end_s >= start_s else None,
        kind=n["kind"].read_str(f),
        message=n["message"].read_str(f),
        figures=n["figures"].read_object(f) or {},
    )


def read_coaching(track_id: str, raw: object) -> CoachingView | None:
    f = entries(raw)
    if f is None:
        return None
    notes = (_read_note(note) for note in items_of(f.get("notes")))
    return CoachingView(
        track_id=track_id,
        summary=COACHING_FIELDS["summary"].read_object(f) or {},
        notes=tuple(note for note in notes if note is not None),
        updated_at=COACHING_FIELDS["updated_at"].read_optional_float(f),
    )


def read_comment(raw: object) -> CommentView | None:
    f = entries(raw)
    if f is None or not _usable(f, COMMENT_FIELDS):
        return None
    c = COMMENT_FIELDS
    return CommentView(
        id=c["id"].read_optional_str(f),
        author=c["author"].read_str(f),
        text=c["text"].read_str(f),
        time_s=c["time_s"].read_optional_float(f),
        created_at=c["created_at"].read_optional_float(f),
        reply_to=c["reply_to"].read_optional_str(f),
        resolved=c["resolved"].read_bool(f),
    )
