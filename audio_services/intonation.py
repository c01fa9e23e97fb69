"""Intonation: what each sung note aimed at, and where the voice strayed from it.

A note's target is the reference note it overlaps most (moved by whole octaves
to the register sung: singing a melody an octave down is a register choice,
not a wrong note), or, without a reference, the nearest degree of the key's
scale (minor keys admit the raised seventh, the V chord's leading tone), or
without a key, the nearest equal-tempered semitone.

Deviation is judged on the pitch averaged over ``NOTE_CENTRE_WINDOW_S`` inside
each note, which cancels vibrato. Bands follow singing trainers
(audio-conformance.md): in tune within 15 cents, close to 35, noticeable to
50, off beyond.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np
import numpy.typing as npt
from scipy.ndimage import uniform_filter1d

from jacameno.audio_services.notes import ReferenceNote, pitch_class
from jacameno.audio_services.pitch import Note, PitchTrack

__all__ = [
    "Band",
    "OffPitchPassage",
    "ReferenceNote",
    "best_overlap",
    "intonation_band",
    "note_centres",
    "note_target",
    "off_pitch_passages",
    "parse_key",
    "scale_pitch_classes",
    "time_in_tune_percent",
]

FloatArray = npt.NDArray[np.float64]
Band = Literal["in_tune", "close", "noticeable", "off"]
Direction = Literal["flat", "sharp"]

# Two cycles of a 5.5 Hz vibrato: a moving mean over it cancels any vibrato
# between 5 and 7 Hz to within a tenth of its extent.
NOTE_CENTRE_WINDOW_S = 0.36
# In-tune blips shorter than this do not split a flat or sharp stretch.
FLAG_BRIDGE_S = 0.15

_MAJOR_SCALE = (0, 2, 4, 5, 7, 9, 11)
_MINOR_SCALE = (0, 2, 3, 5, 7, 8, 10, 11)


@dataclass(frozen=True, slots=True)
class OffPitchPassage:
    """A stretch, over one or more notes, whose centre pitch stayed off in one direction.

    ``cents`` is the median deviation over the stretch (negative: flat).
    """

    start_s: float
    end_s: float
    direction: Direction
    cents: float
    target_midis: tuple[float, ...]


def parse_key(key: str) -> tuple[int, Literal["major", "minor"]]:
    """``"A minor"``, ``"Eb major"``, ``"f# min"`` to (tonic pitch class, mode)."""
    parts = key.strip().split()
    usage = f"key must look like 'A minor' or 'Eb major', got {key!r}"
    if len(parts) != 2:
        raise ValueError(usage)
    try:
        # Any case reads: "EB major" and "bb minor" too (the flat sign is a lower-case b).
        tonic = pitch_class(parts[0][:1] + parts[0][1:].lower())
    except ValueError:
        raise ValueError(usage) from None
    mode = parts[1].lower()
    if mode in ("major", "maj"):
        return tonic, "major"
    if mode in ("minor", "min"):
        return tonic, "minor"
    raise ValueError(f"mode must be major or minor, got {parts[1]!r}")


def scale_pitch_classes(key: str | None) -> tuple[int, ...]:
    """Pitch classes of ``key``'s scale; all twelve without a key."""
    if key is None:
        return tuple(range(12))
    tonic, mode = parse_key(key)
    degrees = _MAJOR_SCALE if mode == "major" else _MINOR_SCALE
    return tuple(sorted((tonic + degree) % 12 for degree in degrees))


def intonation_band(cents: float) -> Band:
    size = abs(cents)
    if size <= 15.0:
        return "in_tune"
    if size <= 35.0:
        return "close"
    return "noticeable" if size <= 50.0 else "off"


