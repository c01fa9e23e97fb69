"""Reference melodies from Standard MIDI Files, read with ``mido``.

Every track and channel is read, with the file's tempo map applied (``mido``
converts ticks to seconds as it plays the merged tracks back). A note sounds
from its ``note_on`` (velocity above 0) to the next ``note_off`` (or
``note_on`` at velocity 0) of the same key on the same channel; a retriggered
key that is still sounding keeps its first start, and notes of no duration
are dropped.
"""

from __future__ import annotations

import os
from pathlib import Path

from jacameno.audio_services.errors import AudioDecodeError
from jacameno.audio_services.notes import ReferenceNote

__all__ = ["MIDI_SUFFIXES", "read_midi_notes"]

#: File name endings read as Standard MIDI Files.
MIDI_SUFFIXES = (".mid", ".midi")


def read_midi_notes(path: str | os.PathLike[str]) -> list[ReferenceNote]:
    """Reference notes from a Standard MIDI File, in order of their start (seconds).

    Raises:
        AudioDecodeError: the file is truncated or not MIDI.
        ModuleNotFoundError: ``mido`` is not installed (the message says how to fix it).
    """
    path = Path(path)
    try:
        import mido  # type: ignore[import-untyped]
    except ImportError as exc:
        message = "MIDI references need mido: pip install mido"
        raise ModuleNotFoundError(message, name="mido") from exc
    try:
        messages = list(mido.MidiFile(path))
    except (OSError, EOFError, ValueError, KeyError, IndexError, TypeError) as exc:
        detail = str(exc) or "truncated or not MIDI"
        raise AudioDecodeError(f"{path}: not a readable MIDI file: {detail}") from exc
    notes: list[ReferenceNote] = []
    sounding: dict[tuple[int, int], float] = {}
    now_s = 0.0
    for message in messages:
        now_s += float(message.time)
        if message.type not in ("note_on", "note_off"):
            continue
        voice = (message.channel, message.note)
        if message.type == "note_on" and message.velocity > 0:
            sounding.setdefault(voice, now_s)
        elif voice in sounding:
            start_s = sounding.pop(voice)
            if now_s > start_s:
                notes.append(ReferenceNote(round(start_s, 6), round(now_s, 6), float(voice[1])))
    return sorted(notes, key=lambda note: note.start_s)
