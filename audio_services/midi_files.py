"""MIDI tracks to and from Standard MIDI Files (``.mid``), with ``mido``.

Import: each track of the file that holds notes becomes one MIDI track of one clip
from 0 s, its notes in beats (ticks over the file's ticks per beat: beats survive any
tempo), its instrument the track's first program change, its name the track's name.
The file's first tempo becomes the song's (a tempo map is not kept: later tempo
changes are dropped, and the import says so). Drum parts (channel 10) are imported
like the others, as notes of the instrument chosen for the track.

Export: a type-1 file at 480 ticks per beat: a tempo and time-signature track, then
one track per MIDI track with its program and every note of its clips (a clip's
start turned into beats with the song's tempo; notes past a clip's end are cut).
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from jacameno.audio_services.errors import AudioDecodeError, AudioLimitError

__all__ = ["MidiImport", "MidiPart", "read_midi_file", "write_midi_file"]

TICKS_PER_BEAT = 480
#: Notes one imported file may hold, and its largest size in bytes.
MAX_NOTES = 100_000
MAX_FILE_BYTES = 8 * 1024 * 1024


@dataclass(frozen=True, slots=True)
class MidiPart:
    """One imported track: its notes as ``{pitch, velocity, start_beats, length_beats}``."""

    name: str
    instrument: int
    notes: tuple[dict[str, float], ...]

    @property
    def length_beats(self) -> float:
        return max((n["start_beats"] + n["length_beats"] for n in self.notes), default=0.0)


@dataclass(frozen=True, slots=True)
class MidiImport:
    bpm: float | None
    time_signature: str | None
    parts: tuple[MidiPart, ...]
    #: What the import could not keep (later tempo changes, ...).
    notes: tuple[str, ...] = field(default=())


def _mido() -> Any:
    import mido  # type: ignore[import-untyped]

    return mido


def read_midi_file(path: str | os.PathLike[str]) -> MidiImport:
    """The parts of a Standard MIDI File (see the module doc).

    Raises :class:`AudioDecodeError` for a file that is not MIDI, and
    :class:`AudioLimitError` for one too large or with too many notes.
    """
    path = Path(path)
    if path.stat().st_size > MAX_FILE_BYTES:
        raise AudioLimitError(f"a MIDI file may be {MAX_FILE_BYTES // 1_048_576} MB at most")
    mido = _mido()
    try:
        midi = mido.MidiFile(path)
    except (OSError, EOFError, ValueError, KeyError, IndexError, TypeError) as exc:
        raise AudioDecodeError(f"not a readable MIDI file: {exc or 'truncated'}") from exc
    ticks = float(midi.ticks_per_beat or TICKS_PER_BEAT)
    tempos: list[int] = []
    signature: str | None = None
    parts: list[MidiPart] = []
    total = 0
    for index, track in enumerate(midi.tracks):
        now = 0
        name, program = "", 0
        programs: list[int] = []
        sounding: dict[tuple[int, int], tuple[int, int]] = {}
        notes: list[dict[str, float]] = []
        for message in track:
            now += int(message.time)
            if message.type == "set_tempo":
                tempos.append(int(message.tempo))
            elif message.type == "time_signature" and signature is None:
                signature = f"{message.numerator}/{message.denominator}"
            elif message.type == "track_name":
                name = str(message.name)
            elif message.type == "program_change":
                programs.append(int(message.program))
            elif message.type in ("note_on", "note_off"):
                voice = (message.channel, message.note)
                if message.type == "note_on" and message.velocity > 0:
                    sounding.setdefault(voice, (now, int(message.velocity)))
                elif voice in sounding:
                    start, velocity = sounding.pop(voice)
                    if now > start:
                        notes.append(
                            {
                                "pitch": float(message.note),
                                "velocity": float(velocity),
                                "start_beats": start / ticks,
                                "length_beats": (now - start) / ticks,
                            }
                        )
        total += len(notes)
        if total > MAX_NOTES:
            raise AudioLimitError(f"a MIDI file may hold {MAX_NOTES} notes at most")
        if notes:
            program = programs[0] if programs else 0
            notes.sort(key=lambda note: (note["start_beats"], note["pitch"]))
            parts.append(MidiPart(name.strip() or f"MIDI {index + 1}", program, tuple(notes)))
    remarks: tuple[str, ...] = ()
    if len(set(tempos)) > 1:
        remarks = ("the file changes tempo; the song keeps its first tempo",)
    bpm = round(60_000_000 / tempos[0], 3) if tempos else None
    return MidiImport(bpm, signature, tuple(parts), remarks)


def write_midi_file(
    tracks: Sequence[Mapping[str, Any]],
    *,
    bpm: float,
    time_signature: str,
    path: str | os.PathLike[str],
) -> int:
    """Write the MIDI ``tracks`` (``name``, ``instrument``, ``clips`` with ``start_s``,
    ``duration_s`` and ``notes``) as a type-1 file; returns the notes written."""
    mido = _mido()
    midi = mido.MidiFile(type=1, ticks_per_beat=TICKS_PER_BEAT)
    numerator, _, denominator = time_signature.partition("/")
    meta = mido.MidiTrack(
        [
            mido.MetaMessage("set_tempo", tempo=mido.bpm2tempo(bpm), time=0),
            mido.MetaMessage(
                "time_signature", numerator=int(numerator), denominator=int(denominator), time=0
            ),
        ]
    )
    midi.tracks.append(meta)
    written = 0
    for channel_index, track in enumerate(tracks):
        channel = channel_index % 16 if channel_index % 16 != 9 else 15  # 10 is for drums
        events: list[tuple[int, int, int, int]] = []  # tick, order (offs first), pitch, velocity
        for clip in track.get("clips") or ():
            clip_start = float(clip["start_s"]) * bpm / 60.0
            clip_end = clip_start + float(clip["duration_s"]) * bpm / 60.0
            for note in clip.get("notes") or ():
                on = clip_start + float(note["start_beats"])
                off = min(on + float(note["length_beats"]), clip_end)
                if on >= clip_end or off <= on:
                    continue
                pitch, velocity = int(note["pitch"]), int(note.get("velocity", 100))
                events.append((round(on * TICKS_PER_BEAT), 1, pitch, velocity))
                events.append((round(off * TICKS_PER_BEAT), 0, pitch, 0))
                written += 1
        events.sort()
        messages = [
            mido.MetaMessage("track_name", name=str(track.get("name") or "MIDI"), time=0),
            mido.Message(
                "program_change", channel=channel, program=int(track.get("instrument") or 0), time=0
            ),
        ]
        now = 0
        for tick, is_on, pitch, velocity in events:
            kind = "note_on" if is_on else "note_off"
            messages.append(
                mido.Message(kind, channel=channel, note=pitch, velocity=velocity, time=tick - now)
            )
            now = tick
        midi.tracks.append(mido.MidiTrack(messages))
    midi.save(str(path))
    return written
