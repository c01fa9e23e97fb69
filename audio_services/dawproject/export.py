"""`export_dawproject`: a project document (its `to_json` view) and its audio as a
DAWproject 1.0 archive (see the package doc for the mapping)."""

from __future__ import annotations

import io
import json
import os
import re
import zipfile
from collections.abc import Mapping, Sequence
from importlib import metadata
from pathlib import Path
from typing import Any
from xml.etree import ElementTree as ET

from jacameno.docs_model.schema import DEFAULT_BPM, DEFAULT_TIME_SIGNATURE

from .errors import DawProjectError
from .export_audio import ExportedAudio, needed_assets
from .model import METADATA_XML, PROJECT_XML, SIDECAR_FORMAT, SIDECAR_JSON
from .units import db_to_linear, pan_to_normalized, xml_number, xml_text

__all__ = ["APPLICATION_NAME", "APPLICATION_VERSION", "DAWPROJECT_VERSION", "export_dawproject"]

DAWPROJECT_VERSION = "1.0"
APPLICATION_NAME = "JACAMENO"


def _installed_version() -> str:
    try:
        return metadata.version("jacameno")
    except metadata.PackageNotFoundError:  # running from a source tree
        return "0"


APPLICATION_VERSION = _installed_version()
"""The version written to ``<Application>`` by default: the installed package's."""

_TIME_SIGNATURE = re.compile(r"([1-9][0-9]?)/([1-9][0-9]?)")
#: Tempo range written with the tempo (the document allows up to 999 bpm).
_TEMPO_MIN, _TEMPO_MAX = 20.0, 999.0
#: A channel fader's range as Bitwig writes it: 0 (silence) to 2 (+6 dB), widened when
#: the track's volume or automation goes higher.
_FADER_MAX = 2.0


def export_dawproject(
    document: Mapping[str, Any],
    audio: Mapping[str, Path],
    out: Path,
    *,
    application: str = APPLICATION_NAME,
    version: str = APPLICATION_VERSION,
) -> None:
    """Write ``document`` (a `to_json` view) and its audio to the DAWproject file ``out``.

    ``audio`` maps every asset id a clip plays (or a clipless track's ``asset_id``) to a
    local WAV or FLAC file; each is stored once, as ``audio/<asset id>.<ext>``. The file
    appears whole or not at all (written beside ``out``, then renamed).
    """
    meta, tracks = _mapping(document.get("meta"), "meta"), document.get("tracks")
    if not isinstance(tracks, list):
        raise DawProjectError("document must be a to_json() view: its 'tracks' is not a list")
    files = ExportedAudio(audio, needed_assets(tracks))
    project = ET.Element("Project", version=DAWPROJECT_VERSION)
    ET.SubElement(project, "Application", name=xml_text(application), version=xml_text(version))
    _transport(project, meta)
    structure = ET.SubElement(project, "Structure")
    arrangement = ET.SubElement(project, "Arrangement", id="arrangement")
    lanes = ET.SubElement(arrangement, "Lanes", id="arrangement-lanes", timeUnit="seconds")
    noted: dict[str, dict[str, object]] = {}
    for index, raw in enumerate(tracks, start=1):
        track = _mapping(raw, f"tracks[{index - 1}]")
        track_id = f"track{index}"
        clips = _played_clips(track, files)
        midi_clips = [c for c in track.get("midi_clips") or [] if isinstance(c, Mapping)]
        kind = str(track.get("kind") or "audio")
        content = ["audio"] if clips or kind != "midi" else []
        content += ["notes"] if midi_clips or kind == "midi" else []
        channels = min(2, max((files.info(c["asset_id"]).channels for c in clips), default=2))
        _structure_track(structure, track, track_id, channels, " ".join(content))
        _track_lanes(lanes, track, track_id, clips, files)
        noted[track_id] = {"kind": kind}
        if kind == "midi":
            # DAWproject has no General MIDI program: the sidecar keeps it.
            noted[track_id]["instrument"] = int(track.get("instrument") or 0)
    _master_track(structure)
    ET.SubElement(project, "Scenes")
    sidecar = {
        "format": SIDECAR_FORMAT,
        "version": 1,
        "key": meta.get("key"),
        "tracks": noted,
    }
    members = {
        PROJECT_XML: _xml_bytes(project),
        METADATA_XML: _xml_bytes(_metadata(meta)),
        SIDECAR_JSON: json.dumps(sidecar, indent=1).encode(),
    }
    _write_archive(out, members, files.stored())


def _mapping(value: object, where: str) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise DawProjectError(f"document must be a to_json() view: {where} is not an object")
    return value


