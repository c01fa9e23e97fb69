"""Where a DAWproject clip sounds: its nested timelines flattened into document clips.

A clip's content may be an ``<Audio>`` file, a ``<Warps>`` mapping around one, a
``<Lanes>`` holding one beside a gain envelope, or a ``<Clips>`` timeline of further
clips (Bitwig writes each audio clip as a clip of audio events). A `Frame` says where
a timeline's time sounds in the song; each clip narrows the window its content is
heard in, and its loop region repeats its content. A region that repeats whole
becomes one document clip with a ``loop_count``; anything else becomes one clip per
pass.

Times in ``beats`` become seconds at the project's tempo (DAWproject's default unit
when a timeline names none). Audio always plays at its own speed in the document:
a warp that stretches it keeps the clip's place and length, and says so in a warning.
The clip functions (`clip_content`, `clip_span`, `clip_passes`) serve `notes` too,
which places a clip's notes the same way.
"""

from __future__ import annotations

import math
from collections.abc import Container, Mapping
from dataclasses import dataclass, replace
from xml.etree import ElementTree as ET

from .archive import member_name
from .errors import DawProjectError
from .frames import Frame, number
from .model import ImportedClip, ImportWarnings
from .units import MAX_VOLUME_DB, MIN_VOLUME_DB, TIME_UNITS, linear_to_db

__all__ = [
    "EPSILON_S",
    "MAX_CLIPS",
    "MAX_DEPTH",
    "MAX_SONG_S",
    "MAX_VISITS",
    "TIMELINES",
    "ClipFlattener",
    "Pass",
    "clip_content",
    "clip_passes",
    "clip_span",
    "time_unit",
]

#: Clips one import may produce (the renderer takes 10,000 per track).
MAX_CLIPS = 50_000
#: Timelines nested in one another at most (a reference loop stops here).
MAX_DEPTH = 16
#: Clips one import reads, alias clips counted each time they play (an alias of an
#: alias ... costs exponential work otherwise).
MAX_VISITS = 250_000
#: Loops one document clip plays at most (`ClipView.loop_count`).
MAX_LOOPS = 1000
#: The song's length at most, in seconds (a day): what starts later is left out.
MAX_SONG_S = 86_400.0
#: Seconds below which two times are the same (far below a sample at 192 kHz).
EPSILON_S = 1e-7
TIMELINES = frozenset(
    {"Timeline", "Lanes", "Notes", "Clips", "ClipSlot", "Markers", "markers", "Warps"}
    | {"Audio", "Video", "Points"}
)


@dataclass(frozen=True, slots=True)
class Pass:
    """Part of a clip: its content, heard ``lo_s .. hi_s`` with its time 0 at
    ``origin_s``, ``repeats`` times back to back."""

    lo_s: float
    hi_s: float
    origin_s: float
    repeats: int = 1

    @property
    def period_s(self) -> float:
        return self.hi_s - self.lo_s


