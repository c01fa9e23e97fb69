"""DAWproject 1.0: exports valid against the published schemas, a round trip that keeps
the arrangement to the float, other DAWs' files (beats, nested clips) read right, and
hostile archives refused."""

from __future__ import annotations

import io
import json
import math
import warnings
import zipfile
from collections.abc import Callable
from pathlib import Path
from xml.etree import ElementTree as ET

import numpy as np
import pytest
import soundfile as sf
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from lxml import etree

from jacameno.audio_services.dawproject import (
    DEFAULT_MAX_MEMBERS,
    MAX_NOTES,
    DawProjectError,
    ImportedProject,
    apply_import,
    export_dawproject,
    import_dawproject,
    read_project,
)
from jacameno.audio_services.dawproject.notes import velocity_from_normalized
from jacameno.docs_model import AutomationCurve, ProjectDocument, create_document, to_json

REFERENCE = Path(__file__).parents[2].parent / "shared" / "reference" / "dawproject"
SR = 48_000
TOLERANCE = 1e-9


def tone(path: Path, seconds: float, channels: int = 1, **write: str) -> Path:
    """A generated sine file (440 Hz, -12 dBFS)."""
    frames = np.arange(round(seconds * SR)) / SR
    samples = 0.25 * np.sin(2 * np.pi * 440.0 * frames)
    sf.write(path, np.repeat(samples[:, None], channels, axis=1), SR, **write)
    return path


@pytest.fixture
def audio(tmp_path: Path) -> dict[str, Path]:
    folder = tmp_path / "assets"
    folder.mkdir()
    return {
        "vox": tone(folder / "vox.wav", 0.6, subtype="PCM_16"),
        "bass": tone(folder / "bass.flac", 0.4, channels=2, format="FLAC"),
        "keys": tone(folder / "keys.wav", 0.5, channels=2, subtype="PCM_24"),
    }


@pytest.fixture
def song() -> ProjectDocument:
    """Three tracks with offsets, fades, loops, gains and automation, at 97 bpm in 3/4."""
    project = create_document(title="Round trip", bpm=97.0, time_signature="3/4", key="E minor")
    vocal = project.add_track("Lead vocal", "vocal", volume_db=-3.5, pan=-0.25, solo=True)
    project.add_clip(
        vocal,
        "vox",
        start_s=1.25,
        duration_s=0.3,
        offset_s=0.125,
        gain_db=-2.0,
        fade_in_s=0.05,
        fade_out_s=0.1,
        fade_in_curve="equal_power",
    )
    project.add_clip(vocal, "vox", start_s=3.0, duration_s=0.2, offset_s=0.05, loop_count=3)
    project.set_automation(
        vocal,
        "volume",
        [
            {"time_s": 0.0, "value": -6.0, "curve": "linear"},
            {"time_s": 1.5, "value": 0.0, "curve": "hold"},
            {"time_s": 2.75, "value": -12.0, "curve": "smooth"},
            {"time_s": 4.0, "value": -3.0, "curve": "linear"},
        ],
    )
    project.set_automation(
        vocal, "pan", [{"time_s": 0.5, "value": -1.0}, {"time_s": 2.0, "value": 0.75}]
    )
    bass = project.add_track("Bass", "instrument", volume_db=2.0, pan=0.4, mute=True)
    project.add_clip(
        bass, "bass", start_s=0.0, duration_s=0.37, gain_db=3.0, loop_count=4, fade_out_s=0.5
    )
    keys = project.add_track("Keys", "audio")
    project.add_clip(keys, "keys", start_s=2.0 / 3.0, duration_s=0.1, offset_s=0.4, loop_count=7)
    return project


@pytest.fixture
def exported(tmp_path: Path, song: ProjectDocument, audio: dict[str, Path]) -> Path:
    out = tmp_path / "song.dawproject"
    export_dawproject(to_json(song), audio, out)
    return out


def member(archive: Path, name: str) -> bytes:
    with zipfile.ZipFile(archive) as zipped:
        return zipped.read(name)


# --------------------------------------------------------------------------- export


@pytest.mark.parametrize(
    ("xml", "schema"), [("project.xml", "Project.xsd"), ("metadata.xml", "MetaData.xsd")]
)
def test_the_export_is_valid_against_the_dawproject_schemas(
    exported: Path, xml: str, schema: str
) -> None:
    if not (REFERENCE / schema).is_file():
        pytest.skip(f"the DAWproject reference schemas are not at {REFERENCE}")
    validator = etree.XMLSchema(etree.parse(str(REFERENCE / schema)))
    document = etree.fromstring(member(exported, xml))
    assert validator.validate(document), validator.error_log


