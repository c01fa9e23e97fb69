"""Where a DAWproject clip's notes sound: ``<Notes>`` timelines, however nested in a
clip's content, read into one MIDI clip per clip on a track.

A ``<Clip>`` on a track whose content holds notes (directly, or in nested ``<Lanes>``
and ``<Clips>``, alias clips included) becomes one MIDI clip over the time it plays.
Its notes are placed as `timeline.ClipFlattener` places audio: each `Frame` says
where a timeline's time sounds in the song, a clip's window keeps the notes that start
in it, and its loop region repeats them. The document counts notes in beats from
their clip's start; times in seconds convert at the project's tempo.

A note keeps its length, even past the end of the window it starts in (the document
cuts notes at their clip's end, as DAWs do). Velocity is normalized in DAWproject:
``vel`` 0..1 is MIDI velocity / 127 (as Bitwig writes it); a note without ``vel``
plays at 100, the document's default. Release velocity, the MIDI channel and per-note
expressions are not kept.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from xml.etree import ElementTree as ET

from jacameno.docs_model.midi import MAX_NOTES as MAX_CLIP_NOTES

from .errors import DawProjectError
from .frames import Frame, number
from .model import ImportedMidiClip, ImportedNote, ImportWarnings
from .timeline import (
    EPSILON_S,
    MAX_CLIPS,
    MAX_DEPTH,
    MAX_SONG_S,
    MAX_VISITS,
    Pass,
    clip_content,
    clip_passes,
    clip_span,
    time_unit,
)
from .units import seconds_per

__all__ = ["MAX_CLIP_NOTES", "MAX_NOTES", "NoteReader", "velocity_from_normalized"]

#: Notes one import may read, over all its clips (each time a loop or alias clip
#: plays them).
MAX_NOTES = 200_000
#: The velocity of a note that gives none (`NoteView`'s default).
DEFAULT_VELOCITY = 100
_NOTE_TIMELINES = frozenset({"Notes", "Clips", "Lanes"})


@dataclass(frozen=True, slots=True)
class _Heard:
    """A note as it sounds in the song: from ``start_s`` for ``length_s`` seconds."""

    start_s: float
    length_s: float
    pitch: int
    velocity: int


def _heard_in(start_s: float, frame: Frame) -> bool:
    """Whether a note starting at ``start_s`` starts in ``frame``'s window."""
    return frame.lo_s - EPSILON_S <= start_s < frame.hi_s - EPSILON_S


def velocity_from_normalized(vel: float | None) -> int:
    """DAWproject's normalized velocity (0..1) as MIDI velocity, 1 to 127."""
    if vel is None:
        return DEFAULT_VELOCITY
    if not math.isfinite(vel):
        return DEFAULT_VELOCITY
    # Clamped first: -1e308 * 127 is -inf, which no integer holds.
    return max(1, round(min(1.0, max(0.0, vel)) * 127.0))