class ClipFlattener:
    """Flattens clips of one project (`bpm` converts beats; ``ids`` resolves alias clips'
    references; ``members`` are the files in the archive)."""

    def __init__(
        self,
        bpm: float,
        ids: Mapping[str, ET.Element],
        members: Container[str],
        warnings: ImportWarnings,
    ) -> None:
        self.bpm, self._ids, self._members, self._warnings = bpm, ids, members, warnings
        self._made = self._visits = 0

    def clip(self, element: ET.Element, frame: Frame, depth: int = 0) -> list[ImportedClip]:
        """The document clips that play ``element`` (a ``<Clip>``) heard in ``frame``."""
        self._visits += 1
        if self._visits > MAX_VISITS:
            raise DawProjectError(f"clips refer to other clips over {MAX_VISITS} times")
        time = number(element, "time")
        content = clip_content(element, self._ids)
        if time is None or content is None or element.get("enable") in ("false", "0"):
            return []
        content_unit = time_unit(element.get("contentTimeUnit"), frame.unit)
        speed = frame.in_unit(content_unit, self.bpm).speed
        span = clip_span(element, time, frame, speed, self._warnings)
        if span is None:
            return []
        start_s, end_s = span
        span_s = end_s - start_s
        fade_speed = frame.in_unit(
            time_unit(element.get("fadeTimeUnit"), frame.unit), self.bpm
        ).speed
        fade_in_s = min(span_s, max(-span_s, (number(element, "fadeInTime") or 0.0) * fade_speed))
        fade_out_s = min(span_s, max(0.0, (number(element, "fadeOutTime") or 0.0) * fade_speed))
        # A negative fade-in starts the clip that much earlier (a crossfade, Reference).
        lo_s = start_s - max(0.0, -fade_in_s)
        end_s = min(end_s, frame.hi_s)  # what lies past the frame is never heard
        passes = clip_passes(element, (lo_s, start_s, end_s), speed, self._warnings)
        placed: list[ImportedClip] = []
        for part in self._within(passes, frame):
            lo, hi = max(part.lo_s, frame.lo_s), min(part.hi_s, frame.hi_s)
            inner = Frame(content_unit, part.origin_s, speed, lo, hi, frame.gain_db)
            if hi - lo > EPSILON_S:
                placed += self._repeated(self.timeline(content, inner, depth + 1), part)
        return _faded(placed, (lo_s, end_s), abs(fade_in_s), fade_out_s)

    def timeline(self, element: ET.Element, frame: Frame, depth: int) -> list[ImportedClip]:
        """The document clips that play the timeline ``element`` heard in ``frame``."""
        if depth > MAX_DEPTH:
            raise DawProjectError(f"timelines are nested more than {MAX_DEPTH} deep")
        frame = frame.in_unit(time_unit(element.get("timeUnit"), frame.unit), self.bpm)
        tag = element.tag
        if tag == "Audio":
            return self._audio(element, frame)
        if tag == "Warps":
            return self._warps(element, frame, depth)
        if tag == "Clips":
            return [c for clip in element.findall("Clip") for c in self.clip(clip, frame, depth)]
        if tag == "Lanes":
            frame = replace(frame, gain_db=frame.gain_db + self._gain_db(element))
            children = [c for c in element if c.tag in TIMELINES and c.tag != "Points"]
            return [clip for child in children for clip in self.timeline(child, frame, depth + 1)]
        return []  # notes are `NoteReader`'s

    def _within(self, passes: list[Pass], frame: Frame) -> list[Pass]:
        """``passes``, a repeating one split into single passes when ``frame``'s window
        cuts into its repeats."""
        kept: list[Pass] = []
        for part in passes:
            inside = frame.lo_s <= part.lo_s + EPSILON_S and (
                part.lo_s + part.period_s * part.repeats <= frame.hi_s + EPSILON_S
            )
            if part.repeats == 1 or inside:
                kept.append(part)
                continue
            self._count(part.repeats)
            for index in range(part.repeats):
                shift = index * part.period_s
                kept.append(Pass(part.lo_s + shift, part.hi_s + shift, part.origin_s + shift))
        return kept

    def _repeated(self, placed: list[ImportedClip], part: Pass) -> list[ImportedClip]:
        if part.repeats == 1 or not placed:  # nothing to repeat: no list of its shifts
            return placed
        only = placed[0] if len(placed) == 1 else None
        if (
            only is not None
            and only.loop_count == 1
            and abs(only.start_s - part.lo_s) <= EPSILON_S
            and abs(only.duration_s - part.period_s) <= EPSILON_S
        ):
            # The region repeats whole: one looped clip per MAX_LOOPS passes.
            chunks = range(0, part.repeats, MAX_LOOPS)
            self._count(len(chunks))
            return [
                replace(
                    only,
                    start_s=only.start_s + first * part.period_s,
                    loop_count=min(MAX_LOOPS, part.repeats - first),
                )
                for first in chunks
            ]
        self._count(len(placed) * (part.repeats - 1))
        shifts = [index * part.period_s for index in range(part.repeats)]
        return [replace(clip, start_s=clip.start_s + shift) for shift in shifts for clip in placed]

    def _audio(self, element: ET.Element, frame: Frame) -> list[ImportedClip]:
        file = element.find("File")
        path = file.get("path") if file is not None else None
        if file is None or path is None:
            self._warnings.add("an <Audio> without a <File> path was skipped")
            return []
        if file.get("external") in ("true", "1"):
            self._warnings.add(f"{path!r} is outside the archive and was not imported")
            return []
        try:
            path = member_name(path)
        except DawProjectError:
            path = ""
        if path not in self._members:
            self._warnings.add(
                f"{file.get('path')!r} is not in the archive; its clips were skipped"
            )
            return []
        frame = frame.in_unit("seconds", self.bpm)
        if abs(frame.speed - 1.0) > 1e-3:
            self._warnings.add(
                "time-stretched audio plays at its own speed in JACAMENO: clips keep their "
                "place and length, not their stretch"
            )
        lo_s = max(frame.lo_s, frame.origin_s, 0.0)
        offset_s = (lo_s - frame.origin_s) / frame.speed
        duration_s = frame.hi_s - lo_s
        if not (duration_s > EPSILON_S and math.isfinite(offset_s) and lo_s <= MAX_SONG_S):
            return []
        self._count(1)
        gain_db = min(MAX_VOLUME_DB, max(MIN_VOLUME_DB, frame.gain_db))
        return [ImportedClip(path, lo_s, duration_s, offset_s=offset_s, gain_db=gain_db)]

    def _warps(self, element: ET.Element, frame: Frame, depth: int) -> list[ImportedClip]:
        events = sorted(
            (time, content_time)
            for warp in element.findall("Warp")
            if (time := number(warp, "time")) is not None
            and (content_time := number(warp, "contentTime")) is not None
        )
        content = next((c for c in element if c.tag in TIMELINES), None)
        if len(events) < 2 or content is None:
            self._warnings.add("a <Warps> without content or two <Warp> events was skipped")
            return []
        (time_0, content_0), (time_1, content_1) = events[0], events[-1]
        if time_1 == time_0 or content_1 == content_0:
            self._warnings.add("a <Warps> whose events span no time was skipped")
            return []
        ratio = (time_1 - time_0) / (content_1 - content_0)
        if not 0.0 < ratio < math.inf:
            self._warnings.add("audio warped to play backwards was skipped")
            return []
        if any(abs(t - time_0 - (c - content_0) * ratio) > 1e-6 for t, c in events[1:-1]):
            self._warnings.add("audio warped at varying speeds is read at its average speed")
        speed = frame.speed * ratio
        unit = time_unit(element.get("contentTimeUnit"), "seconds")
        origin_s = frame.at(time_0) - speed * content_0
        inner = Frame(unit, origin_s, speed, frame.lo_s, frame.hi_s, frame.gain_db)
        return self.timeline(content, inner, depth + 1)

    def _gain_db(self, lanes: ET.Element) -> float:
        """The clip gain a ``<Lanes>`` holds beside its audio (a ``gain`` envelope)."""
        gain_db = 0.0
        for points in lanes.findall("Points"):
            target = points.find("Target")
            expression = target.get("expression") if target is not None else None
            if expression != "gain":
                self._warnings.add(
                    f"clip automation ({expression or 'a parameter'}) is not imported"
                )
                continue
            values = [
                v for p in points.findall("RealPoint") if (v := number(p, "value")) is not None
            ]
            if len(set(values)) > 1:
                self._warnings.add("a clip's gain envelope is read as its first value")
            if values:
                unit = points.get("unit") or "linear"
                gain_db += values[0] if unit == "decibel" else linear_to_db(values[0])
        return gain_db

    def _count(self, clips: int) -> None:
        self._made += clips
        if self._made > MAX_CLIPS:
            raise DawProjectError(f"the project plays more than {MAX_CLIPS} clips")


