"""The tracks of a DAWproject file: ``<Structure>`` read into track drafts, and the
``<Points>`` that automate their volume and pan.

Only leaf tracks become document tracks: a group's children are imported flat (the
group's own settings are not), the master channel is the document's mix bus, and
effect (return) channels are left out, since the document has no sends.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from xml.etree import ElementTree as ET

from jacameno.docs_model import AutomationCurve, AutomationPointView, TrackKind
from jacameno.docs_model.automation import MAX_POINTS, Lane, value_at

from .errors import DawProjectError
from .frames import Frame, number
from .model import ImportedClip, ImportedMidiClip, ImportedTrack, ImportWarnings
from .timeline import MAX_DEPTH, MAX_SONG_S
from .units import MAX_VOLUME_DB, MIN_VOLUME_DB, linear_to_db, normalized_to_pan

__all__ = ["MAX_TRACKS", "Parameter", "TrackDraft", "automation_points", "read_structure"]


#: Tracks one import may make (a large studio session has a few hundred).
MAX_TRACKS = 1_000


@dataclass(slots=True)
class TrackDraft:
    """A track as the import reads it (``element_id``: its ``<Track>`` id)."""

    element_id: str | None
    name: str
    kind: TrackKind
    volume_db: float = 0.0
    pan: float = 0.0
    mute: bool = False
    solo: bool = False
    clips: list[ImportedClip] = field(default_factory=list)
    midi_clips: list[ImportedMidiClip] = field(default_factory=list)
    lanes: dict[Lane, tuple[AutomationPointView, ...]] = field(default_factory=dict)

    def finished(
        self, kind: TrackKind | None = None, instrument: int | None = None
    ) -> ImportedTrack:
        """The track as imported: of ``kind`` when JACAMENO's sidecar names it, else MIDI
        when it plays notes; a MIDI track plays ``instrument`` (the piano when None)."""
        kind = kind or (TrackKind.MIDI if self.midi_clips else self.kind)
        return ImportedTrack(
            name=self.name,
            kind=kind,
            volume_db=self.volume_db,
            pan=self.pan,
            mute=self.mute,
            solo=self.solo,
            clips=tuple(sorted(self.clips, key=lambda clip: (clip.start_s, clip.end_s))),
            volume_automation=self.lanes.get(Lane.VOLUME, ()),
            pan_automation=self.lanes.get(Lane.PAN, ()),
            midi_clips=tuple(sorted(self.midi_clips, key=lambda clip: clip.start_s)),
            instrument=(instrument or 0) if kind is TrackKind.MIDI else None,
        )


@dataclass(frozen=True, slots=True)
class Parameter:
    """A channel's volume or pan as an automation target: its track, unit and range."""

    track: TrackDraft
    lane: Lane
    unit: str
    minimum: float | None
    maximum: float | None


def read_structure(
    structure: ET.Element | None, warnings: ImportWarnings
) -> tuple[list[TrackDraft], dict[str, TrackDraft], dict[str, Parameter]]:
    """The tracks in order; each by its ``<Track>`` and ``<Channel>`` id (timelines name
    either); and their volume and pan parameters by id."""
    drafts: list[TrackDraft] = []
    by_id: dict[str, TrackDraft] = {}
    parameters: dict[str, Parameter] = {}

    def visit(track: ET.Element, depth: int) -> None:
        if depth > MAX_DEPTH:
            raise DawProjectError(f"tracks are nested more than {MAX_DEPTH} deep")
        children = track.findall("Track")
        channel = track.find("Channel")
        role = channel.get("role") if channel is not None else None
        content = (track.get("contentType") or "").replace(",", " ").split()
        if children:
            warnings.add("group tracks are imported flat, without the group's own mixer settings")
            for child in children:
                visit(child, depth + 1)
            return
        if role == "master" or content == ["tracks"]:
            return
        if role == "effect":
            warnings.add("effect (return) channels are not imported: JACAMENO has no sends")
            return
        kind = TrackKind.MIDI if "audio" not in content and "notes" in content else None
        draft = TrackDraft(track.get("id"), track.get("name") or "", kind or TrackKind.AUDIO)
        drafts.append(draft)
        if len(drafts) > MAX_TRACKS:
            raise DawProjectError(f"the project has more than {MAX_TRACKS} tracks")
        for element in (track, channel):
            if element is not None and element.get("id"):
                by_id[str(element.get("id"))] = draft
        if channel is not None:
            _read_channel(channel, draft, parameters, warnings)

    for element in structure if structure is not None else ():
        if element.tag == "Track":
            visit(element, 0)
    return drafts, by_id, parameters