def test_the_export_maps_units_loops_gains_and_curves(exported: Path) -> None:
    with zipfile.ZipFile(exported) as zipped:
        names = sorted(zipped.namelist())
    # Each asset once, though the vocal plays "vox" twice.
    assert names == [
        "audio/bass.flac",
        "audio/keys.wav",
        "audio/vox.wav",
        "jacameno.json",
        "metadata.xml",
        "project.xml",
    ]
    project = ET.fromstring(member(exported, "project.xml"))
    tempo = project.find("Transport/Tempo")
    assert tempo is not None
    assert (tempo.get("unit"), tempo.get("value")) == ("bpm", "97.0")
    signature = project.find("Transport/TimeSignature")
    assert signature is not None
    assert signature.attrib["numerator"] == "3"
    lanes = project.find("Arrangement/Lanes")
    assert lanes is not None
    assert lanes.get("timeUnit") == "seconds"
    volume = project.find("Structure/Track[@name='Lead vocal']/Channel/Volume")
    assert volume is not None
    assert volume.get("unit") == "linear"
    assert float(volume.attrib["value"]) == pytest.approx(10 ** (-3.5 / 20))
    pan = project.find("Structure/Track[@name='Lead vocal']/Channel/Pan")
    assert pan is not None
    assert (pan.get("unit"), float(pan.attrib["value"])) == ("normalized", 0.375)
    looped, plain = project.findall("Arrangement/Lanes/Lanes[@track='track1']/Clips/Clip")[::-1]
    assert "loopStart" not in plain.attrib
    assert float(plain.attrib["playStop"]) == pytest.approx(0.425)
    assert float(looped.attrib["duration"]) == pytest.approx(0.6)
    loop = (float(looped.attrib["loopStart"]), float(looped.attrib["loopEnd"]))
    assert loop == pytest.approx((0.05, 0.25))
    gain = plain.find("Lanes/Points[Target]/RealPoint")
    assert gain is not None
    assert float(gain.attrib["value"]) == pytest.approx(10 ** (-2 / 20))
    volume_lane = "Arrangement/Lanes/Lanes/Points[@id='track1-volume-automation']/RealPoint"
    points = project.findall(volume_lane)
    # smooth (a cosine ease) is written as linear: DAWproject interpolates linear or hold
    assert [p.get("interpolation") for p in points] == ["linear", "hold", "linear", "linear"]
    metadata = ET.fromstring(member(exported, "metadata.xml"))
    assert metadata.findtext("Title") == "Round trip"


def test_a_clipless_track_exports_its_asset_as_a_clip_from_zero(
    tmp_path: Path, audio: dict[str, Path]
) -> None:
    project = create_document()
    project.add_track("Stem", "audio", asset_id="keys")
    out = tmp_path / "stem.dawproject"
    export_dawproject(to_json(project), audio, out)
    (track,) = import_dawproject(out, tmp_path / "in").tracks
    (clip,) = track.clips
    assert (clip.audio_path, clip.start_s, clip.offset_s) == ("audio/keys.wav", 0.0, 0.0)
    assert clip.duration_s == pytest.approx(0.5)


def test_export_refuses_missing_or_unsupported_audio(
    tmp_path: Path, song: ProjectDocument, audio: dict[str, Path]
) -> None:
    without_bass = {"vox": audio["vox"], "keys": audio["keys"]}
    with pytest.raises(DawProjectError, match="bass"):
        export_dawproject(to_json(song), without_bass, tmp_path / "a")
    aiff = tone(tmp_path / "keys.aiff", 0.1, format="AIFF")
    with pytest.raises(DawProjectError, match="WAV or FLAC"):
        export_dawproject(to_json(song), {**audio, "keys": aiff}, tmp_path / "b.dawproject")
    assert not list(tmp_path.glob("*.dawproject*"))


# --------------------------------------------------------------------------- round trip


