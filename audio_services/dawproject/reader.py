"""`import_dawproject`: a DAWproject file read into an `ImportedProject`, with the audio
its clips play extracted (see the package doc for what carries over)."""

from __future__ import annotations

import json
from collections.abc import Container
from dataclasses import replace
from pathlib import Path
from xml.etree import ElementTree as ET

from jacameno.docs_model import TrackKind
from jacameno.docs_model.schema import DEFAULT_BPM, DEFAULT_TIME_SIGNATURE, DEFAULT_TITLE

from .archive import DEFAULT_MAX_MEMBERS, DEFAULT_MAX_TOTAL_BYTES, DawProjectArchive
from .errors import DawProjectError
from .frames import Frame, number
from .model import (
    METADATA_XML,
    PROJECT_XML,
    SIDECAR_FORMAT,
    SIDECAR_JSON,
    ImportedMeta,
    ImportedProject,
    ImportWarnings,
)
from .notes import NoteReader
from .safe_xml import parse_xml
from .structure import Parameter, TrackDraft, automation_points, read_structure
from .timeline import MAX_DEPTH, MAX_SONG_S, ClipFlattener
from .units import seconds_per

__all__ = ["import_dawproject", "read_project"]

#: The tempo range the document holds (beats per minute).
_MIN_BPM, _MAX_BPM = 1.0, 999.0
_DENOMINATORS = (1, 2, 4, 8, 16, 32)
_MAX_SIDECAR_BYTES = 1024**2


def import_dawproject(
    path: Path,
    audio_dir: Path,
    *,
    max_members: int = DEFAULT_MAX_MEMBERS,
    max_total_bytes: int = DEFAULT_MAX_TOTAL_BYTES,
) -> ImportedProject:
    """Read the DAWproject file ``path``; the audio its clips play is extracted under
    ``audio_dir`` (at its path in the archive, the key of ``ImportedProject.audio``).

    Raises `DawProjectError` for a file that is not a DAWproject or is hostile: a
    member that would land outside ``audio_dir``, more than ``max_members`` members,
    more than ``max_total_bytes`` to read, XML with a DTD. What cannot be carried over
    is listed in ``ImportedProject.warnings``.
    """
    with DawProjectArchive(
        path, max_members=max_members, max_total_bytes=max_total_bytes
    ) as archive:
        project_xml = archive.read(PROJECT_XML)
        if project_xml is None:
            raise DawProjectError(f"{path.name} is not a DAWproject file: it has no project.xml")
        imported = read_project(
            project_xml,
            archive.read(METADATA_XML),
            archive.read(SIDECAR_JSON, max_bytes=_MAX_SIDECAR_BYTES),
            archive.names,
            default_title=path.stem,
        )
        paths = sorted({clip.audio_path for track in imported.tracks for clip in track.clips})
        audio: dict[str, Path] = {}
        try:
            audio_dir.mkdir(parents=True, exist_ok=True)
            for name in paths:
                audio[name] = archive.extract(name, audio_dir)
        except BaseException:
            for extracted in audio.values():  # an import that fails leaves no audio behind
                extracted.unlink(missing_ok=True)
            raise
    return replace(imported, audio=audio)


def read_project(
    project_xml: bytes,
    metadata_xml: bytes | None = None,
    sidecar_json: bytes | None = None,
    members: Container[str] = frozenset(),
    *,
    default_title: str = DEFAULT_TITLE,
) -> ImportedProject:
    """The project in ``project_xml`` (clips whose audio is not among ``members``, the
    archive's files, are left out); ``ImportedProject.audio`` is left empty."""
    root = parse_xml(project_xml, PROJECT_XML)
    if root.tag != "Project":
        raise DawProjectError(f"project.xml holds <{root.tag}>, not a DAWproject <Project>")
    version = root.get("version") or ""
    if version.split(".")[0] != "1":
        raise DawProjectError(f"DAWproject version {version!r} is not supported (1.x is)")
    warnings = ImportWarnings()
    bpm = _tempo(root, warnings)
    drafts, tracks_by_id, parameters = read_structure(root.find("Structure"), warnings)
    arrangement = root.find("Arrangement")
    if arrangement is not None:
        ids = {str(element.get("id")): element for element in root.iter() if element.get("id")}
        flattener = ClipFlattener(bpm, ids, members, warnings)
        notes = NoteReader(bpm, ids, warnings)
        walker = _ArrangementWalker(flattener, notes, tracks_by_id, parameters, warnings)
        song = Frame("beats", 0.0, seconds_per("beats", bpm), 0.0, MAX_SONG_S)
        for child in arrangement:
            walker.walk(child, song, None, 0)
    scenes = root.find("Scenes")
    if scenes is not None and len(scenes) > 0:
        warnings.add("clip launcher scenes are not imported, only the arrangement")
    key, kinds, instruments = _sidecar(sidecar_json, warnings)
    meta = ImportedMeta(
        title=_title(metadata_xml, warnings) or default_title,
        bpm=bpm,
        time_signature=_time_signature(root, warnings),
        key=key,
    )
    app = root.find("Application")
    made_by = (app.get("name", ""), app.get("version", "")) if app is not None else ()
    return ImportedProject(
        application=" ".join(part for part in made_by if part),
        meta=meta,
        tracks=tuple(
            draft.finished(
                kinds.get(draft.element_id or ""), instruments.get(draft.element_id or "")
            )
            for draft in drafts
        ),
        warnings=warnings.items,
    )


