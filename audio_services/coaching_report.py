"""What coaching a take produces: options, judged notes, remarks, summary and report.

:func:`audio_services.coaching.coach_track` fills these in; ``to_json`` gives
the track's ``coaching`` entry in the project document.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import Literal

import numpy as np
import numpy.typing as npt

from jacameno.audio_services.intonation import Band
from jacameno.audio_services.phrasing import Breath, Phrase
from jacameno.audio_services.result_json import JsonObject, json_object

__all__ = [
    "CoachingKind",
    "CoachingNote",
    "CoachingOptions",
    "CoachingReport",
    "CoachingSummary",
    "SungNote",
]

CoachingKind = Literal["flat", "sharp", "early", "late", "missed", "phrase", "breath"]
_FLAG_KINDS = frozenset({"flat", "sharp", "early", "late", "missed"})


@dataclass(frozen=True, slots=True)
class CoachingOptions:
    """Thresholds; the defaults follow the intonation and timing bands of singing trainers.

    ``in_tune_cents``: the in-tune band for the summary (strict trainers use 6-12).
    ``flag_cents`` / ``min_flag_s``: how far off, for how long, earns a remark.
    ``merge_gap_s``: off-pitch stretches closer than this become one passage.
    ``on_time_ms``: onsets within this of their aim are on time.
    ``subdivisions``: grid points per beat for timing without a reference.
    ``phrase_gap_s``: a silence at least this long ends a phrase.
    """

    in_tune_cents: float = 15.0
    flag_cents: float = 25.0
    min_flag_s: float = 0.25
    merge_gap_s: float = 0.35
    on_time_ms: float = 50.0
    subdivisions: int = 2
    phrase_gap_s: float = 0.25


@dataclass(frozen=True, slots=True)
class SungNote:
    """A sung note with its target and how far off it was.

    ``cents`` is the median pitch minus the target (negative: flat);
    ``onset_offset_ms`` the onset minus its grid point or reference start
    (negative: early), ``None`` when there is nothing to time against.
    """

    start_s: float
    end_s: float
    midi: float
    name: str
    target_midi: float | None
    cents: float | None
    band: Band | None
    onset_offset_ms: float | None
    vibrato_cents: float


@dataclass(frozen=True, slots=True)
class CoachingNote:
    """One remark for the singer, placed in time; ``figures`` holds its measurements."""

    start_s: float
    end_s: float
    kind: CoachingKind
    message: str
    cents: float | None = None
    ms: float | None = None
    figures: dict[str, float | str] = field(default_factory=dict)

    def to_json(self) -> JsonObject:
        return json_object(asdict(self))


@dataclass(frozen=True, slots=True)
class CoachingSummary:
    """Take-level figures; ``None`` where nothing could be measured.

    ``percent_in_tune``: judged notes within ``in_tune_cents``;
    ``percent_time_in_tune``: voiced time whose centre pitch is within it.
    """

    note_count: int
    phrase_count: int
    breath_count: int
    percent_in_tune: float | None
    percent_time_in_tune: float | None
    median_abs_cents: float | None
    mean_cents: float | None
    band_counts: dict[str, int]
    mean_timing_offset_ms: float | None
    median_abs_timing_ms: float | None
    percent_on_time: float | None
    flagged_count: int

    @classmethod
    def of(
        cls,
        sung: Sequence[SungNote],
        *,
        phrases: Sequence[Phrase],
        breaths: Sequence[Breath],
        remarks: Sequence[CoachingNote],
        time_in_tune: float | None,
        opts: CoachingOptions,
    ) -> CoachingSummary:
        """Summarise judged notes and remarks (``None`` where nothing was judged)."""
        cents = np.array([n.cents for n in sung if n.cents is not None], dtype=np.float64)
        timing = np.array(
            [n.onset_offset_ms for n in sung if n.onset_offset_ms is not None], dtype=np.float64
        )
        bands: tuple[Band, ...] = ("in_tune", "close", "noticeable", "off")
        return cls(
            note_count=len(sung),
            phrase_count=len(phrases),
            breath_count=len(breaths),
            percent_in_tune=_percent(np.abs(cents) <= opts.in_tune_cents),
            percent_time_in_tune=time_in_tune,
            median_abs_cents=_rounded(np.median(np.abs(cents))) if len(cents) else None,
            mean_cents=_rounded(np.mean(cents)) if len(cents) else None,
            band_counts={band: sum(n.band == band for n in sung) for band in bands},
            mean_timing_offset_ms=_rounded(np.mean(timing)) if len(timing) else None,
            median_abs_timing_ms=_rounded(np.median(np.abs(timing))) if len(timing) else None,
            percent_on_time=_percent(np.abs(timing) <= opts.on_time_ms),
            flagged_count=sum(remark.kind in _FLAG_KINDS for remark in remarks),
        )


@dataclass(frozen=True, slots=True)
class CoachingReport:
    """Everything about one take; ``notes`` are the remarks, in time order.

    ``to_json`` is the track's ``coaching`` entry in the project document:
    ``summary`` figures and the ``notes`` array (time, kind, message, figures),
    plus the sung notes, phrases and breaths they refer to.
    """

    summary: CoachingSummary
    notes: tuple[CoachingNote, ...]
    sung_notes: tuple[SungNote, ...]
    phrases: tuple[Phrase, ...]
    breaths: tuple[Breath, ...]

    def to_json(self) -> JsonObject:
        return json_object(asdict(self))


def _percent(mask: npt.NDArray[np.bool_]) -> float | None:
    return round(100.0 * float(np.mean(mask)), 1) if len(mask) else None


def _rounded(value: np.floating | float) -> float:
    return round(float(value), 1)
