"""Timing of sung note onsets against a reference melody or a beat grid.

With a reference, each reference note times the sung note starting closest to
it (so a note the tracker split in two is not "late" by half its length).
Without one, an onset is compared with the nearest point of the beat grid
divided into ``subdivisions`` (2: eighth notes in 4/4): the singer is assumed
to aim for the nearest such point, which holds while timing errors stay under
half a subdivision (125 ms at 120 BPM). Within +-50 ms reads as on time
(audio-conformance.md).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

from jacameno.audio_services.intonation import ReferenceNote
from jacameno.audio_services.pitch import Note

__all__ = ["beat_grid", "onset_offsets_ms", "subdivided_grid"]

FloatArray = npt.NDArray[np.float64]


def beat_grid(tempo_bpm: float, duration_s: float, *, first_beat_s: float = 0.0) -> list[float]:
    """Beat times in seconds for a steady tempo (the project's ``bpm``)."""
    if tempo_bpm <= 0:
        raise ValueError(f"tempo_bpm must be positive, got {tempo_bpm}")
    period_s = 60.0 / tempo_bpm
    count = int(max(duration_s - first_beat_s, 0.0) / period_s) + 1
    return [round(first_beat_s + index * period_s, 6) for index in range(count)]


def subdivided_grid(beat_times_s: Sequence[float], subdivisions: int) -> FloatArray:
    """Beats and their subdivisions, extended by one beat before the first and after the last."""
    beats = np.asarray(beat_times_s, dtype=np.float64)
    period = float(np.median(np.diff(beats)))
    extended = np.concatenate([[beats[0] - period], beats, [beats[-1] + period]])
    fractions = np.arange(max(subdivisions, 1)) / max(subdivisions, 1)
    points = extended[:-1, None] + np.diff(extended)[:, None] * fractions[None, :]
    return np.concatenate([points.ravel(), extended[-1:]])


def onset_offsets_ms(
    notes: Sequence[Note],
    reference: Sequence[ReferenceNote],
    beat_times_s: Sequence[float] | None,
    *,
    subdivisions: int = 2,
) -> list[float | None]:
    """Each note's onset minus its aim, in ms (negative: early); ``None`` if not timed."""
    offsets: list[float | None] = [None] * len(notes)
    if reference:
        for ref in reference:
            overlapping = [
                index
                for index, note in enumerate(notes)
                if min(note.end_s, ref.end_s) > max(note.start_s, ref.start_s)
            ]
            if overlapping:
                index = min(overlapping, key=lambda i: abs(notes[i].start_s - ref.start_s))
                offsets[index] = round(1000.0 * (notes[index].start_s - ref.start_s), 1)
        return offsets
    if beat_times_s is None or len(beat_times_s) < 2:
        return offsets
    grid = subdivided_grid(beat_times_s, subdivisions)
    for index, note in enumerate(notes):
        nearest = float(grid[int(np.argmin(np.abs(grid - note.start_s)))])
        offsets[index] = round(1000.0 * (note.start_s - nearest), 1)
    return offsets