class _ArrangementWalker:
    """Puts the arrangement's clips, notes and automation on the tracks their timelines
    name."""

    def __init__(
        self,
        flattener: ClipFlattener,
        notes: NoteReader,
        tracks: dict[str, TrackDraft],
        parameters: dict[str, Parameter],
        warnings: ImportWarnings,
    ) -> None:
        self.flattener, self.notes = flattener, notes
        self.tracks, self.parameters = tracks, parameters
        self.warnings = warnings

    def walk(self, element: ET.Element, frame: Frame, track: TrackDraft | None, depth: int) -> None:
        if depth > MAX_DEPTH:
            raise DawProjectError(f"the arrangement's lanes are nested more than {MAX_DEPTH} deep")
        frame = frame.in_unit(element.get("timeUnit") or frame.unit, self.flattener.bpm)
        track = self.tracks.get(element.get("track") or "", track)
        if element.tag == "Lanes":
            for child in element:
                self.walk(child, frame, track, depth + 1)
        elif element.tag in ("Clips", "Notes") and track is None:
            if element.find("Clip") is not None or element.find("Note") is not None:
                self.warnings.add("clips on no track (or on the master) are not imported")
        elif element.tag == "Clips" and track is not None:
            for clip in element.findall("Clip"):
                # A clip playing notes is a MIDI clip; any other, audio.
                midi = self.notes.clip(clip, frame)
                if midi is None:
                    track.clips += self.flattener.clip(clip, frame)
                else:
                    track.midi_clips.append(midi)
        elif element.tag == "Notes" and track is not None:
            midi = self.notes.lane(element, frame)
            if midi is not None:
                track.midi_clips.append(midi)
        elif element.tag == "Points":
            self._automation(element, frame)

    def _automation(self, points: ET.Element, frame: Frame) -> None:
        target = points.find("Target")
        parameter = (
            self.parameters.get(target.get("parameter") or "") if target is not None else None
        )
        if parameter is None:
            self.warnings.add("only track volume and pan automation is imported")
            return
        lanes = parameter.track.lanes
        if parameter.lane in lanes:
            self.warnings.add("a parameter automated twice keeps its last lane")
        lanes[parameter.lane] = automation_points(points, parameter, frame, self.warnings)


def _tempo(root: ET.Element, warnings: ImportWarnings) -> float:
    tempo = root.find("Transport/Tempo")
    bpm = number(tempo, "value") if tempo is not None else None
    if bpm is None:
        warnings.add(f"the project gives no tempo: beats are read at {DEFAULT_BPM:g} bpm")
        return DEFAULT_BPM
    if not _MIN_BPM <= bpm <= _MAX_BPM:
        bpm = min(_MAX_BPM, max(_MIN_BPM, bpm))
        warnings.add(f"the tempo is out of range: read as {bpm:g} bpm")
    automation = root.find("Arrangement/TempoAutomation")
    changes = [] if automation is None else automation.findall("RealPoint")
    if any(number(point, "value") not in (None, bpm) for point in changes):
        warnings.add(f"tempo changes are not imported: beats are read at {bpm:g} bpm")
    return bpm


def _time_signature(root: ET.Element, warnings: ImportWarnings) -> str:
    signature = root.find("Transport/TimeSignature")
    if signature is None:
        return DEFAULT_TIME_SIGNATURE
    try:
        numerator = int(signature.get("numerator") or "")
        denominator = int(signature.get("denominator") or "")
    except ValueError:
        numerator = denominator = 0
    if 1 <= numerator <= 99 and denominator in _DENOMINATORS:
        return f"{numerator}/{denominator}"
    warnings.add(f"the time signature is not one JACAMENO holds: read as {DEFAULT_TIME_SIGNATURE}")
    return DEFAULT_TIME_SIGNATURE


def _title(metadata_xml: bytes | None, warnings: ImportWarnings) -> str | None:
    if metadata_xml is None:
        return None
    try:
        root = parse_xml(metadata_xml, METADATA_XML)
    except DawProjectError as exc:
        warnings.add(f"metadata.xml is not read: {exc}")
        return None
    title = root.find("Title")
    text = (title.text or "").strip() if title is not None else ""
    return text or None


def _sidecar(
    data: bytes | None, warnings: ImportWarnings
) -> tuple[str | None, dict[str, TrackKind], dict[str, int]]:
    """The key, and the track kinds and MIDI instruments by ``<Track>`` id, that JACAMENO
    noted beside its own export (see `SIDECAR_JSON`)."""
    if data is None:
        return None, {}, {}
    try:
        notes = json.loads(data)
    except (ValueError, RecursionError):
        warnings.add(f"{SIDECAR_JSON} is not JSON; track kinds and the key are not read")
        return None, {}, {}
    if not isinstance(notes, dict) or notes.get("format") != SIDECAR_FORMAT:
        return None, {}, {}
    key = notes.get("key")
    tracks = notes.get("tracks")
    entries = [
        (str(track_id), entry)
        for track_id, entry in (tracks.items() if isinstance(tracks, dict) else ())
        if isinstance(entry, dict)
    ]
    kinds = {
        track_id: TrackKind(entry["kind"])
        for track_id, entry in entries
        if entry.get("kind") in set(TrackKind)
    }
    instruments = {
        track_id: program
        for track_id, entry in entries
        if type(program := entry.get("instrument")) is int and 0 <= program <= 127
    }
    return (key[:100] if isinstance(key, str) else None), kinds, instruments