def _played_clips(track: Mapping[str, Any], files: ExportedAudio) -> list[Mapping[str, Any]]:
    """The track's clips; without clips, its asset from 0 s (as the mixer plays it)."""
    clips = [clip for clip in track.get("clips") or [] if isinstance(clip, Mapping)]
    asset_id = track.get("asset_id")
    if clips or not asset_id:
        return clips
    return [{"asset_id": asset_id, "start_s": 0.0, "duration_s": files.info(asset_id).duration_s}]


def _transport(project: ET.Element, meta: Mapping[str, Any]) -> None:
    transport = ET.SubElement(project, "Transport")
    bpm = float(meta.get("bpm") or DEFAULT_BPM)
    tempo = {"unit": "bpm", "value": xml_number(bpm), "name": "Tempo", "id": "tempo"}
    limits = {"min": xml_number(min(bpm, _TEMPO_MIN)), "max": xml_number(max(bpm, _TEMPO_MAX))}
    ET.SubElement(transport, "Tempo", {**tempo, **limits})
    signature = str(meta.get("time_signature") or DEFAULT_TIME_SIGNATURE)
    match = _TIME_SIGNATURE.fullmatch(signature)
    if match is None:
        raise DawProjectError(f"meta.time_signature {signature!r} is not like '3/4'")
    numerator, denominator = match.groups()
    ET.SubElement(
        transport,
        "TimeSignature",
        id="time-signature",
        numerator=numerator,
        denominator=denominator,
    )


def _structure_track(
    structure: ET.Element, track: Mapping[str, Any], track_id: str, channels: int, content: str
) -> None:
    name = xml_text(str(track.get("name") or ""))
    element = ET.SubElement(
        structure, "Track", id=track_id, name=name, contentType=content, loaded="true"
    )
    channel = ET.SubElement(
        element,
        "Channel",
        id=f"{track_id}-channel",
        name=name,
        role="regular",
        audioChannels=str(channels),
        destination="master-channel",
        solo="true" if track.get("solo") else "false",
    )
    # The XSD fixes the order: Mute, Pan, Volume.
    mute = "true" if track.get("mute") else "false"
    ET.SubElement(channel, "Mute", id=f"{track_id}-mute", name="Mute", value=mute)
    pan = pan_to_normalized(float(track.get("pan") or 0.0))
    ET.SubElement(channel, "Pan", _normalized(f"{track_id}-pan", "Pan", pan))
    volumes = [float(track.get("volume_db") or 0.0)]
    volumes += [float(p["value"]) for p in track.get("volume_automation") or []]
    fader_max = max(_FADER_MAX, *(db_to_linear(v) for v in volumes))
    volume = {"id": f"{track_id}-volume", "name": "Volume", "unit": "linear", "min": "0.0"}
    volume |= {"max": xml_number(fader_max), "value": xml_number(db_to_linear(volumes[0]))}
    ET.SubElement(channel, "Volume", volume)


def _normalized(element_id: str, name: str, value: float) -> dict[str, str]:
    return {
        "id": element_id,
        "name": name,
        "unit": "normalized",
        "min": "0.0",
        "max": "1.0",
        "value": xml_number(value),
    }


def _master_track(structure: ET.Element) -> None:
    """The master the tracks play into, as DAWs write it (role ``master``)."""
    track = ET.SubElement(
        structure, "Track", id="master", name="Master", contentType="audio", loaded="true"
    )
    channel = ET.SubElement(
        track, "Channel", id="master-channel", name="Master", role="master", audioChannels="2"
    )
    ET.SubElement(channel, "Mute", id="master-mute", name="Mute", value="false")
    ET.SubElement(channel, "Pan", _normalized("master-pan", "Pan", 0.5))
    ET.SubElement(channel, "Volume", id="master-volume", name="Volume", unit="linear", value="1.0")


def _track_lanes(
    lanes: ET.Element,
    track: Mapping[str, Any],
    track_id: str,
    clips: Sequence[Mapping[str, Any]],
    files: ExportedAudio,
) -> None:
    track_lanes = ET.SubElement(lanes, "Lanes", id=f"{track_id}-lanes", track=track_id)
    clips_element = ET.SubElement(track_lanes, "Clips", id=f"{track_id}-clips")
    for clip in clips:
        _clip(clips_element, clip, files)
    for midi_clip in track.get("midi_clips") or []:
        if isinstance(midi_clip, Mapping):
            _notes_clip(clips_element, midi_clip)
    for lane, unit in (("volume", "linear"), ("pan", "normalized")):
        points = track.get(f"{lane}_automation") or []
        if not points:
            continue
        element = ET.SubElement(
            track_lanes, "Points", id=f"{track_id}-{lane}-automation", unit=unit
        )
        ET.SubElement(element, "Target", parameter=f"{track_id}-{lane}")
        for point in points:
            value = float(point["value"])
            value = db_to_linear(value) if lane == "volume" else pan_to_normalized(value)
            ET.SubElement(
                element,
                "RealPoint",
                time=xml_number(point["time_s"]),
                value=xml_number(value),
                # DAWproject interpolates linearly or holds: a smooth (cosine) segment
                # is written as a linear one.
                interpolation="hold" if point.get("curve") == "hold" else "linear",
            )


