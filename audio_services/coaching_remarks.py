"""The remarks a singer reads, built from what coaching measured.

One builder per kind of remark (:data:`~audio_services.coaching_report.CoachingKind`):
off-pitch passages, early or late onsets, missed reference notes, phrases and
audible breaths. Each returns :class:`~audio_services.coaching_report.CoachingNote`
records with a message in words and the figures behind it.
"""

from __future__ import annotations

from collections.abc import Sequence

from jacameno.audio_services.coaching_report import (
    CoachingKind,
    CoachingNote,
    CoachingOptions,
    SungNote,
)
from jacameno.audio_services.intonation import OffPitchPassage, intonation_band
from jacameno.audio_services.notes import ReferenceNote, midi_to_name
from jacameno.audio_services.phrasing import Breath, Phrase
from jacameno.audio_services.pitch import Note

__all__ = [
    "breath_remarks",
    "missed_remarks",
    "phrase_remarks",
    "pitch_remark",
    "sung_note",
    "timing_remarks",
]


def sung_note(note: Note, target: float | None, offset_ms: float | None) -> SungNote:
    """``note`` judged against its target (MIDI) and its onset offset (ms, late > 0)."""
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


def pitch_remark(passage: OffPitchPassage) -> CoachingNote:
    """ "40 cents flat on E4 for 1.0 s": one off-pitch passage."""
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


def timing_remarks(sung: Sequence[SungNote], opts: CoachingOptions) -> list[CoachingNote]:
    """An ``early`` or ``late`` remark per onset more than ``on_time_ms`` from its aim."""
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


def missed_remarks(refs: Sequence[ReferenceNote], notes: Sequence[Note]) -> list[CoachingNote]:
    """A ``missed`` remark per reference note that no sung note overlaps."""
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


def phrase_remarks(
    phrases: Sequence[Phrase], sung: Sequence[SungNote], opts: CoachingOptions
) -> list[CoachingNote]:
    """A ``phrase`` remark per phrase: its length, notes and share in tune."""
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


def breath_remarks(breaths: Sequence[Breath]) -> list[CoachingNote]:
    """A ``breath`` remark per audible breath, with its level below the voice (dB)."""
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
