"""Reference melodies for coaching read from files: note lists, MIDI and guide recordings."""

from __future__ import annotations

from pathlib import Path

import pytest

from jacameno.audio_services.audio_io import write_audio
from jacameno.audio_services.coaching import reference_from_file
from jacameno.audio_services.errors import AudioDecodeError
from jacameno.audio_services.notes import ReferenceNote
from tests.audio_services.test_coaching import RATE, sing

MELODY = [(0.3, 0.9, 60.0), (1.0, 1.6, 62.0), (1.7, 2.4, 64.0)]


def test_a_note_list_by_its_extension(tmp_path: Path) -> None:
    path = tmp_path / "melody.CSV"
    path.write_text("start_s, end_s, note\n0.3, 0.9, C4\n1.0, 1.6, 62\n")
    assert reference_from_file(path) == [
        ReferenceNote(0.3, 0.9, 60.0),
        ReferenceNote(1.0, 1.6, 62.0),
    ]


def test_a_midi_file_by_its_extension(tmp_path: Path) -> None:
    mido = pytest.importorskip("mido")
    midi = mido.MidiFile(ticks_per_beat=480)  # 120 BPM: 960 ticks a second
    track = mido.MidiTrack()
    midi.tracks.append(track)
    track.append(mido.Message("note_on", note=69, velocity=90, time=480))
    track.append(mido.Message("note_off", note=69, velocity=0, time=960))
    midi.save(tmp_path / "melody.midi")
    assert reference_from_file(tmp_path / "melody.midi") == [ReferenceNote(0.5, 1.5, 69.0)]


def test_a_guide_recording_is_tracked(tmp_path: Path) -> None:
    samples, _ = sing(MELODY, vibrato_cents=0.0)
    write_audio(tmp_path / "guide.flac", samples[None, :], RATE, format="FLAC")
    notes = reference_from_file(tmp_path / "guide.flac")
    assert [round(note.midi) for note in notes] == [60, 62, 64]
    for note, (start_s, end_s, _) in zip(notes, MELODY, strict=True):
        assert note.start_s == pytest.approx(start_s, abs=0.06)
        assert note.end_s == pytest.approx(end_s, abs=0.1)


@pytest.mark.parametrize("name", ["missing.mid", "missing.txt"])
def test_a_missing_file_is_a_decode_error(tmp_path: Path, name: str) -> None:
    with pytest.raises(AudioDecodeError, match="no such file"):
        reference_from_file(tmp_path / name)


def test_a_file_without_notes_is_a_decode_error(tmp_path: Path) -> None:
    path = tmp_path / "empty.txt"
    path.write_text("# nothing to sing yet\n")
    with pytest.raises(AudioDecodeError, match="holds no notes"):
        reference_from_file(path)
