"""Syllable targets fitted to a sung melody: one line per phrase, one syllable per note.

A coached vocal track keeps its phrases in the document, in its coaching summary
(``coaching[track_id].summary["phrases"]``: ``start_s``, ``end_s`` in seconds from
the start of the take and ``note_count``, the notes sung in the phrase; written by
the coaching job). Line ``n`` of a verse is sung to phrase ``n``, and a syllable to
each note, so the note count of a phrase is the syllable target of its line.

The summary comes from a shared document that any peer may write to, so what is not
a well-formed phrase is skipped rather than trusted.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

from jacameno.audio_services.lyrics.model import MAX_LINES, MAX_SYLLABLES, LyricsError

__all__ = ["PhraseShape", "phrases_of", "syllable_targets"]


@dataclass(frozen=True, slots=True)
class PhraseShape:
    """A sung phrase: where it starts and ends (seconds) and how many notes it holds."""

    start_s: float
    end_s: float
    note_count: int


def _number(value: object) -> float | None:
    """``value`` as a finite float, or None (bools are not numbers here)."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    number = float(value)
    return number if math.isfinite(number) else None


def _phrase(entry: object) -> PhraseShape | None:
    if not isinstance(entry, Mapping):
        return None
    start_s, end_s = _number(entry.get("start_s")), _number(entry.get("end_s"))
    notes = _number(entry.get("note_count"))
    if start_s is None or end_s is None or notes is None:
        return None
    # The document stores every number as a float: 6.0 notes is 6 notes, 6.5 is junk.
    if not 0 <= start_s <= end_s or notes < 1 or not notes.is_integer():
        return None
    return PhraseShape(start_s, end_s, int(notes))


def phrases_of(summary: Mapping[str, object]) -> tuple[PhraseShape, ...]:
    """The well-formed phrases of a coaching summary, in time order (malformed ones skipped)."""
    entries = summary.get("phrases")
    if not isinstance(entries, list | tuple):
        return ()
    phrases = [phrase for phrase in map(_phrase, entries) if phrase is not None]
    return tuple(sorted(phrases, key=lambda phrase: phrase.start_s))


def syllable_targets(summary: Mapping[str, object], lines: int) -> tuple[int, ...]:
    """Syllables for each of ``lines`` lines: the note count of the phrase it is sung to.

    Line ``n`` takes phrase ``n`` (one sung note per syllable), clipped to 1 to
    ``MAX_SYLLABLES``; with fewer phrases than lines, the lines cycle through the
    phrases again (a melody repeated for the next verse). The result fits
    :attr:`~.model.LyricsRequest.syllables`.

    Raises:
        LyricsError: ``lines`` is not 1 to ``MAX_LINES``, or the summary has no phrases.
    """
    if not 1 <= lines <= MAX_LINES:
        raise LyricsError(f"lines must be between 1 and {MAX_LINES}, got {lines}")
    phrases = phrases_of(summary)
    if not phrases:
        raise LyricsError("the track has no coached phrases yet: run coaching first")
    # Phrases hold at least one note (see _phrase), so only the top needs clipping.
    return tuple(
        min(phrases[line % len(phrases)].note_count, MAX_SYLLABLES) for line in range(lines)
    )