def test_the_round_trip_keeps_the_arrangement(
    tmp_path: Path, song: ProjectDocument, audio: dict[str, Path], exported: Path
) -> None:
    imported = import_dawproject(exported, tmp_path / "extracted")
    assert imported.application.startswith("JACAMENO ")
    assert imported.warnings == ()
    for asset_id, source in audio.items():
        (path,) = [p for p in imported.audio if p.startswith(f"audio/{asset_id}.")]
        assert imported.audio[path].read_bytes() == source.read_bytes()
    new_ids = {path: f"new-{Path(path).stem}" for path in imported.audio}
    copy = create_document()
    apply_import(copy, imported, new_ids)

    meta, copied_meta = song.get_meta(), copy.get_meta()
    assert (copied_meta.title, copied_meta.key, copied_meta.time_signature) == (
        meta.title,
        meta.key,
        meta.time_signature,
    )
    assert copied_meta.bpm == meta.bpm
    originals, copies = song.tracks_in_order(), copy.tracks_in_order()
    assert [t.name for t in copies] == [t.name for t in originals]
    for original, copied in zip(originals, copies, strict=True):
        for name in ("kind", "mute", "solo"):
            assert getattr(copied, name) == getattr(original, name), name
        assert copied.volume_db == pytest.approx(original.volume_db, abs=TOLERANCE)
        assert copied.pan == pytest.approx(original.pan, abs=TOLERANCE)
        assert len(copied.clips) == len(original.clips)
        for before, after in zip(original.clips, copied.clips, strict=True):
            assert after.asset_id == f"new-{before.asset_id}"
            assert after.loop_count == before.loop_count
            for name in ("start_s", "offset_s", "duration_s", "gain_db", "fade_in_s", "fade_out_s"):
                assert getattr(after, name) == pytest.approx(getattr(before, name), abs=TOLERANCE)
        for lane in ("volume_automation", "pan_automation"):
            before_points, after_points = getattr(original, lane), getattr(copied, lane)
            assert [p.time_s for p in after_points] == [p.time_s for p in before_points]
            assert [p.value for p in after_points] == pytest.approx(
                [p.value for p in before_points], abs=TOLERANCE
            )
            assert [p.curve for p in after_points] == [
                AutomationCurve.LINEAR if p.curve is AutomationCurve.SMOOTH else p.curve
                for p in before_points
            ]


def test_apply_import_needs_an_empty_document_and_every_asset(
    tmp_path: Path, song: ProjectDocument, exported: Path
) -> None:
    imported = import_dawproject(exported, tmp_path / "extracted")
    with pytest.raises(DawProjectError, match="empty document"):
        apply_import(song, imported, {path: "x" for path in imported.audio})
    empty = create_document()
    with pytest.raises(DawProjectError, match=r"audio/bass\.flac"):
        apply_import(empty, imported, {"audio/vox.wav": "v", "audio/keys.wav": "k"})
    assert empty.tracks_in_order() == []


# --------------------------------------------------------------------------- other DAWs

BITWIG_STYLE = b"""<?xml version="1.0" encoding="UTF-8"?>
<Project version="1.0">
  <Application name="Bitwig Studio" version="5.0"/>
  <Transport>
    <Tempo unit="bpm" value="120.0" id="id0"/>
    <TimeSignature numerator="7" denominator="8" id="id1"/>
  </Transport>
  <Structure>
    <Track contentType="notes" id="id2" name="Synth">
      <Channel role="regular" id="id3"><Volume unit="linear" value="1.0" id="id4"/></Channel>
    </Track>
    <Track contentType="tracks" id="id5" name="Group">
      <Channel role="submix" id="id6"/>
      <Track contentType="audio" id="id9" name="Drumloop">
        <Channel role="regular" solo="true" id="id10">
          <Mute value="true" id="id13"/>
          <Pan max="1.0" min="0.0" unit="normalized" value="0.25" id="id12"/>
          <Volume unit="decibel" value="-6.0" id="id11"/>
          <Unknown thing="ignored"/>
        </Channel>
      </Track>
    </Track>
    <Track contentType="audio notes" id="id14" name="Master">
      <Channel role="master" id="id15"/>
    </Track>
  </Structure>
  <Arrangement id="id19">
    <Lanes timeUnit="beats" id="id20">
      <Lanes track="id9" id="id24">
        <Clips id="id25">
          <Clip time="4.0" duration="6.0" playStart="0.0" loopStart="0.0" loopEnd="2.0"
                fadeTimeUnit="beats" fadeInTime="0.5" fadeOutTime="1.0">
            <Clips id="id26">
              <Clip time="0.0" duration="2.0" contentTimeUnit="beats" playStart="1.0">
                <Warps contentTimeUnit="seconds" timeUnit="beats" id="id28">
                  <Audio channels="2" duration="3.0" sampleRate="48000" id="id27">
                    <File path="audio/loop.wav"/>
                  </Audio>
                  <Warp time="0.0" contentTime="0.0"/>
                  <Warp time="6.0" contentTime="3.0"/>
                </Warps>
              </Clip>
            </Clips>
          </Clip>
          <Clip time="16.0" duration="1.0" contentTimeUnit="seconds" playStart="0.25">
            <Audio channels="1" duration="1.0" sampleRate="48000">
              <File path="audio/gone.wav"/>
            </Audio>
          </Clip>
        </Clips>
        <Points unit="decibel" id="id30">
          <Target parameter="id11"/>
          <RealPoint time="-2.0" value="-20.0" interpolation="linear"/>
          <RealPoint time="2.0" value="0.0"/>
          <RealPoint time="4.0" value="-10.0"/>
        </Points>
        <Future element="from a later version"/>
      </Lanes>
    </Lanes>
  </Arrangement>
</Project>
"""