class NoteReader:
    """Reads the notes of one project's clips (`bpm` converts seconds to beats; ``ids``
    resolves alias clips' references)."""

    def __init__(self, bpm: float, ids: Mapping[str, ET.Element], warnings: ImportWarnings):
        self.bpm, self._ids, self._warnings = bpm, ids, warnings
        self._notes = self._clips = self._visits = 0

    def clip(self, element: ET.Element, frame: Frame) -> ImportedMidiClip | None:
        """The MIDI clip a track's ``<Clip>`` makes, heard in ``frame``; None when the
        clip plays no ``<Notes>`` (an audio clip) or is never heard."""
        time = number(element, "time")
        if time is None or element.get("enable") in ("false", "0"):
            return None
        content_unit = time_unit(element.get("contentTimeUnit"), frame.unit)
        speed = frame.in_unit(content_unit, self.bpm).speed
        span = clip_span(element, time, frame, speed, self._warnings)
        heard = None if span is None else self._clip(element, frame, 0)
        if span is None or heard is None:
            return None
        lo_s, hi_s = max(span[0], frame.lo_s, 0.0), min(span[1], frame.hi_s)
        return self._midi_clip(lo_s, hi_s, heard)

    def lane(self, element: ET.Element, frame: Frame) -> ImportedMidiClip | None:
        """The MIDI clip a ``<Notes>`` right on a track's lanes makes: from 0 s to the
        end of its last note."""
        heard = self.timeline(element, frame, 0) or []
        end_s = max((note.start_s + note.length_s for note in heard), default=0.0)
        return self._midi_clip(0.0, min(end_s, MAX_SONG_S), heard)

    def timeline(self, element: ET.Element, frame: Frame, depth: int) -> list[_Heard] | None:
        """The notes the timeline ``element`` plays in ``frame`` (None: it holds no
        ``<Notes>``)."""
        if depth > MAX_DEPTH:
            raise DawProjectError(f"timelines are nested more than {MAX_DEPTH} deep")
        frame = frame.in_unit(time_unit(element.get("timeUnit"), frame.unit), self.bpm)
        if element.tag == "Notes":
            return self._read_notes(element, frame)
        if element.tag == "Clips":
            parts = [self._clip(clip, frame, depth) for clip in element.findall("Clip")]
        elif element.tag == "Lanes":
            children = [child for child in element if child.tag in _NOTE_TIMELINES]
            parts = [self.timeline(child, frame, depth + 1) for child in children]
        else:
            return None
        found = [part for part in parts if part is not None]
        return [note for part in found for note in part] if found else None

    def _clip(self, element: ET.Element, frame: Frame, depth: int) -> list[_Heard] | None:
        self._visits += 1
        if self._visits > MAX_VISITS:
            raise DawProjectError(f"clips refer to other clips over {MAX_VISITS} times")
        if depth > MAX_DEPTH:
            raise DawProjectError(f"timelines are nested more than {MAX_DEPTH} deep")
        time = number(element, "time")
        content = clip_content(element, self._ids)
        if time is None or content is None or element.get("enable") in ("false", "0"):
            return None
        content_unit = time_unit(element.get("contentTimeUnit"), frame.unit)
        speed = frame.in_unit(content_unit, self.bpm).speed
        span = clip_span(element, time, frame, speed, self._warnings)
        if span is None:
            return None
        start_s, end_s = span[0], min(span[1], frame.hi_s)
        found: list[_Heard] | None = None
        for part in clip_passes(element, (start_s, start_s, end_s), speed, self._warnings):
            inner = Frame(content_unit, part.origin_s, speed, part.lo_s, part.hi_s)
            heard = self.timeline(content, inner, depth + 1)
            if heard is not None:
                found = (found or []) + self._repeated(heard, part, frame)
        return found

    def _repeated(self, heard: list[_Heard], part: Pass, frame: Frame) -> list[_Heard]:
        """The notes of one pass, played on each of its repeats that ``frame`` hears."""
        if not heard:
            return []
        if part.repeats == 1:
            return [note for note in heard if _heard_in(note.start_s, frame)]
        period_s = part.period_s
        first = max(0, math.ceil((frame.lo_s - part.hi_s) / period_s))
        last = min(part.repeats, math.floor((frame.hi_s - part.lo_s) / period_s) + 1)
        repeated = []
        for index in range(first, last):
            shift = index * period_s
            kept = [
                _Heard(note.start_s + shift, note.length_s, note.pitch, note.velocity)
                for note in heard
                if _heard_in(note.start_s + shift, frame)
            ]
            if index > 0:  # the first pass's notes were counted as they were read
                self._count(len(kept))
            repeated += kept
        return repeated

    def _read_notes(self, element: ET.Element, frame: Frame) -> list[_Heard]:
        written = element.findall("Note")
        # Counted as read, heard or not: an alias clip may play a long list many times.
        self._count(len(written))
        heard = []
        for note in written:
            time, duration = number(note, "time"), number(note, "duration")
            try:
                pitch = int(note.get("key") or "")
            except ValueError:
                pitch = -1
            if time is None or duration is None or not duration > 0.0 or not 0 <= pitch <= 127:
                self._warnings.add("a note without a time, a length or a key 0..127 was skipped")
                continue
            if len(note) > 0:
                self._warnings.add("per-note expressions are not imported")
            start_s, length_s = frame.at(time), duration * frame.speed
            if not (_heard_in(start_s, frame) and 0.0 < length_s < math.inf):
                continue  # outside the window its clip plays: never heard
            vel = number(note, "vel")
            heard.append(_Heard(start_s, length_s, pitch, velocity_from_normalized(vel)))
        return heard

    def _midi_clip(self, lo_s: float, hi_s: float, heard: list[_Heard]) -> ImportedMidiClip | None:
        if not (hi_s - lo_s > EPSILON_S and lo_s <= MAX_SONG_S):
            return None
        beats_per_s = 1.0 / seconds_per("beats", self.bpm)
        notes = sorted(
            (
                ImportedNote(
                    pitch=note.pitch,
                    velocity=note.velocity,
                    start_beats=max(0.0, (note.start_s - lo_s) * beats_per_s),
                    length_beats=note.length_s * beats_per_s,
                )
                for note in heard
                if note.start_s >= lo_s - EPSILON_S and note.start_s < hi_s - EPSILON_S
            ),
            key=lambda note: (note.start_beats, note.pitch),
        )
        notes = [note for note in notes if note.length_beats > 0.0]
        if len(notes) > MAX_CLIP_NOTES:
            raise DawProjectError(
                f"a clip holds more than {MAX_CLIP_NOTES} notes, more than a JACAMENO MIDI clip "
                "can: split it in the DAW before exporting"
            )
        self._clips += 1
        if self._clips > MAX_CLIPS:
            raise DawProjectError(f"the project plays more than {MAX_CLIPS} MIDI clips")
        return ImportedMidiClip(lo_s, hi_s - lo_s, tuple(notes))

    def _count(self, notes: int) -> None:
        self._notes += notes
        if self._notes > MAX_NOTES:
            raise DawProjectError(
                f"the project plays more than {MAX_NOTES} notes (each time a loop or an alias "
                "clip plays them)"
            )