def clip_content(clip: ET.Element, ids: Mapping[str, ET.Element]) -> ET.Element | None:
    """The timeline a ``<Clip>`` plays: its child, or the one its ``reference`` names."""
    reference = clip.get("reference")
    if reference is not None:
        return ids.get(reference)
    return next((child for child in clip if child.tag in TIMELINES), None)


def clip_span(
    element: ET.Element, time: float, frame: Frame, speed: float, warnings: ImportWarnings
) -> tuple[float, float] | None:
    """Song seconds a ``<Clip>`` at ``time`` in ``frame`` starts and ends (its content
    runs at ``speed``); None for a clip that spans no time."""
    play_start = number(element, "playStart") or 0.0
    play_stop = number(element, "playStop")
    start_s, duration = frame.at(time), number(element, "duration")
    if duration is not None:
        end_s = start_s + duration * frame.speed
    elif play_stop is not None:
        end_s = start_s + (play_stop - play_start) * speed
    else:
        warnings.add("a clip with neither duration nor playStop was skipped")
        return None
    if not (math.isfinite(start_s) and math.isfinite(end_s)) or end_s <= start_s:
        return None
    return start_s, end_s


def clip_passes(
    element: ET.Element,
    span: tuple[float, float, float],
    speed: float,
    warnings: ImportWarnings,
) -> list[Pass]:
    """A clip's passes over its content: heard from ``lo_s``, its ``playStart`` at
    ``start_s``, until ``playStop`` or ``end_s``; a looped clip plays on to the loop's
    end, then the loop region again and again until ``end_s`` (the last pass cut)."""
    lo_s, start_s, end_s = span
    play_start = number(element, "playStart") or 0.0
    loop_start, loop_end = number(element, "loopStart"), number(element, "loopEnd")
    if loop_start is None or loop_end is None:
        play_stop = number(element, "playStop")
        stop_s = end_s if play_stop is None else start_s + (play_stop - play_start) * speed
        return [Pass(lo_s, min(end_s, stop_s), start_s - play_start * speed)]
    period_s = (loop_end - loop_start) * speed
    if not EPSILON_S < period_s < math.inf:
        warnings.add("a clip looping no time was skipped")
        return []
    passes, cursor = [], start_s
    if abs(play_start - loop_start) * speed > EPSILON_S or lo_s < start_s:
        cursor = min(end_s, start_s + max(0.0, loop_end - play_start) * speed)
        passes.append(Pass(lo_s, cursor, start_s - play_start * speed))
    whole = math.floor((end_s - cursor) / period_s + 1e-9)
    if whole > 0:
        passes.append(Pass(cursor, cursor + period_s, cursor - loop_start * speed, whole))
        cursor += whole * period_s
    if end_s - cursor > EPSILON_S:
        passes.append(Pass(cursor, end_s, cursor - loop_start * speed))
    return [part for part in passes if part.hi_s - part.lo_s > EPSILON_S]


def time_unit(text: str | None, inherited: str) -> str:
    return text if text in TIME_UNITS else inherited


def _faded(
    placed: list[ImportedClip], window: tuple[float, float], fade_in_s: float, fade_out_s: float
) -> list[ImportedClip]:
    """``placed`` with the enclosing clip's fades on the clips at its edges, every fade
    fitting its clip."""
    lo_s, hi_s = window
    faded = []
    for clip in placed:
        fade_in = max(clip.fade_in_s, fade_in_s if abs(clip.start_s - lo_s) <= 1e-6 else 0.0)
        fade_out = max(clip.fade_out_s, fade_out_s if abs(clip.end_s - hi_s) <= 1e-6 else 0.0)
        if fade_in + fade_out > clip.length_s:
            scale = clip.length_s / (fade_in + fade_out)
            fade_in, fade_out = fade_in * scale, fade_out * scale
        faded.append(replace(clip, fade_in_s=fade_in, fade_out_s=fade_out))
    return faded
