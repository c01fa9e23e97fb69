"""Note names, MIDI numbers, pitch classes and note-list files."""

from __future__ import annotations

from pathlib import Path

import pytest

from jacameno.audio_services import intonation, key, notes, pitch
from jacameno.audio_services.errors import AudioDecodeError
from jacameno.audio_services.intonation import parse_key
from jacameno.audio_services.notes import (
    PITCH_CLASS_NAMES,
    ReferenceNote,
    midi_to_name,
    note_to_midi,
    pitch_class,
    read_note_list,
)


def test_one_pitch_name_table_serves_every_module() -> None:
    assert key.PITCH_CLASS_NAMES is notes.PITCH_CLASS_NAMES
    assert pitch.midi_to_name is notes.midi_to_name
    assert intonation.ReferenceNote is notes.ReferenceNote
    assert len(set(PITCH_CLASS_NAMES)) == 12


@pytest.mark.parametrize(
    ("text", "midi"),
    [
        ("A4", 69.0),
        ("C4", 60.0),
        ("C#5", 73.0),
        ("Eb3", 51.0),
        ("bb2", 46.0),
        ("C-1", 0.0),
        ("G9", 127.0),
        ("69", 69.0),
        ("69.5", 69.5),
        (" 60 ", 60.0),
    ],
)
def test_note_names_and_numbers_read_as_midi(text: str, midi: float) -> None:
    assert note_to_midi(text) == midi


@pytest.mark.parametrize("text", ["H4", "A", "C##4", "A4.5", "128", "-1", "nan", "", "A#10"])
def test_other_text_is_not_a_note(text: str) -> None:
    with pytest.raises(ValueError, match="note"):
        note_to_midi(text)


def test_names_and_numbers_round_trip_over_the_midi_range() -> None:
    for number in range(128):
        assert note_to_midi(midi_to_name(number)) == number
    assert midi_to_name(69.2) == "A4"
    assert midi_to_name(68.6) == "A4"
    assert [midi_to_name(60 + step) for step in range(12)] == [
        f"{name}4" for name in PITCH_CLASS_NAMES
    ]


def test_pitch_classes_take_sharps_and_flats() -> None:
    assert [pitch_class(name) for name in PITCH_CLASS_NAMES] == list(range(12))
    assert pitch_class("Db") == pitch_class("C#") == 1
    assert pitch_class("Cb") == 11
    assert pitch_class("B#") == 0
    with pytest.raises(ValueError, match="letter A-G"):
        pitch_class("H")


@pytest.mark.parametrize(
    ("text", "tonic", "mode"),
    [
        ("A minor", 9, "minor"),
        ("Eb major", 3, "major"),
        ("EB maj", 3, "major"),
        ("f# min", 6, "minor"),
        ("bb minor", 10, "minor"),
    ],
)
def test_keys_name_their_tonic_with_the_same_table(text: str, tonic: int, mode: str) -> None:
    assert parse_key(text) == (tonic, mode)


@pytest.mark.parametrize("text", ["H minor", "A", "A minor key", "A dorian", "A# # minor"])
def test_other_keys_are_refused(text: str) -> None:
    with pytest.raises(ValueError, match="must"):
        parse_key(text)


def test_note_lists_take_numbers_and_names(tmp_path: Path) -> None:
    path = tmp_path / "notes.txt"
    path.write_text("# a comment\n0.5 1.0 A4\n\n1.0\t1.5\tC#5  # sharp\n1.5,2,Eb3\n2 2.5 69.5\n")
    assert read_note_list(path) == [
        ReferenceNote(0.5, 1.0, 69.0),
        ReferenceNote(1.0, 1.5, 73.0),
        ReferenceNote(1.5, 2.0, 51.0),
        ReferenceNote(2.0, 2.5, 69.5),
    ]


def test_a_header_line_is_skipped(tmp_path: Path) -> None:
    path = tmp_path / "melody.csv"
    path.write_text("start_s, end_s, note\n0, 0.5, 60\n")
    assert read_note_list(path) == [ReferenceNote(0.0, 0.5, 60.0)]


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("0.5 1.0", "expected 'start_s, end_s, note'"),
        ("0.5 1.0 H4", "expected 'start_s, end_s, note'"),
        ("0.5 1.0 200", "expected 'start_s, end_s, note'"),
        ("1.0 0.5 A4", "must end after it starts"),
        ("-1 0.5 A4", "must end after it starts"),
    ],
)
def test_bad_lines_name_the_file_and_line(tmp_path: Path, line: str, message: str) -> None:
    path = tmp_path / "notes.txt"
    path.write_text(f"0 0.5 A4\n{line}\n")
    with pytest.raises(AudioDecodeError, match=message) as caught:
        read_note_list(path)
    assert f"{path}:2:" in str(caught.value)
