"""The schema of the project document, declared once: roots, enums and record views.

Each record (track, clip, effect, job, coaching note, comment, ...) is declared as its
frozen view, every attribute annotated with the `Field` spec it is stored under (see
`records.py`); `ROOTS` says which root holds which record. Reads, writes' argument
checks, `validate()`, the JSON view and docs/schema.md all derive from these
declarations, so adding a field is a change here (and to the writer that sets it).
Regenerate the docs with ``python -m jacameno.docs_model.schema_doc > docs/schema.md``.

Times in the song are seconds (`*_s`), gains decibels (`*_db`), timestamps float epoch
seconds (`*_at`). Yjs stores every number as a float.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Annotated

from .clip_records import (
    AutomationCurve,
    AutomationPointView,
    ClipView,
    FadeCurve,
    MidiClipView,
    NoteView,
    clip_order,
    midi_clip_order,
)
from .fields import EMPTY_OBJECT, Field, FieldType, JSONValue
from .ordering import order_sort_key
from .records import KEY, Root, RootKind, Rule, nested_list, nested_map, record, spec

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
    "ROOTS",
    "TRACKS",
    "AutomationCurve",
    "AutomationPointView",
    "ClipView",
    "CoachingNoteView",
    "CoachingView",
    "CommentView",
    "EffectView",
    "FadeCurve",
    "JSONValue",
    "JobKind",
    "JobStatus",
    "JobView",
    "MetaView",
    "MidiClipView",
    "MixView",
    "NoteView",
    "Problem",
    "TrackKind",
    "TrackView",
]

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

DEFAULT_TITLE = "Untitled project"
DEFAULT_BPM = 120.0
DEFAULT_TIME_SIGNATURE = "4/4"


class TrackKind(StrEnum):
    AUDIO = "audio"
    VOCAL = "vocal"
    INSTRUMENT = "instrument"
    BUS = "bus"
    #: Notes in MIDI clips, played by a General MIDI instrument (``instrument``).
    MIDI = "midi"


class JobKind(StrEnum):
    ANALYSIS = "analysis"
    MIXING = "mixing"
    MASTERING = "mastering"
    COACHING = "coaching"
    LYRICS = "lyrics"
    #: Stems, a DAWproject or MIDI of the project, as a zip asset.
    EXPORT = "export"


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


_NUMBER, _STRING, _BOOL, _ORDER_KEY, _OBJECT = (
    FieldType.NUMBER,
    FieldType.STRING,
    FieldType.BOOL,
    FieldType.ORDER_KEY,
    FieldType.OBJECT,
)


def _timestamp(doc: str = "") -> Field:
    return spec(_NUMBER, nullable=True, minimum=0.0, doc=doc)


@record()
@dataclass(frozen=True)
class MetaView:
    """Project settings, in the `meta` root."""

    schema_version: Annotated[
        int,
        spec(
            _NUMBER,
            default=0.0,
            minimum=0.0,
            integer=True,
            doc="the schema this document follows; migrate() brings it to the current one",
        ),
    ]
    title: Annotated[str, spec(_STRING, default=DEFAULT_TITLE)]
    bpm: Annotated[float, spec(_NUMBER, default=DEFAULT_BPM, positive=True, maximum=999.0)]
    key: Annotated[str | None, spec(_STRING, nullable=True, doc='e.g. "A minor"')]
    time_signature: Annotated[
        str,
        spec(_STRING, default=DEFAULT_TIME_SIGNATURE, pattern=r"[1-9][0-9]?/(1|2|4|8|16|32)"),
    ]


@record()
@dataclass(frozen=True)
class EffectView:
    """One insert effect; `params` maps parameter names to plain values."""

    plugin: Annotated[str, spec(_STRING, required=True, pattern=r"\S.*")]
    params: Annotated[dict[str, JSONValue], spec(_OBJECT, default=EMPTY_OBJECT)]


# A track that lacks required fields still reads (with defaults): bare clients write
# tracks that way, and migrate() fills the fields in.
@record(keep_incomplete=True)
@dataclass(frozen=True)
class TrackView:
    """A track with its clips (sorted by start) and effect chain (in order)."""

    id: Annotated[str, KEY]
    name: Annotated[str, spec(_STRING, default="", required=True)]
    kind: Annotated[
        TrackKind, spec(_STRING, default=TrackKind.AUDIO, required=True, enum=TrackKind)
    ]
    order: Annotated[
        str,
        spec(
            _ORDER_KEY,
            default="",
            required=True,
            doc="display position (npm fractional-indexing); ties are broken by track id",
        ),
    ]
    volume_db: Annotated[float, spec(_NUMBER, default=0.0)]
    pan: Annotated[float, spec(_NUMBER, default=0.0, minimum=-1.0, maximum=1.0)]
    mute: Annotated[bool, spec(_BOOL, default=False)]
    solo: Annotated[bool, spec(_BOOL, default=False)]
    asset_id: Annotated[str | None, spec(_STRING, nullable=True)]
    clips: Annotated[tuple[ClipView, ...], nested_map(ClipView, order=clip_order)]
    effects: Annotated[tuple[EffectView, ...], nested_list(EffectView)]
    #: While it has points, the lane sets the track's volume in dB (``volume_db`` aside).
    volume_automation: Annotated[
        tuple[AutomationPointView, ...], nested_list(AutomationPointView)
    ] = ()
    #: While it has points, the lane sets the track's pan, -1 (left) to 1 (right).
    pan_automation: Annotated[
        tuple[AutomationPointView, ...], nested_list(AutomationPointView)
    ] = ()
    #: The General MIDI program (0 to 127) a MIDI track plays; None: 0, the piano.
    instrument: Annotated[
        int | None,
        spec(_NUMBER, nullable=True, minimum=0.0, maximum=127.0, integer=True),
    ] = None
    midi_clips: Annotated[
        tuple[MidiClipView, ...], nested_map(MidiClipView, order=midi_clip_order)
    ] = ()


@record()
@dataclass(frozen=True)
class MixView:
    """Mix settings and the latest render and master with their measurements."""

    preset: Annotated[str | None, spec(_STRING, nullable=True)]
    master_settings: Annotated[
        dict[str, JSONValue], spec(_OBJECT, default=EMPTY_OBJECT, nullable=True)
    ]
    render_asset_id: Annotated[str | None, spec(_STRING, nullable=True)]
    render_loudness_lufs: Annotated[float | None, spec(_NUMBER, nullable=True)]
    render_true_peak_dbtp: Annotated[float | None, spec(_NUMBER, nullable=True)]
    master_asset_id: Annotated[str | None, spec(_STRING, nullable=True)]
    master_loudness_lufs: Annotated[float | None, spec(_NUMBER, nullable=True)]
    master_true_peak_dbtp: Annotated[float | None, spec(_NUMBER, nullable=True)]


@record()
@dataclass(frozen=True)
class JobView:
    """A request for work: a job runner answers it in the document (see `jobs.py`)."""

    id: Annotated[str, KEY]
    kind: Annotated[JobKind, spec(_STRING, required=True, enum=JobKind)]
    status: Annotated[JobStatus, spec(_STRING, required=True, enum=JobStatus)]
    progress: Annotated[float, spec(_NUMBER, default=0.0, minimum=0.0, maximum=1.0)]
    params: Annotated[dict[str, JSONValue], spec(_OBJECT, default=EMPTY_OBJECT, nullable=True)]
    requested_by: Annotated[str, spec(_STRING, default="")]
    result: Annotated[dict[str, JSONValue] | None, spec(_OBJECT, nullable=True)]
    error: Annotated[str | None, spec(_STRING, nullable=True)]
    created_at: Annotated[float | None, _timestamp()]
    updated_at: Annotated[float | None, _timestamp()]
    started_at: Annotated[float | None, _timestamp()]
    finished_at: Annotated[float | None, _timestamp()]


def _end_not_before_start(note: Mapping[str, object]) -> bool:
    start_s, end_s = note["start_s"], note["end_s"]
    return not (isinstance(start_s, float) and isinstance(end_s, float) and end_s < start_s)


@record(rules=(Rule("end_s", "must be >= start_s", _end_not_before_start),))
@dataclass(frozen=True)
class CoachingNoteView:
    """A remark about `start_s..end_s` of the track (`end_s` is None for a point)."""

    start_s: Annotated[float, spec(_NUMBER, required=True, minimum=0.0)]
    end_s: Annotated[float | None, spec(_NUMBER, nullable=True, minimum=0.0)]
    kind: Annotated[str, spec(_STRING, default="note")]
    message: Annotated[str, spec(_STRING, required=True)]
    figures: Annotated[dict[str, JSONValue], spec(_OBJECT, default=EMPTY_OBJECT, nullable=True)]


@record()
@dataclass(frozen=True)
class CoachingView:
    """The coaching of one track, written by the coaching service."""

    track_id: Annotated[str, KEY]
    summary: Annotated[dict[str, JSONValue], spec(_OBJECT, default=EMPTY_OBJECT, nullable=True)]
    notes: Annotated[tuple[CoachingNoteView, ...], nested_list(CoachingNoteView)]
    updated_at: Annotated[float | None, _timestamp()]


@record()
@dataclass(frozen=True)
class CommentView:
    """A comment; `id` is None only for comments a bare client wrote without one."""

    id: Annotated[str | None, spec(_STRING, nullable=True)]
    author: Annotated[str, spec(_STRING, required=True)]
    text: Annotated[str, spec(_STRING, required=True)]
    time_s: Annotated[float | None, spec(_NUMBER, nullable=True, minimum=0.0)]
    created_at: Annotated[float | None, _timestamp()]
    #: The comment this one answers; None for the first comment of a thread.
    reply_to: Annotated[
        str | None,
        spec(_STRING, nullable=True, doc="the comment answered; absent or null starts a thread"),
    ] = None
    #: Whether the thread this comment starts is settled (set on a thread's first comment).
    resolved: Annotated[
        bool,
        spec(_BOOL, default=False, doc="whether the thread this comment starts is settled"),
    ] = False


def track_order(track: TrackView) -> tuple[int, str, str]:
    """Display order: by fractional `order`, ties and bad keys by id (same on all peers)."""
    return order_sort_key(track.order, track.id)


def job_order(job: JobView) -> tuple[float, str]:
    """Oldest first, ties by id."""
    return (job.created_at or 0.0, job.id)


ROOTS = (
    Root(META, RootKind.RECORD, MetaView),
    Root(TRACKS, RootKind.KEYED, TrackView, "keyed by track id", order=track_order),
    Root(LYRICS, RootKind.TEXT, doc="the lyrics; edits take character positions"),
    Root(LYRICS_META, RootKind.JSON, doc="sections, rhyme_scheme, suggestions, ..."),
    Root(MIX, RootKind.RECORD, MixView),
    Root(JOBS, RootKind.KEYED, JobView, "keyed by job id", order=job_order),
    Root(COACHING, RootKind.KEYED, CoachingView, "keyed by the id of the track coached"),
    Root(COMMENTS, RootKind.LIST, CommentView, "document order"),
)
"""Every root of the document, in the order they are defined and reported."""

MAP_ROOTS = tuple(
    root.name for root in ROOTS if root.kind in (RootKind.RECORD, RootKind.KEYED, RootKind.JSON)
)
"""The roots that are Maps."""