def note_target(
    note: Note, reference: Sequence[ReferenceNote], scale: tuple[int, ...]
) -> float | None:
    """The MIDI pitch ``note`` aimed at; ``None`` if a reference is given but none overlaps."""
    if reference:
        ref = best_overlap(note, reference)
        if ref is None:
            return None
        return ref.midi + 12.0 * round((note.midi - ref.midi) / 12.0)
    octave = int(note.midi // 12)
    candidates = [12.0 * o + pc for o in range(octave - 1, octave + 2) for pc in scale]
    return min(candidates, key=lambda candidate: abs(candidate - note.midi))


def best_overlap(note: Note, reference: Sequence[ReferenceNote]) -> ReferenceNote | None:
    best, best_overlap_s = None, 0.0
    for ref in reference:
        overlap_s = min(note.end_s, ref.end_s) - max(note.start_s, ref.start_s)
        if overlap_s > best_overlap_s:
            best, best_overlap_s = ref, overlap_s
    return best


def note_centres(track: PitchTrack, notes: Sequence[Note]) -> FloatArray:
    """Per-frame pitch averaged over NOTE_CENTRE_WINDOW_S within each note, NaN elsewhere."""
    midi = track.midi
    centre = np.full(len(midi), np.nan)
    width = max(round(NOTE_CENTRE_WINDOW_S / track.time_step_s), 1)
    for note in notes:
        inside = _frames_of(track, note)
        values = midi[inside]
        valid = np.isfinite(values)
        if not valid.any():
            continue
        # A moving mean that skips unvoiced frames and shrinks at the note's edges,
        # so neighbouring notes never bleed into each other.
        sums = uniform_filter1d(np.where(valid, values, 0.0), width, mode="constant")
        counts = uniform_filter1d(valid.astype(np.float64), width, mode="constant")
        centre[inside] = np.where(valid, sums / np.maximum(counts, 1e-9), np.nan)
    return centre


def off_pitch_passages(
    track: PitchTrack,
    centre: FloatArray,
    notes: Sequence[Note],
    targets: Sequence[float | None],
    *,
    flag_cents: float,
    min_flag_s: float,
    merge_gap_s: float,
) -> list[OffPitchPassage]:
    """Stretches of at least ``min_flag_s`` over ``flag_cents`` off, merged across notes."""
    stretches: list[tuple[float, float, Direction, FloatArray, float]] = []
    bridge = round(FLAG_BRIDGE_S / track.time_step_s)
    half_step = track.time_step_s / 2
    for note, target in zip(notes, targets, strict=True):
        if target is None:
            continue
        frames = _frames_of(track, note)
        frames = frames[np.isfinite(centre[frames])]
        deviation = 100.0 * (centre[frames] - target)
        checks: tuple[tuple[Direction, npt.NDArray[np.bool_]], ...] = (
            ("flat", _close_gaps(deviation < -flag_cents, bridge)),
            ("sharp", _close_gaps(deviation > flag_cents, bridge)),
        )
        for direction, off in checks:
            for first, last in _runs(off):
                start_s = float(track.times_s[frames[first]]) - half_step
                end_s = float(track.times_s[frames[last - 1]]) + half_step
                if end_s - start_s >= min_flag_s:
                    stretches.append((start_s, end_s, direction, deviation[first:last], target))
    stretches.sort(key=lambda stretch: stretch[0])
    groups: list[list[tuple[float, float, Direction, FloatArray, float]]] = []
    for stretch in stretches:
        last_one = groups[-1][-1] if groups else None
        if last_one and last_one[2] == stretch[2] and stretch[0] - last_one[1] <= merge_gap_s:
            groups[-1].append(stretch)
        else:
            groups.append([stretch])
    return [
        OffPitchPassage(
            start_s=round(group[0][0], 3),
            end_s=round(group[-1][1], 3),
            direction=group[0][2],
            cents=round(float(np.median(np.concatenate([s[3] for s in group]))), 1),
            target_midis=tuple(dict.fromkeys(s[4] for s in group)),
        )
        for group in groups
    ]


def time_in_tune_percent(
    track: PitchTrack,
    centre: FloatArray,
    notes: Sequence[Note],
    targets: Sequence[float | None],
    in_tune_cents: float,
) -> float | None:
    """Percentage of judged voiced time whose centre pitch is within ``in_tune_cents``."""
    judged: list[npt.NDArray[np.bool_]] = []
    for note, target in zip(notes, targets, strict=True):
        if target is None:
            continue
        values = centre[_frames_of(track, note)]
        values = values[np.isfinite(values)]
        judged.append(np.abs(100.0 * (values - target)) <= in_tune_cents)
    within = np.concatenate(judged) if judged else np.zeros(0, dtype=bool)
    return round(100.0 * float(np.mean(within)), 1) if len(within) else None


def _frames_of(track: PitchTrack, note: Note) -> npt.NDArray[np.intp]:
    return np.flatnonzero((track.times_s >= note.start_s) & (track.times_s <= note.end_s))


def _runs(mask: npt.NDArray[np.bool_]) -> list[tuple[int, int]]:
    edges = np.diff(mask.astype(np.int8), prepend=0, append=0)
    return list(zip(np.flatnonzero(edges == 1), np.flatnonzero(edges == -1), strict=True))


def _close_gaps(mask: npt.NDArray[np.bool_], max_gap: int) -> npt.NDArray[np.bool_]:
    """Set runs of up to ``max_gap`` False frames that lie between True frames."""
    closed = mask.copy()
    for start, stop in _runs(~mask):
        if start > 0 and stop < len(mask) and stop - start <= max_gap:
            closed[start:stop] = True
    return closed
