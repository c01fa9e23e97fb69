"""What an import yields: typed, in the document's units, ready for `apply_import`.

Times are song seconds (notes: beats from their clip's start), gains dB, pan -1 (left)
to 1 (right); each clip names its audio by its path inside the archive (the key of
`ImportedProject.audio`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from jacameno.docs_model import AutomationPointView, TrackKind

__all__ = [
    "AUDIO_FOLDER",
    "METADATA_XML",
    "PROJECT_XML",
    "SIDECAR_FORMAT",
    "SIDECAR_JSON",
    "ImportWarnings",
    "ImportedClip",
    "ImportedMeta",
    "ImportedMidiClip",
    "ImportedNote",
    "ImportedProject",
    "ImportedTrack",
]

PROJECT_XML = "project.xml"
METADATA_XML = "metadata.xml"
#: JACAMENO's own notes in the archive (track kinds, MIDI instruments, the key):
#: DAWproject has no place for them, other DAWs ignore the file, and an import reads it
#: when it is there.
SIDECAR_JSON = "jacameno.json"
#: The sidecar's ``format`` field, which says the file is ours.
SIDECAR_FORMAT = "jacameno.dawproject"
#: Where an export stores the audio inside the archive.
AUDIO_FOLDER = "audio"


@dataclass(frozen=True, slots=True)
class ImportedClip:
    """``duration_s`` of the audio at ``audio_path`` (from ``offset_s`` in it) placed at
    ``start_s``, played ``loop_count`` times, with gain and fades (as `ClipView`)."""

    audio_path: str
    start_s: float
    duration_s: float
    offset_s: float = 0.0
    gain_db: float = 0.0
    fade_in_s: float = 0.0
    fade_out_s: float = 0.0
    loop_count: int = 1

    @property
    def length_s(self) -> float:
        """Seconds the clip plays in the song (its region times its loops)."""
        return self.duration_s * self.loop_count

    @property
    def end_s(self) -> float:
        return self.start_s + self.length_s


@dataclass(frozen=True, slots=True)
class ImportedNote:
    """A note as `NoteView` holds it: MIDI ``pitch`` and ``velocity`` (1 to 127), start
    and length in beats from its clip's start."""

    pitch: int
    velocity: int
    start_beats: float
    length_beats: float


@dataclass(frozen=True, slots=True)
class ImportedMidiClip:
    """Notes (by start, then pitch) placed at ``start_s``, heard for ``duration_s``."""

    start_s: float
    duration_s: float
    notes: tuple[ImportedNote, ...] = ()


@dataclass(frozen=True, slots=True)
class ImportedTrack:
    """A track with its mixer settings, clips and MIDI clips (by start), automation lanes
    (volume points in dB, pan points -1 to 1) and, for a MIDI track, its General MIDI
    ``instrument`` (0 to 127)."""

    name: str
    kind: TrackKind
    volume_db: float = 0.0
    pan: float = 0.0
    mute: bool = False
    solo: bool = False
    clips: tuple[ImportedClip, ...] = ()
    volume_automation: tuple[AutomationPointView, ...] = ()
    pan_automation: tuple[AutomationPointView, ...] = ()
    midi_clips: tuple[ImportedMidiClip, ...] = ()
    instrument: int | None = None


@dataclass(frozen=True, slots=True)
class ImportedMeta:
    """Project settings: ``bpm`` in beats per minute, ``time_signature`` like "3/4"."""

    title: str
    bpm: float
    time_signature: str
    key: str | None = None


@dataclass(frozen=True, slots=True)
class ImportedProject:
    """A DAWproject file as the document will hold it.

    ``audio`` maps each audio path in the archive that a clip plays to the file it was
    extracted to; ``warnings`` says what could not be carried over (plug-ins,
    time-stretching, ...), one sentence each.
    """

    application: str
    meta: ImportedMeta
    tracks: tuple[ImportedTrack, ...]
    audio: Mapping[str, Path] = field(default_factory=dict)
    warnings: tuple[str, ...] = ()


class ImportWarnings:
    """What an import could not carry over, each sentence once, at most `limit` of them
    (a hostile file must not grow the list without bound)."""

    def __init__(self, limit: int = 100) -> None:
        self._seen: dict[str, None] = {}
        self._limit = limit

    def add(self, message: str) -> None:
        if len(self._seen) < self._limit:
            self._seen.setdefault(message, None)

    @property
    def items(self) -> tuple[str, ...]:
        return tuple(self._seen)