def _read_channel(
    channel: ET.Element,
    draft: TrackDraft,
    parameters: dict[str, Parameter],
    warnings: ImportWarnings,
) -> None:
    draft.solo = channel.get("solo") in ("true", "1")
    mute = channel.find("Mute")
    draft.mute = mute is not None and mute.get("value") in ("true", "1")
    for tag, what in (("Devices", "devices and plug-ins"), ("Sends", "sends")):
        element = channel.find(tag)
        if element is not None and len(element) > 0:
            warnings.add(f"{what} are not imported")
    for lane, tag in ((Lane.VOLUME, "Volume"), (Lane.PAN, "Pan")):
        element = channel.find(tag)
        if element is None:
            continue
        parameter = Parameter(
            draft,
            lane,
            element.get("unit") or "",
            number(element, "min"),
            number(element, "max"),
        )
        if element.get("id"):
            parameters[str(element.get("id"))] = parameter
        text = element.get("value")
        if text is None:
            continue
        value = _lane_value(parameter, parameter.unit, _real(text), warnings)
        if value is not None and lane is Lane.VOLUME:
            draft.volume_db = value
        elif value is not None:
            draft.pan = value


def automation_points(
    points: ET.Element, parameter: Parameter, frame: Frame, warnings: ImportWarnings
) -> tuple[AutomationPointView, ...]:
    """A ``<Points>`` lane on ``parameter`` in the document's units (seconds; dB or -1
    to 1), from 0 s: what came before 0 s starts the lane at its value then."""
    unit = points.get("unit") or parameter.unit
    read = []
    for point in points.findall("RealPoint"):
        time, text = number(point, "time"), point.get("value")
        value = _lane_value(parameter, unit, _real(text), warnings) if text else None
        if time is None or value is None:
            continue
        # The interpolation defaults to hold (Reference, RealPoint).
        linear = point.get("interpolation") == "linear"
        curve = AutomationCurve.LINEAR if linear else AutomationCurve.HOLD
        time_s = frame.at(time)
        if time_s > MAX_SONG_S or not math.isfinite(time_s):
            warnings.add(f"automation past {MAX_SONG_S:g} s is left out")
            continue
        read.append(AutomationPointView(time_s, value, curve))
    read.sort(key=lambda point: point.time_s)
    before = [point for point in read if point.time_s < 0.0]
    kept = [point for point in read if point.time_s >= 0.0]
    if before and (not kept or kept[0].time_s > 0.0):
        start = value_at(read, 0.0)
        assert start is not None
        kept.insert(0, AutomationPointView(0.0, start, before[-1].curve))
    if len(kept) > MAX_POINTS:
        warnings.add(f"automation lanes keep their first {MAX_POINTS} points")
    return tuple(kept[:MAX_POINTS])


def _real(text: str | None) -> float | None:
    """A parameter value: a double, or ``inf``/``-inf`` (Reference, RealParameter)."""
    try:
        value = float(text or "")
    except ValueError:
        return None
    return None if math.isnan(value) else value


def _lane_value(
    parameter: Parameter, unit: str, value: float | None, warnings: ImportWarnings
) -> float | None:
    """``value`` (in ``unit``) as the document holds it: volume in dB from -120 to +24,
    pan from -1 to 1; None for a unit that says nothing the document can use."""
    if value is None:
        return None
    if parameter.lane is Lane.VOLUME:
        if unit == "linear":
            db = linear_to_db(value)
        elif unit == "decibel":
            db = value
        else:
            warnings.add(f"volume in {unit or 'no'} unit cannot be read; it is left at 0 dB")
            return None
        if db > MAX_VOLUME_DB:
            warnings.add(f"volume above {MAX_VOLUME_DB:+.0f} dB is read as {MAX_VOLUME_DB:+.0f} dB")
        return min(MAX_VOLUME_DB, max(MIN_VOLUME_DB, db))
    low, high = parameter.minimum, parameter.maximum
    if unit != parameter.unit:
        low = high = None  # the range belongs to the parameter's unit
    if low is not None and high is not None and high > low:
        return normalized_to_pan((value - low) / (high - low))
    if unit == "normalized":
        return normalized_to_pan(value)
    if unit in ("linear", "percent"):
        return min(1.0, max(-1.0, value / (100.0 if unit == "percent" else 1.0)))
    warnings.add(f"pan in {unit or 'no'} unit cannot be read; it is left centred")
    return None