def test_a_bitwig_style_file_in_beats_reads_as_seconds() -> None:
    imported = read_project(BITWIG_STYLE, members={"audio/loop.wav"})
    assert imported.application == "Bitwig Studio 5.0"
    assert (imported.meta.bpm, imported.meta.time_signature) == (120.0, "7/8")
    synth, drums = imported.tracks  # the group's child imported flat, the master left out
    assert (synth.name, synth.kind.value, synth.clips) == ("Synth", "midi", ())
    assert (synth.instrument, synth.midi_clips) == (0, ())
    assert (drums.volume_db, drums.pan, drums.mute, drums.solo) == (-6.0, -0.5, True, True)
    # 6 beats at 120 bpm from beat 4: a 1 s loop (2 beats) played three times from 2 s,
    # each pass starting 1 beat (0.5 s) into the audio; fades 0.25 s and 0.5 s.
    (clip,) = drums.clips
    assert (clip.start_s, clip.duration_s, clip.loop_count) == (2.0, 1.0, 3)
    assert (clip.offset_s, clip.fade_in_s, clip.fade_out_s) == (0.5, 0.25, 0.5)
    # A point before 0 s starts the lane at its value at 0 s; hold is the default.
    lane = [(p.time_s, p.value, p.curve.value) for p in drums.volume_automation]
    assert lane == [(0.0, -10.0, "linear"), (1.0, 0.0, "hold"), (2.0, -10.0, "hold")]
    assert any("audio/gone.wav" in warning for warning in imported.warnings)
    assert any("group" in warning for warning in imported.warnings)


# --------------------------------------------------------------------------- MIDI

#: (start_beats, length_beats, pitch, velocity) of the notes of two clips.
FIRST_NOTES = [
    (0.0, 0.5, 36, 127),
    (0.5, 1.0 / 3.0, 43, 1),
    (1.0 / 3.0, 0.125, 60, 64),
    (2.718281828, 1.4142135, 64, 99),
    (3.5, 2.25, 67, 100),  # past the clip's end: the document cuts it, the file keeps it
]
SECOND_NOTES = [(0.0, 4.0, 48, 80), (0.0, 4.0, 55, 81), (1.75, 0.0625, 127, 126), (0.2, 0.1, 0, 2)]


@pytest.fixture
def midi_song() -> ProjectDocument:
    """A MIDI track (fingered bass, program 33) of two clips beside an audio track, at
    97 bpm."""
    project = create_document(title="Notes", bpm=97.0)
    bass = project.add_track("Bass", "midi", instrument=33, volume_db=-2.0, pan=0.1)
    for start_s, duration_s, notes in ((0.5, 4 * 60 / 97, FIRST_NOTES), (7.25, 3.3, SECOND_NOTES)):
        clip = project.add_midi_clip(bass, start_s=start_s, duration_s=duration_s)
        for start, length, pitch, velocity in notes:
            project.add_note(
                bass, clip, pitch=pitch, velocity=velocity, start_beats=start, length_beats=length
            )
    vocal = project.add_track("Vocal", "vocal")
    project.add_clip(vocal, "vox", start_s=1.0, duration_s=0.5)
    return project


