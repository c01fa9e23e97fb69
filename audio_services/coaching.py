"""Vocal coaching on a sung take: intonation, timing, phrasing and breaths.

Each sung note (:func:`audio_services.pitch.segment_notes`) gets a target
(:mod:`audio_services.intonation`): the matching note of a reference melody
when one is given (notes, or a guide vocal or instrument tracked the same way
with :func:`reference_from_audio`), otherwise the nearest degree of the
project key's scale, otherwise the nearest semitone. Intonation bands follow
singing trainers (audio-conformance reference): in tune within +-15 cents,
close to +-35, noticeable to +-50, off beyond.

Coaching notes are raised for:

- ``flat`` / ``sharp``: the centre pitch (vibrato averaged out) stays more
  than ``flag_cents`` off its target for ``min_flag_s`` or longer; the remark
  starts where that stretch starts, so a note that sags halfway is reported
  from the sag. Stretches in the same direction over neighbouring notes merge
  into one passage.
- ``early`` / ``late``: a note onset more than ``on_time_ms`` (50 ms) from the
  reference note's start, or without a reference, from the nearest point of
  the beat grid divided into ``subdivisions`` (:mod:`audio_services.timing`).
- ``missed``: a reference note with no sung note over it.
- ``phrase`` and ``breath``: see :mod:`audio_services.phrasing`.

Limitation: MIDI reference melodies need a MIDI parser (``mido``), which is not
a dependency yet; pass their notes as :class:`ReferenceNote` lists meanwhile.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import Literal

import numpy as np
import numpy.typing as npt

from jacameno.audio_services.intonation import (
    Band,
    OffPitchPassage,
    ReferenceNote,
    intonation_band,
    note_centres,
    note_target,
    off_pitch_passages,
    parse_key,
    scale_pitch_classes,
    time_in_tune_percent,
)
from jacameno.audio_services.phrasing import Breath, Phrase, find_breaths, find_phrases
from jacameno.audio_services.pitch import Note, PitchTrack, midi_to_name, segment_notes, track_pitch
from jacameno.audio_services.result_json import JsonObject, json_object
from jacameno.audio_services.timing import beat_grid, onset_offsets_ms

__all__ = [
    "CoachingNote",
    "CoachingOptions",
    "CoachingReport",
    "CoachingSummary",
    "Reference",
    "ReferenceNote",
    "SungNote",
    "beat_grid",
    "coach_track",
    "coach_vocal",
    "intonation_band",
    "parse_key",
    "reference_from_audio",
    "reference_from_track",
]

CoachingKind = Literal["flat", "sharp", "early", "late", "missed", "phrase", "breath"]
Reference = Sequence[ReferenceNote | tuple[float, float, float]]
"""Reference notes, as :class:`ReferenceNote` or ``(start_s, end_s, midi)`` tuples."""
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


def coach_vocal(
    samples: npt.ArrayLike,
    sample_rate: int,
    *,
    key: str | None = None,
    reference: Reference | None = None,
    beat_times_s: Sequence[float] | None = None,
    options: CoachingOptions | None = None,
) -> CoachingReport:
    """Coach a vocal take (``(channels, frames)`` or 1-D audio at ``sample_rate`` Hz).

    ``key`` ("A minor", "F# major") sets targets when there is no
    ``reference``; with neither, intonation is judged against the nearest
    equal-tempered semitone. ``beat_times_s`` (from
    :func:`audio_services.analysis.analyze` or :func:`beat_grid`) times onsets
    when there is no reference.
    """
    track = track_pitch(samples, sample_rate)
    return coach_track(
        track, key=key, reference=reference, beat_times_s=beat_times_s, options=options
    )


def coach_track(
    track: PitchTrack,
    *,
    key: str | None = None,
    reference: Reference | None = None,
    beat_times_s: Sequence[float] | None = None,
    options: CoachingOptions | None = None,
) -> CoachingReport:
    """:func:`coach_vocal` on an existing pitch track."""
    opts = options or CoachingOptions()
    notes = segment_notes(track)
    scale = scale_pitch_classes(key)
    refs = sorted(
        (ref if isinstance(ref, ReferenceNote) else ReferenceNote(*ref) for ref in reference or ()),
        key=lambda ref: ref.start_s,
    )
    targets = [note_target(note, refs, scale) for note in notes]
    offsets = onset_offsets_ms(notes, refs, beat_times_s, subdivisions=opts.subdivisions)
    sung = [
        _sung_note(note, target, offset)
        for note, target, offset in zip(notes, targets, offsets, strict=True)
    ]
    centre = note_centres(track, notes)
    passages = off_pitch_passages(
        track,
        centre,
        notes,
        targets,
        flag_cents=opts.flag_cents,
        min_flag_s=opts.min_flag_s,
        merge_gap_s=opts.merge_gap_s,
    )
    phrases = find_phrases(notes, phrase_gap_s=opts.phrase_gap_s)
    breaths = find_breaths(track, phrases)
    remarks = [_pitch_remark(passage) for passage in passages]
    remarks += _timing_remarks(sung, opts) + _missed_remarks(refs, notes)
    remarks += _phrase_remarks(phrases, sung, opts) + _breath_remarks(breaths)
    remarks.sort(key=lambda remark: (remark.start_s, remark.kind))
    summary = CoachingSummary.of(
        sung,
        phrases=phrases,
        breaths=breaths,
        remarks=remarks,
        time_in_tune=time_in_tune_percent(track, centre, notes, targets, opts.in_tune_cents),
        opts=opts,
    )
    return CoachingReport(
        summary=summary,
        notes=tuple(remarks),
        sung_notes=tuple(sung),
        phrases=tuple(phrases),
        breaths=tuple(breaths),
    )


def reference_from_audio(samples: npt.ArrayLike, sample_rate: int) -> list[ReferenceNote]:
    """Reference notes from a guide vocal or a monophonic instrument recording."""
    return reference_from_track(track_pitch(samples, sample_rate))


def reference_from_track(track: PitchTrack) -> list[ReferenceNote]:
    """Reference notes from the pitch track of a guide recording."""
    return [ReferenceNote(note.start_s, note.end_s, note.midi) for note in segment_notes(track)]


def _sung_note(note: Note, target: float | None, offset_ms: float | None) -> SungNote:
    cents = None if target is None else round(100.0 * (note.midi - target), 1)
    return SungNote(
        start_s=note.start_s,
        end_s=note.end_s,
        midi=note.midi,
        name=midi_to_name(note.midi),
        target_midi=target,
        cents=cents,
        band=None if cents is None else intonation_band(cents),
        onset_offset_ms=offset_ms,
        vibrato_cents=note.vibrato_cents,
    )


def _pitch_remark(passage: OffPitchPassage) -> CoachingNote:
    duration_s = passage.end_s - passage.start_s
    names = ", ".join(midi_to_name(midi) for midi in passage.target_midis)
    return CoachingNote(
        start_s=passage.start_s,
        end_s=passage.end_s,
        kind=passage.direction,
        message=(
            f"{abs(passage.cents):.0f} cents {passage.direction} on {names} for {duration_s:.1f} s"
        ),
        cents=passage.cents,
        figures={
            "duration_s": round(duration_s, 3),
            "band": intonation_band(passage.cents),
            "notes": names,
        },
    )


def _timing_remarks(sung: Sequence[SungNote], opts: CoachingOptions) -> list[CoachingNote]:
    remarks = []
    for note in sung:
        offset = note.onset_offset_ms
        if offset is None or abs(offset) <= opts.on_time_ms:
            continue
        kind: CoachingKind = "late" if offset > 0 else "early"
        remarks.append(
            CoachingNote(
                start_s=note.start_s,
                end_s=note.end_s,
                kind=kind,
                message=f"{note.name} came in {abs(offset):.0f} ms {kind}",
                ms=offset,
                figures={"onset_s": note.start_s},
            )
        )
    return remarks


def _missed_remarks(refs: Sequence[ReferenceNote], notes: Sequence[Note]) -> list[CoachingNote]:
    remarks = []
    for ref in refs:
        covered = any(min(n.end_s, ref.end_s) > max(n.start_s, ref.start_s) for n in notes)
        if not covered:
            remarks.append(
                CoachingNote(
                    start_s=ref.start_s,
                    end_s=ref.end_s,
                    kind="missed",
                    message=f"{midi_to_name(ref.midi)} was not sung",
                    figures={"target_midi": ref.midi},
                )
            )
    return remarks


def _phrase_remarks(
    phrases: Sequence[Phrase], sung: Sequence[SungNote], opts: CoachingOptions
) -> list[CoachingNote]:
    remarks = []
    for number, phrase in enumerate(phrases, start=1):
        inside = [n for n in sung if phrase.start_s <= n.start_s <= phrase.end_s]
        judged = [abs(n.cents) for n in inside if n.cents is not None]
        in_tune = sum(c <= opts.in_tune_cents for c in judged)
        figures: dict[str, float | str] = {
            "duration_s": round(phrase.end_s - phrase.start_s, 3),
            "note_count": float(phrase.note_count),
        }
        message = (
            f"Phrase {number}: {phrase.end_s - phrase.start_s:.1f} s, {phrase.note_count} notes"
        )
        if judged:
            figures["percent_in_tune"] = round(100.0 * in_tune / len(judged), 1)
            message += f", {figures['percent_in_tune']:.0f}% in tune"
        remarks.append(
            CoachingNote(phrase.start_s, phrase.end_s, "phrase", message, figures=figures)
        )
    return remarks


def _breath_remarks(breaths: Sequence[Breath]) -> list[CoachingNote]:
    return [
        CoachingNote(
            start_s=breath.start_s,
            end_s=breath.end_s,
            kind="breath",
            message=(
                f"Audible breath ({breath.end_s - breath.start_s:.2f} s, "
                f"{-breath.level_db:.0f} dB below the voice)"
            ),
            figures={"level_db": breath.level_db},
        )
        for breath in breaths
    ]


def _percent(mask: npt.NDArray[np.bool_]) -> float | None:
    return round(100.0 * float(np.mean(mask)), 1) if len(mask) else None


def _rounded(value: np.floating | float) -> float:
    return round(float(value), 1)