def _clip(clips: ET.Element, clip: Mapping[str, Any], files: ExportedAudio) -> None:
    """A document clip as a DAWproject clip (times in seconds); loops as the clip's loop
    region, so a DAW shows one looped clip and fades span the whole of it."""
    start_s, offset_s = float(clip["start_s"]), float(clip.get("offset_s") or 0.0)
    duration_s, loops = float(clip["duration_s"]), int(clip.get("loop_count") or 1)
    attributes = {
        "time": xml_number(start_s),
        "duration": xml_number(duration_s * loops),
        "contentTimeUnit": "seconds",
        "playStart": xml_number(offset_s),
        "fadeTimeUnit": "seconds",
        "fadeInTime": xml_number(clip.get("fade_in_s") or 0.0),
        "fadeOutTime": xml_number(clip.get("fade_out_s") or 0.0),
    }
    if loops > 1:
        attributes |= {"loopStart": attributes["playStart"]}
        attributes |= {"loopEnd": xml_number(offset_s + duration_s)}
    else:
        attributes["playStop"] = xml_number(offset_s + duration_s)
    element = ET.SubElement(clips, "Clip", attributes)
    asset_id = clip["asset_id"]
    info = files.info(asset_id)
    gain_db = float(clip.get("gain_db") or 0.0)
    # DAWproject 1.0 has no clip gain attribute: a constant gain is a one-point envelope
    # (expression "gain") beside the audio, as Bitwig and DawVert write a clip's gain.
    content = ET.SubElement(element, "Lanes", timeUnit="seconds") if gain_db else element
    audio = ET.SubElement(
        content,
        "Audio",
        channels=str(info.channels),
        sampleRate=str(info.sample_rate),
        duration=xml_number(info.duration_s),
        timeUnit="seconds",
    )
    ET.SubElement(audio, "File", path=files.path_in_archive(asset_id))
    if gain_db:
        points = ET.SubElement(content, "Points", unit="linear")
        ET.SubElement(points, "Target", expression="gain")
        value = xml_number(db_to_linear(gain_db))
        ET.SubElement(points, "RealPoint", time="0.0", value=value, interpolation="hold")


def _notes_clip(clips: ET.Element, clip: Mapping[str, Any]) -> None:
    """A MIDI clip as a clip of notes: placed in seconds, its notes in beats from its
    start (``contentTimeUnit="beats"``), so they keep their beats exactly."""
    element = ET.SubElement(
        clips,
        "Clip",
        time=xml_number(clip["start_s"]),
        duration=xml_number(clip["duration_s"]),
        contentTimeUnit="beats",
        playStart="0.0",
    )
    notes = ET.SubElement(element, "Notes")
    for note in clip.get("notes") or []:
        # Normalized velocity, MIDI velocity / 127 as Bitwig writes it; the document has
        # no note-off velocity, so rel repeats vel (as DAWproject's own examples do).
        velocity = xml_number(int(note.get("velocity") or 100) / 127.0)
        ET.SubElement(
            notes,
            "Note",
            time=xml_number(note["start_beats"]),
            duration=xml_number(note["length_beats"]),
            channel="0",
            key=str(int(note["pitch"])),
            vel=velocity,
            rel=velocity,
        )


def _metadata(meta: Mapping[str, Any]) -> ET.Element:
    element = ET.Element("MetaData")
    ET.SubElement(element, "Title").text = xml_text(str(meta.get("title") or ""))
    return element


def _xml_bytes(root: ET.Element) -> bytes:
    ET.indent(root)
    buffer = io.BytesIO()
    ET.ElementTree(root).write(buffer, encoding="UTF-8", xml_declaration=True)
    return buffer.getvalue()


def _write_archive(out: Path, members: Mapping[str, bytes], audio: list[tuple[str, Path]]) -> None:
    partial = out.with_name(out.name + ".partial")
    try:
        with zipfile.ZipFile(partial, "w", compression=zipfile.ZIP_DEFLATED) as archive:
            for name, data in members.items():
                archive.writestr(name, data)
            for name, path in audio:
                # WAV barely deflates and FLAC not at all: stored, they copy at disk speed.
                archive.write(path, name, compress_type=zipfile.ZIP_STORED)
        os.replace(partial, out)
    except OSError as exc:
        raise DawProjectError(f"cannot write {out}: {exc}") from exc
    finally:
        partial.unlink(missing_ok=True)