def test_midi_tracks_export_as_notes_and_round_trip(
    tmp_path: Path, midi_song: ProjectDocument, audio: dict[str, Path]
) -> None:
    out = tmp_path / "notes.dawproject"
    export_dawproject(to_json(midi_song), {"vox": audio["vox"]}, out)
    if (REFERENCE / "Project.xsd").is_file():
        validator = etree.XMLSchema(etree.parse(str(REFERENCE / "Project.xsd")))
        assert validator.validate(etree.fromstring(member(out, "project.xml"))), validator.error_log
    project = ET.fromstring(member(out, "project.xml"))
    track = project.find("Structure/Track[@name='Bass']")
    assert track is not None
    assert track.get("contentType") == "notes"
    clips = project.findall("Arrangement/Lanes/Lanes[@track='track1']/Clips/Clip")
    assert [(c.get("time"), c.get("contentTimeUnit")) for c in clips] == [
        ("0.5", "beats"),
        ("7.25", "beats"),
    ]
    note = clips[0].find("Notes/Note[@key='36']")
    assert note is not None
    assert (note.get("time"), note.get("duration"), note.get("vel")) == ("0.0", "0.5", "1.0")
    assert json.loads(member(out, "jacameno.json"))["tracks"]["track1"] == {
        "kind": "midi",
        "instrument": 33,
    }

    imported = import_dawproject(out, tmp_path / "in")
    assert imported.warnings == ()
    copy = create_document()
    apply_import(copy, imported, {path: "new-vox" for path in imported.audio})
    (original, _), (copied, vocal) = midi_song.tracks_in_order(), copy.tracks_in_order()
    assert (copied.kind, copied.instrument, vocal.kind, vocal.instrument) == (
        "midi",
        33,
        "vocal",
        None,
    )
    assert copied.volume_db == pytest.approx(original.volume_db, abs=TOLERANCE)
    assert len(copied.midi_clips) == 2
    for before, after in zip(original.midi_clips, copied.midi_clips, strict=True):
        assert (after.start_s, after.duration_s) == pytest.approx(
            (before.start_s, before.duration_s), abs=TOLERANCE
        )
        assert len(after.notes) == len(before.notes)
        for note_before, note_after in zip(before.notes, after.notes, strict=True):
            assert (note_after.pitch, note_after.velocity) == (
                note_before.pitch,
                note_before.velocity,
            )
            assert note_after.start_beats == pytest.approx(note_before.start_beats, abs=1e-6)
            assert note_after.length_beats == pytest.approx(note_before.length_beats, abs=1e-6)


BITWIG_NOTES = b"""<?xml version="1.0" encoding="UTF-8"?>
<Project version="1.0">
  <Application name="Bitwig Studio" version="5.0"/>
  <Transport><Tempo unit="bpm" value="90.0" id="id0"/></Transport>
  <Structure>
    <Track contentType="notes" loaded="true" id="id2" name="Bass">
      <Channel audioChannels="2" role="regular" id="id3"/>
    </Track>
  </Structure>
  <Arrangement id="id19">
    <Lanes timeUnit="beats" id="id20">
      <Lanes track="id2" id="id21">
        <Clips id="id22">
          <Clip time="4.0" duration="8.0" playStart="0.0" loopStart="0.0" loopEnd="4.0">
            <Notes id="id23">
              <Note time="0.0" duration="0.25" channel="0" key="65" vel="0.787402" rel="0.5"/>
              <Note time="1.5" duration="2.5" channel="0" key="53" vel="1.0" rel="0.5"/>
              <Note time="3.75" duration="0.5" channel="1" key="60"/>
              <Note time="5.0" duration="1.0" channel="0" key="70" vel="0.5"/>
            </Notes>
          </Clip>
          <Clip time="16.0" duration="2.0" reference="id23"/>
          <Clip time="20.0" duration="2.0" contentTimeUnit="seconds" playStart="0.5">
            <Lanes>
              <Notes>
                <Note time="0.25" duration="0.25" channel="0" key="72" vel="0.25"/>
                <Note time="0.5" duration="0.25" channel="0" key="72" vel="0.25"/>
              </Notes>
            </Lanes>
          </Clip>
        </Clips>
      </Lanes>
    </Lanes>
  </Arrangement>
</Project>
"""


