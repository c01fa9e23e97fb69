"""Note names and MIDI note numbers: the one pitch-name table, and reference notes.

MIDI numbers follow the General MIDI convention, A4 = 440 Hz = 69 and
C4 (middle C) = 60, so octave ``n`` starts at ``12 * (n + 1)``. Names are a
letter, an optional accidental (``#`` sharp, ``b`` flat) and, for notes, an
octave: ``"A4"``, ``"C#5"``, ``"Eb3"``. Printed names use
:data:`PITCH_CLASS_NAMES`, the spelling a singer reads most often (sharps for
C# and F#, flats for Eb, Ab and Bb).

Reference melodies in text files (:func:`read_note_list`) name their notes
either way; MIDI files are read by :mod:`audio_services.midi`.
"""

from __future__ import annotations

import math
import os
import re
from dataclasses import dataclass
from pathlib import Path

from jacameno.audio_services.errors import AudioDecodeError

__all__ = [
    "PITCH_CLASS_NAMES",
    "ReferenceNote",
    "midi_to_name",
    "note_to_midi",
    "pitch_class",
    "read_note_list",
]

PITCH_CLASS_NAMES = ("C", "C#", "D", "Eb", "E", "F", "F#", "G", "Ab", "A", "Bb", "B")
"""Name of each pitch class, C = 0 to B = 11."""

MIDI_RANGE = (0.0, 127.0)

_LETTERS = {"C": 0, "D": 2, "E": 4, "F": 5, "G": 7, "A": 9, "B": 11}
_ACCIDENTALS = {"#": 1, "b": -1, "": 0}
_PITCH_CLASS = re.compile(r"^([A-Ga-g])([#b]?)$")
_NOTE_NAME = re.compile(r"^([A-Ga-g])([#b]?)(-?\d+)$")
_COMMENT = re.compile(r"(^|\s)#.*$")  # but not the sharp in "C#5"


@dataclass(frozen=True, slots=True)
class ReferenceNote:
    """A target note: MIDI number (fractional allowed) from ``start_s`` to ``end_s``."""

    start_s: float
    end_s: float
    midi: float


def midi_to_name(midi: float) -> str:
    """Nearest note name with octave, e.g. 69.2 -> "A4"."""
    number = round(midi)
    return f"{PITCH_CLASS_NAMES[number % 12]}{number // 12 - 1}"


def pitch_class(name: str) -> int:
    """A pitch-class name without octave ("C", "F#", "Eb") as 0 (C) to 11 (B).

    Raises:
        ValueError: not a letter A-G with an optional ``#`` or ``b``.
    """
    match = _PITCH_CLASS.match(name.strip())
    if not match:
        raise ValueError(f"a pitch class is a letter A-G and an optional # or b, got {name!r}")
    letter, accidental = match.groups()
    return (_LETTERS[letter.upper()] + _ACCIDENTALS[accidental]) % 12


def note_to_midi(text: str) -> float:
    """A note name ("A4", "C#5", "Eb3") or MIDI number ("69", "69.5") as a MIDI number.

    Raises:
        ValueError: neither a note name nor a number, or outside MIDI's 0-127.
    """
    match = _NOTE_NAME.match(text.strip())
    if match:
        letter, accidental, octave = match.groups()
        number = float(12 * (int(octave) + 1) + _LETTERS[letter.upper()])
        number += _ACCIDENTALS[accidental]
    else:
        try:
            number = float(text)
        except ValueError:
            raise ValueError(
                f"a note is a name such as A4, C#5 or Eb3, or a MIDI number, got {text!r}"
            ) from None
    low, high = MIDI_RANGE
    if not low <= number <= high:  # also refuses NaN
        raise ValueError(f"MIDI note {text.strip()} is outside 0-127")
    return number


def read_note_list(path: str | os.PathLike[str]) -> list[ReferenceNote]:
    """Reference notes from a text file: ``start_s, end_s, note`` per line.

    Commas or whitespace separate the fields; ``note`` is a MIDI number or a
    name such as ``A4`` (:func:`note_to_midi`); blank lines, ``#`` comments
    (at the start of a line or after a space) and a header line are skipped.

    Raises:
        AudioDecodeError: a line that is not ``start_s, end_s, note`` with
            ``0 <= start_s < end_s``, naming the file and line.
        OSError: the file cannot be read.
    """
    path = Path(path)
    notes = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        fields = _COMMENT.sub("", line).replace(",", " ").split()
        if not fields or (number == 1 and not _is_number(fields[0])):
            continue
        try:
            start_s, end_s, midi = float(fields[0]), float(fields[1]), note_to_midi(fields[2])
        except (IndexError, ValueError):
            raise AudioDecodeError(
                f"{path}:{number}: expected 'start_s, end_s, note' (note: 69 or A4), got {line!r}"
            ) from None
        if not 0.0 <= start_s < end_s or not math.isfinite(end_s):
            raise AudioDecodeError(f"{path}:{number}: a note must end after it starts, at >= 0 s")
        notes.append(ReferenceNote(start_s, end_s, midi))
    return notes


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True
