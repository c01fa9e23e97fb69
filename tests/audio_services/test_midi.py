"""Reference melodies read from Standard MIDI Files."""

from __future__ import annotations

from pathlib import Path

import pytest

from jacameno.audio_services.errors import AudioDecodeError
from jacameno.audio_services.midi import read_midi_notes
from jacameno.audio_services.notes import ReferenceNote

mido = pytest.importorskip("mido")

TICKS_PER_BEAT = 480


def _track(*events: tuple[int, str, dict[str, int]]) -> object:
    """A track of ``(absolute tick, message type, fields)``; meta messages by type name."""
    track = mido.MidiTrack()
    now = 0
    for tick, kind, fields in events:
        if kind == "set_tempo":
            track.append(mido.MetaMessage(kind, time=tick - now, **fields))
        else:
            track.append(mido.Message(kind, time=tick - now, **fields))
        now = tick
    return track


def _save(path: Path, *tracks: object) -> Path:
    midi = mido.MidiFile(ticks_per_beat=TICKS_PER_BEAT)
    midi.tracks.extend(tracks)
    midi.save(path)
    return path


def test_notes_follow_the_tempo_map(tmp_path: Path) -> None:
    # 120 BPM for the first beat (0.5 s), then 60 BPM (1 s a beat).
    tempo = _track(
        (0, "set_tempo", {"tempo": mido.bpm2tempo(120)}),
        (480, "set_tempo", {"tempo": mido.bpm2tempo(60)}),
    )
    melody = _track(
        (0, "note_on", {"note": 60, "velocity": 90}),
        (480, "note_off", {"note": 60, "velocity": 0}),
        (480, "note_on", {"note": 64, "velocity": 90}),
        (960, "note_off", {"note": 64, "velocity": 0}),
    )
    notes = read_midi_notes(_save(tmp_path / "tempo.mid", tempo, melody))
    assert notes == [ReferenceNote(0.0, 0.5, 60.0), ReferenceNote(0.5, 1.5, 64.0)]


def test_every_channel_and_track_is_read_in_time_order(tmp_path: Path) -> None:
    lead = _track(
        (480, "note_on", {"note": 67, "velocity": 80, "channel": 0}),
        (960, "note_on", {"note": 67, "velocity": 0, "channel": 0}),  # velocity 0 ends it
    )
    second = _track(
        (0, "note_on", {"note": 55, "velocity": 80, "channel": 1}),
        (240, "note_on", {"note": 55, "velocity": 80, "channel": 1}),  # retriggered: kept
        (720, "note_off", {"note": 55, "velocity": 0, "channel": 1}),
        (720, "note_on", {"note": 57, "velocity": 80, "channel": 1}),
        (720, "note_off", {"note": 57, "velocity": 0, "channel": 1}),  # no duration: dropped
    )
    notes = read_midi_notes(_save(tmp_path / "two.mid", lead, second))
    # The default tempo is 120 BPM: a beat of 480 ticks lasts 0.5 s.
    assert notes == [ReferenceNote(0.0, 0.75, 55.0), ReferenceNote(0.5, 1.0, 67.0)]


@pytest.mark.parametrize("content", [b"", b"MThd\x00\x00\x00\x06\x00", b"RIFF not midi at all"])
def test_unreadable_files_are_decode_errors(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "broken.mid"
    path.write_bytes(content)
    with pytest.raises(AudioDecodeError, match="not a readable MIDI file") as caught:
        read_midi_notes(path)
    assert str(path) in str(caught.value)