def test_a_bitwig_style_notes_clip_in_beats_reads_as_a_midi_clip() -> None:
    imported = read_project(BITWIG_NOTES)
    (track,) = imported.tracks
    assert (track.kind.value, track.instrument, track.clips) == ("midi", 0, ())
    looped, alias, in_seconds = track.midi_clips
    # 90 bpm: a beat is 2/3 s. The clip loops its first 4 beats twice; the note at beat
    # 5 lies past the loop's end and is never heard; a note without vel plays at 100.
    assert (looped.start_s, looped.duration_s) == pytest.approx((8 / 3, 16 / 3))
    assert [(n.pitch, n.velocity) for n in looped.notes] == [(65, 100), (53, 127), (60, 100)] * 2
    assert [n.start_beats for n in looped.notes] == pytest.approx([0.0, 1.5, 3.75, 4.0, 5.5, 7.75])
    assert [n.length_beats for n in looped.notes] == pytest.approx([0.25, 2.5, 0.5] * 2)
    # An alias of the notes for 2 beats: the notes that start in them, at full length.
    assert (alias.start_s, alias.duration_s) == pytest.approx((32 / 3, 4 / 3))
    assert [n.pitch for n in alias.notes] == [65, 53]
    assert [(n.start_beats, n.length_beats) for n in alias.notes] == [
        pytest.approx((0.0, 0.25)),
        pytest.approx((1.5, 2.5)),
    ]
    # Content in seconds, from 0.5 s in: the note at 0.25 s comes before it.
    (note,) = in_seconds.notes
    assert (note.start_beats, note.length_beats, note.velocity) == pytest.approx((0.0, 0.375, 32))
    document = create_document()
    apply_import(document, imported, {})
    (written,) = document.tracks_in_order()
    assert [len(clip.notes) for clip in written.midi_clips] == [6, 2, 1]


# --------------------------------------------------------------------------- hostile files

Archive = Callable[[Path], None]


def zipped(*members: tuple[str, bytes]) -> Archive:
    def write(path: Path) -> None:
        with warnings.catch_warnings(), zipfile.ZipFile(path, "w") as archive:
            warnings.simplefilter("ignore")  # zipfile warns of a name written twice
            for name, data in members:
                archive.writestr(name, data)

    return write


def many_members(path: Path) -> None:
    with zipfile.ZipFile(path, "w") as archive:
        for index in range(DEFAULT_MAX_MEMBERS + 1):
            archive.writestr(f"m{index}", b"")


MINIMAL = b'<Project version="1.0"><Application name="x" version="1"/></Project>'
LAUGHS = b"""<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">
<!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">]>
<Project version="1.0">&lol2;</Project>"""


@pytest.mark.parametrize(
    ("archive", "message"),
    [
        (zipped(("project.xml", MINIMAL), ("../x.wav", b"RIFF")), "leads out"),
        (zipped(("project.xml", MINIMAL), ("audio/../../x", b"")), "leads out"),
        (zipped(("project.xml", MINIMAL), ("/etc/x", b"")), "absolute"),
        (zipped(("project.xml", MINIMAL), ("C:\\x.wav", b"")), "absolute"),
        (zipped(("project.xml", MINIMAL), ("project.xml", MINIMAL)), "twice"),
        (many_members, "at most"),
        (lambda path: path.write_bytes(b"not a zip at all"), "not a zip"),
        (zipped(("metadata.xml", b"<MetaData/>")), "no project.xml"),
        (zipped(("project.xml", b"<Project version='1.0'><Structure>")), "not well-formed"),
        (zipped(("project.xml", LAUGHS)), "document type"),
        (zipped(("project.xml", b"<html><body/></html>")), "not a DAWproject"),
        (zipped(("project.xml", b'<Project version="2.0"/>')), "not supported"),
        (zipped(("project.xml", b"<Project version='1.0'/>" + b" " * 5000)), "more than"),
    ],
)
def test_hostile_or_broken_archives_are_refused(
    tmp_path: Path, archive: Archive, message: str
) -> None:
    path = tmp_path / "hostile.dawproject"
    archive(path)
    with pytest.raises(DawProjectError, match=message):
        import_dawproject(path, tmp_path / "out", max_total_bytes=4096)
    assert not (tmp_path / "x.wav").exists()
    assert not (tmp_path / "out").exists()


def project_xml(structure: str, lanes: str = "", extra: str = "") -> bytes:
    return (
        f'<Project version="1.0"><Application name="x" version="1"/>'
        f"<Structure>{structure}</Structure><Arrangement>"
        f'<Lanes timeUnit="seconds">{lanes}</Lanes></Arrangement>{extra}</Project>'
    ).encode()


