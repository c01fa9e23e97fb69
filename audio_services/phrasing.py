"""Phrases and breaths in a vocal take.

A phrase is a run of notes separated by gaps shorter than ``phrase_gap_s``
(consonants and short articulation gaps stay inside a phrase; singers breathe
in gaps of a quarter second or more). A breath is a stretch of a gap that is
unvoiced yet clearly above the take's noise floor and noisy (a high
zero-crossing rate): the hiss of an inhalation, which a coach may want quieter
or better placed.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass

import numpy as np
import numpy.typing as npt

from jacameno.audio_services.pitch import Note, PitchTrack
from jacameno.audio_services.result_json import JsonObject, json_object

__all__ = ["Breath", "Phrase", "find_breaths", "find_phrases"]

DEFAULT_PHRASE_GAP_S = 0.25
MIN_BREATH_S = 0.08
# A breath rises this far above the take's noise floor (its 10th-percentile frame
# level) and its zero crossings are faster than any sung fundamental's.
_BREATH_ABOVE_FLOOR_DB = 12.0
_BREATH_MIN_ZERO_CROSSING_HZ = 1000.0


@dataclass(frozen=True, slots=True)
class Phrase:
    start_s: float
    end_s: float
    note_count: int

    def to_json(self) -> JsonObject:
        return json_object(asdict(self))


@dataclass(frozen=True, slots=True)
class Breath:
    """An audible breath; ``level_db`` is its RMS level relative to the sung notes' median."""

    start_s: float
    end_s: float
    level_db: float

    def to_json(self) -> JsonObject:
        return json_object(asdict(self))


def find_phrases(
    notes: Sequence[Note], *, phrase_gap_s: float = DEFAULT_PHRASE_GAP_S
) -> list[Phrase]:
    """Group consecutive notes into phrases at gaps of at least ``phrase_gap_s``."""
    phrases: list[Phrase] = []
    first = 0
    for index in range(1, len(notes) + 1):
        if index == len(notes) or notes[index].start_s - notes[index - 1].end_s >= phrase_gap_s:
            phrases.append(
                Phrase(
                    start_s=notes[first].start_s,
                    end_s=notes[index - 1].end_s,
                    note_count=index - first,
                )
            )
            first = index
    return phrases


def find_breaths(
    track: PitchTrack, phrases: Sequence[Phrase], *, min_breath_s: float = MIN_BREATH_S
) -> list[Breath]:
    """Breaths in the gaps before each phrase (and before the first)."""
    if len(track.times_s) == 0 or not phrases:
        return []
    floor_db = float(np.percentile(track.level_db, 10))
    voiced_db = float(np.median(track.level_db[track.voiced])) if track.voiced.any() else 0.0
    noisy = (
        ~track.voiced
        & (track.level_db > floor_db + _BREATH_ABOVE_FLOOR_DB)
        & (track.zero_crossing_hz > _BREATH_MIN_ZERO_CROSSING_HZ)
    )
    breaths: list[Breath] = []
    gap_start = 0.0
    for phrase in phrases:
        in_gap = (track.times_s > gap_start) & (track.times_s < phrase.start_s)
        for first, last in _runs(noisy & in_gap):
            start_s = float(track.times_s[first]) - track.time_step_s / 2
            end_s = float(track.times_s[last - 1]) + track.time_step_s / 2
            if end_s - start_s >= min_breath_s:
                level = float(np.max(track.level_db[first:last])) - voiced_db
                breaths.append(Breath(round(start_s, 3), round(end_s, 3), round(level, 1)))
        gap_start = phrase.end_s
    return breaths


def _runs(mask: npt.NDArray[np.bool_]) -> list[tuple[int, int]]:
    edges = np.diff(mask.astype(np.int8), prepend=0, append=0)
    return list(zip(np.flatnonzero(edges == 1), np.flatnonzero(edges == -1), strict=True))
