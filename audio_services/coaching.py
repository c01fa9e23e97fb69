"""Vocal coaching on a sung take: intonation, timing, phrasing and breaths.

Each sung note (:func:`audio_services.pitch.segment_notes`) gets a target
(:mod:`audio_services.intonation`): the matching note of a reference melody
when one is given (notes, a MIDI file or note list read by
:func:`reference_from_file`, or a guide vocal or instrument tracked the same
way with :func:`reference_from_audio`), otherwise the nearest degree of the
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

The records a take produces live in :mod:`audio_services.coaching_report`, the
wording of each remark in :mod:`audio_services.coaching_remarks`.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

import numpy.typing as npt

from jacameno.audio_services.audio_io import DEFAULT_MAX_DURATION_S
from jacameno.audio_services.coaching_remarks import (
    breath_remarks,
    missed_remarks,
    phrase_remarks,
    pitch_remark,
    sung_note,
    timing_remarks,
)
from jacameno.audio_services.coaching_report import (
    CoachingNote,
    CoachingOptions,
    CoachingReport,
    CoachingSummary,
    SungNote,
)
from jacameno.audio_services.errors import AudioDecodeError
from jacameno.audio_services.intonation import (
    intonation_band,
    note_centres,
    note_target,
    off_pitch_passages,
    parse_key,
    scale_pitch_classes,
    time_in_tune_percent,
)
from jacameno.audio_services.midi import MIDI_SUFFIXES, read_midi_notes
from jacameno.audio_services.notes import ReferenceNote, read_note_list
from jacameno.audio_services.phrasing import find_breaths, find_phrases
from jacameno.audio_services.pitch import PitchTrack, segment_notes, track_pitch, track_pitch_source
from jacameno.audio_services.sources import FileSource
from jacameno.audio_services.timing import beat_grid, onset_offsets_ms

__all__ = [
    "NOTE_LIST_SUFFIXES",
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
    "reference_from_file",
    "reference_from_track",
]

Reference = Sequence[ReferenceNote | tuple[float, float, float]]
"""Reference notes, as :class:`ReferenceNote` or ``(start_s, end_s, midi)`` tuples."""
#: File name endings read as note lists (:func:`~audio_services.notes.read_note_list`).
NOTE_LIST_SUFFIXES = (".csv", ".txt")


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
        sung_note(note, target, offset)
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
    remarks = [pitch_remark(passage) for passage in passages]
    remarks += timing_remarks(sung, opts) + missed_remarks(refs, notes)
    remarks += phrase_remarks(phrases, sung, opts) + breath_remarks(breaths)
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


def reference_from_file(
    path: str | os.PathLike[str], *, max_duration_s: float = DEFAULT_MAX_DURATION_S
) -> list[ReferenceNote]:
    """Reference notes from a file, by its extension: a Standard MIDI File
    (``.mid``, ``.midi``), a note list (``.csv``, ``.txt``: ``start_s, end_s,
    note`` per line), or else a guide recording tracked like a sung take.

    Raises:
        AudioDecodeError: a missing or unreadable file, or one that holds no notes.
        AudioLimitError: a guide recording over ``max_duration_s`` (seconds).
        ModuleNotFoundError: a MIDI file without ``mido`` installed.
    """
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix in MIDI_SUFFIXES or suffix in NOTE_LIST_SUFFIXES:
        if not path.is_file():
            raise AudioDecodeError(f"no such file: {path}")
        notes = read_midi_notes(path) if suffix in MIDI_SUFFIXES else read_note_list(path)
    else:
        notes = reference_from_track(
            track_pitch_source(FileSource(path, max_duration_s=max_duration_s))
        )
    if not notes:
        raise AudioDecodeError(f"reference {path} holds no notes")
    return notes