ALIAS = '<Clip time="0" duration="1" reference="{}"/>'


@pytest.mark.parametrize(
    ("xml", "message"),
    [
        (project_xml('<Track id="t"/>' * 1001), "more than 1000 tracks"),
        (project_xml("<Track>" * 40 + "</Track>" * 40), "nested more than"),
        (project_xml("", "<Lanes>" * 40 + "</Lanes>" * 40), "nested more than"),
        # An alias clip playing the timeline it sits in.
        (
            project_xml('<Track id="t"/>', f'<Clips track="t" id="c">{ALIAS.format("c")}</Clips>'),
            "nested more than",
        ),
        # Ten aliases of ten aliases of ... : exponential work, stopped early.
        (
            project_xml(
                '<Track id="t"/>',
                f'<Clips track="t">{ALIAS.format("c0")}</Clips>',
                "".join(
                    f'<Clips id="c{k}">{ALIAS.format(f"c{k + 1}") * 10}</Clips>' for k in range(12)
                ),
            ),
            "over 250000 times",
        ),
    ],
)
def test_projects_past_the_import_limits_are_refused(xml: bytes, message: str) -> None:
    with pytest.raises(DawProjectError, match=message):
        read_project(xml)


@pytest.mark.parametrize("content", ["<Clips/>", '<Clips><Clip time="5" duration="1"/></Clips>'])
def test_a_loop_of_nothing_repeated_400_billion_times_reads_as_nothing(content: str) -> None:
    """A region of 0.2 us looped over a day is 4.3e11 passes of nothing: read at once,
    with no list of its passes (a CI run once died of this)."""
    clip = f'<Clip time="0" duration="86000" loopStart="0" loopEnd="2e-7">{content}</Clip>'
    xml = project_xml('<Track id="t"/>', f'<Clips track="t">{clip}</Clips>')
    (track,) = read_project(xml).tracks
    assert track.clips == ()


def looped_notes(notes: int, loops: int) -> bytes:
    """One clip looping a beat of ``notes`` notes ``loops`` times."""
    lane = "".join(f'<Note time="{k / notes}" duration="0.01" key="60"/>' for k in range(notes))
    clip = (
        f'<Clip time="0" duration="{loops}" loopStart="0" loopEnd="1"><Notes>{lane}</Notes></Clip>'
    )
    return project_xml('<Track id="t" contentType="notes"/>', f'<Clips track="t">{clip}</Clips>')


