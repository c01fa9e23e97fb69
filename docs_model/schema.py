"""Names, enums and read-only views of the project document.

The document (DESIGN.md, "The project document")::

    meta         Map   schema_version, title, bpm, key, time_signature
    tracks       Map   track id -> Map: name, kind, order, volume_db, pan, mute, solo,
                       asset_id, clips (Map clip id -> Map), effects (Array of Maps)
    lyrics       Text
    lyrics_meta  Map   free-form JSON fields (sections, rhyme_scheme, suggestions, ...)
    mix          Map   preset, master_settings, render/master asset ids and measurements
    jobs         Map   job id -> Map: kind, status, progress, params, requested_by, result,
                       error, created_at, updated_at, started_at, finished_at
    coaching     Map   track id -> Map: summary, notes (Array of Maps), updated_at
    comments     Array of Maps: id, author, text, time_s, created_at, reply_to (the id of
                       the comment answered; absent or null starts a thread), resolved

Times in the song are seconds (`*_s`), gains decibels (`*_db`), timestamps float epoch
seconds (`*_at`). Yjs stores every number as a float.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import TypeAlias

__all__ = [
    "COACHING",
    "COMMENTS",
    "CURRENT_SCHEMA_VERSION",
    "DEFAULT_BPM",
    "DEFAULT_TIME_SIGNATURE",
    "DEFAULT_TITLE",
    "JOBS",
    "LYRICS",
    "LYRICS_META",
    "MAP_ROOTS",
    "META",
    "MIX",
    "TRACKS",
    "ClipView",
    "CoachingNoteView",
    "CoachingView",
    "CommentView",
    "EffectView",
    "JSONValue",
    "JobKind",
    "JobStatus",
    "JobView",
    "MetaView",
    "MixView",
    "Problem",
    "TrackKind",
    "TrackView",
]

JSONValue: TypeAlias = "bool | int | float | str | list[JSONValue] | dict[str, JSONValue] | None"
"""A plain JSON value (finite numbers only)."""

CURRENT_SCHEMA_VERSION = 1
"""The `meta.schema_version` this code writes; `migrate()` brings older documents here."""

# Root type names. Changing one is a schema migration, not a rename.
META = "meta"
TRACKS = "tracks"
LYRICS = "lyrics"
LYRICS_META = "lyrics_meta"
MIX = "mix"
JOBS = "jobs"
COACHING = "coaching"
COMMENTS = "comments"
MAP_ROOTS = (META, TRACKS, LYRICS_META, MIX, JOBS, COACHING)

DEFAULT_TITLE = "Untitled project"
DEFAULT_BPM = 120.0
DEFAULT_TIME_SIGNATURE = "4/4"


class TrackKind(StrEnum):
    AUDIO = "audio"
    VOCAL = "vocal"
    INSTRUMENT = "instrument"
    BUS = "bus"


class JobKind(StrEnum):
    ANALYSIS = "analysis"
    MIXING = "mixing"
    MASTERING = "mastering"
    COACHING = "coaching"
    LYRICS = "lyrics"


class JobStatus(StrEnum):
    """Life cycle: queued -> running -> done | failed (queued may also fail directly)."""

    QUEUED = "queued"
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"

    @property
    def is_final(self) -> bool:
        return self in (JobStatus.DONE, JobStatus.FAILED)


@dataclass(frozen=True)
class Problem:
    """A wrong shape found by `validate()`: `path` like ``tracks.<id>.volume_db``."""

    path: str
    message: str


@dataclass(frozen=True)
class MetaView:
    schema_version: int
    title: str
    bpm: float
    key: str | None
    time_signature: str


@dataclass(frozen=True)
class ClipView:
    """A placed region of an asset: plays `offset_s..offset_s+duration_s` of the asset
    from `start_s` in the song."""

    id: str
    asset_id: str
    start_s: float
    offset_s: float
    duration_s: float
    gain_db: float

    @property
    def end_s(self) -> float:
        return self.start_s + self.duration_s


@dataclass(frozen=True)
class EffectView:
    """One insert effect; `params` maps parameter names to plain values."""

    plugin: str
    params: dict[str, JSONValue]


@dataclass(frozen=True)
class TrackView:
    id: str
    name: str
    kind: TrackKind
    order: str
    volume_db: float
    pan: float
    mute: bool
    solo: bool
    asset_id: str | None
    clips: tuple[ClipView, ...]
    effects: tuple[EffectView, ...]


@dataclass(frozen=True)
class MixView:
    """Mix settings and the latest render and master with their measurements."""

    preset: str | None
    master_settings: dict[str, JSONValue]
    render_asset_id: str | None
    render_loudness_lufs: float | None
    render_true_peak_dbtp: float | None
    master_asset_id: str | None
    master_loudness_lufs: float | None
    master_true_peak_dbtp: float | None


@dataclass(frozen=True)
class JobView:
    id: str
    kind: JobKind
    status: JobStatus
    progress: float
    params: dict[str, JSONValue]
    requested_by: str
    result: dict[str, JSONValue] | None
    error: str | None
    created_at: float | None
    updated_at: float | None
    started_at: float | None
    finished_at: float | None


@dataclass(frozen=True)
class CoachingNoteView:
    """A remark about `start_s..end_s` of the track (`end_s` is None for a point)."""

    start_s: float
    end_s: float | None
    kind: str
    message: str
    figures: dict[str, JSONValue]


@dataclass(frozen=True)
class CoachingView:
    track_id: str
    summary: dict[str, JSONValue]
    notes: tuple[CoachingNoteView, ...]
    updated_at: float | None


@dataclass(frozen=True)
class CommentView:
    """A comment; `id` is None only for comments a bare client wrote without one."""

    id: str | None
    author: str
    text: str
    time_s: float | None
    created_at: float | None
    #: The comment this one answers; None for the first comment of a thread.
    reply_to: str | None = None
    #: Whether the thread this comment starts is settled (set on a thread's first comment).
    resolved: bool = False