@pytest.mark.parametrize(
    ("xml", "message"),
    [
        (looped_notes(notes=100, loops=MAX_NOTES // 100 + 1), f"more than {MAX_NOTES} notes"),
        (looped_notes(notes=10, loops=2_001), "a clip holds more than 20000 notes"),
    ],
)
def test_too_many_notes_are_refused(xml: bytes, message: str) -> None:
    with pytest.raises(DawProjectError, match=message):
        read_project(xml)
    (track,) = read_project(looped_notes(notes=10, loops=2_000)).tracks
    assert len(track.midi_clips[0].notes) == 20_000


def test_audio_inflating_past_the_budget_is_refused(tmp_path: Path) -> None:
    clip = (
        b'<Project version="1.0"><Application name="x" version="1"/><Structure>'
        b'<Track id="t"/></Structure><Arrangement><Lanes timeUnit="seconds"><Clips track="t">'
        b'<Clip time="0" duration="1"><Audio channels="1" sampleRate="8000" duration="1">'
        b'<File path="bomb.wav"/></Audio></Clip></Clips></Lanes></Arrangement></Project>'
    )
    path = tmp_path / "bomb.dawproject"
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("project.xml", clip)
        archive.writestr("bomb.wav", bytes(8 * 1024**2))  # 8 MB of zeros deflate to 8 kB
    path.write_bytes(buffer.getvalue())
    assert path.stat().st_size < 64 * 1024
    with pytest.raises(DawProjectError, match="max_total_bytes"):
        import_dawproject(path, tmp_path / "out", max_total_bytes=1024**2)
    imported: ImportedProject = import_dawproject(path, tmp_path / "out")
    assert imported.audio["bomb.wav"].stat().st_size == 8 * 1024**2


# --------------------------------------------------------------------------- any clip

numbers = st.one_of(
    st.none(),
    st.floats(min_value=-4.0, max_value=64.0),
    st.floats(allow_nan=False, allow_infinity=False),
    st.sampled_from(["0", "1e-300", "1e308", "-1e308", "inf", "nan", "x"]),
)
small = st.floats(min_value=0.0, max_value=16.0)
likely = st.one_of(small, small, small, numbers)  # mostly a clip that plays
sometimes = st.one_of(st.none(), likely)
units = st.sampled_from([None, "beats", "seconds", "bars"])
CLIP_ATTRIBUTES = "time duration playStart playStop loopStart loopEnd fadeInTime fadeOutTime"
CONTENT = {
    "audio": "{audio}",
    "warps": '<Warps contentTimeUnit="seconds"{unit}>{audio}<Warp time="0" contentTime="0"/>'
    '<Warp time="{a}" contentTime="{b}"/></Warps>',
    "gain": '<Lanes><Points unit="decibel"><Target expression="gain"/>'
    '<RealPoint time="0" value="{a}"/></Points>{audio}</Lanes>',
    "nested": '<Clips><Clip time="{a}" duration="{b}" playStart="{a}">{audio}</Clip></Clips>',
    "notes": '<Notes{unit}><Note time="{a}" duration="{b}" key="60" vel="{a}"/>'
    '<Note time="0" duration="{a}" key="{b}" vel="{b}"/></Notes>',
}


def attributes(values: dict[str, object]) -> str:
    return "".join(f' {name}="{value}"' for name, value in values.items() if value is not None)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    bpm=numbers,
    arrangement_unit=units,
    clip=st.fixed_dictionaries(
        {n: likely if n in ("time", "duration") else sometimes for n in CLIP_ATTRIBUTES.split()}
    ),
    clip_units=st.fixed_dictionaries({n: units for n in ("contentTimeUnit", "fadeTimeUnit")}),
    content=st.sampled_from(sorted(CONTENT)),
    inner=st.tuples(likely, likely, units),
    points=st.lists(st.tuples(likely, likely, st.sampled_from(["linear", "hold", None]))),
    unit=st.sampled_from(["linear", "decibel", "normalized", "percent", None]),
)
def test_any_clip_or_point_imports_as_values_the_document_takes(
    bpm: object,
    arrangement_unit: str | None,
    clip: dict[str, object],
    clip_units: dict[str, str | None],
    content: str,
    inner: tuple[object, object, str | None],
    points: list[tuple[object, object, str | None]],
    unit: str | None,
) -> None:
    """Whatever numbers and units a clip or lane holds, the import either refuses the
    file with its error or yields values the document's writers accept."""
    audio = '<Audio channels="1" sampleRate="8000" duration="1"><File path="a.wav"/></Audio>'
    body = CONTENT[content].format(
        audio=audio, a=inner[0], b=inner[1], unit=attributes({"timeUnit": inner[2]})
    )
    lane = "".join(
        f"<RealPoint{attributes({'time': t, 'value': v, 'interpolation': i})}/>"
        for t, v, i in points
    )
    xml = (
        f'<Project version="1.0"><Application name="fuzz" version="1"/><Transport>'
        f'<Tempo unit="bpm"{attributes({"value": bpm})}/></Transport><Structure>'
        f'<Track id="t"><Channel><Volume id="v" unit="linear" value="1"/></Channel></Track>'
        f"</Structure><Arrangement><Lanes{attributes({'timeUnit': arrangement_unit})}>"
        f'<Clips track="t"><Clip{attributes({**clip, **clip_units})}>{body}</Clip></Clips>'
        f'<Points{attributes({"unit": unit})}><Target parameter="v"/>{lane}</Points>'
        f"</Lanes></Arrangement></Project>"
    )
    try:
        imported = read_project(xml.encode(), members={"a.wav"})
    except DawProjectError as exc:
        refused = str(exc)
    else:
        apply_import(create_document(), imported, {"a.wav": "asset"})
        return
    # Only loops past the clip or note limits may refuse the file.
    assert "clips" in refused or "notes" in refused


@pytest.mark.parametrize(
    ("vel", "velocity"),
    [(None, 100), (0.5, 64), (1.0, 127), (0.0, 1), (-1e308, 1), (1e308, 127), (math.inf, 100)],
)
def test_any_normalized_velocity_is_a_midi_velocity(vel: float | None, velocity: int) -> None:
    """Found by the fuzz test: -1e308 * 127 overflowed to -inf, which round() refuses."""
    assert velocity_from_normalized(vel) == velocity
