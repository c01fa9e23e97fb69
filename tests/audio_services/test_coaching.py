"""Pitch tracking, note segmentation and vocal coaching on a synthetic singer."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from collections.abc import Sequence

import numpy as np
import numpy.typing as npt
import pytest

from jacameno.audio_services.coaching import (
    CoachingOptions,
    CoachingReport,
    ReferenceNote,
    beat_grid,
    coach_track,
    coach_vocal,
    intonation_band,
    parse_key,
    reference_from_audio,
)
from jacameno.audio_services.errors import AudioDecodeError
from jacameno.audio_services.pitch import (
    PitchTrack,
    hz_to_midi,
    midi_to_hz,
    midi_to_name,
    segment_notes,
    track_pitch,
)
from jacameno.audio_services.pitch_svg import pitch_curve_svg

FloatArray = npt.NDArray[np.float32]
RATE = 22_050

# Vowel "ah": formant centre, bandwidth and relative gain.
FORMANTS = ((700.0, 130.0, 1.0), (1220.0, 70.0, 0.5), (2600.0, 160.0, 0.25))


def sing(
    notes: Sequence[tuple[float, float, float]],
    *,
    sample_rate: int = RATE,
    detune: Sequence[tuple[float, float, float]] = (),
    vibrato_cents: float = 40.0,
    vibrato_hz: float = 5.5,
    breaths: Sequence[tuple[float, float]] = (),
    tail_s: float = 0.4,
    seed: int = 0,
) -> tuple[FloatArray, npt.NDArray[np.float64]]:
    """A synthetic singer: ``notes`` are (start_s, end_s, midi).

    Harmonic tone shaped by three vowel formants, sinusoidal vibrato that fades
    in over 0.3 s, 30 ms attack and 50 ms release; ``detune`` adds (start_s,
    end_s, cents) offsets in time; ``breaths`` puts band-limited noise (an
    inhalation) in the given spans. Returns the samples and the true f0 per
    sample (0 where silent).
    """
    rng = np.random.default_rng(seed)
    length = int((max(end for _, end, _ in notes) + tail_s) * sample_rate)
    out = np.zeros(length)
    true_f0 = np.zeros(length)
    for start_s, end_s, midi in notes:
        first, last = int(start_s * sample_rate), int(end_s * sample_rate)
        time_s = np.arange(last - first) / sample_rate
        cents = np.zeros(len(time_s))
        for detune_start, detune_end, offset in detune:
            absolute = start_s + time_s
            cents[(absolute >= detune_start) & (absolute < detune_end)] += offset
        wobble = np.sin(2 * np.pi * vibrato_hz * time_s + rng.uniform(0, 2 * np.pi))
        cents += vibrato_cents * wobble * np.minimum(time_s / 0.3, 1.0)
        f0 = 440.0 * 2 ** ((midi - 69) / 12 + cents / 1200)
        phase = 2 * np.pi * np.cumsum(f0) / sample_rate
        voice = np.zeros(len(time_s))
        for k in range(1, 60):
            if k * f0.max() > sample_rate / 2 - 500:
                break
            gain = 0.05 + sum(a / (1 + ((k * f0 - fc) / bw) ** 2) for fc, bw, a in FORMANTS)
            voice += gain / np.sqrt(k) * np.sin(k * phase)
        envelope = np.minimum(
            np.minimum(time_s / 0.03, 1.0), np.minimum((time_s[-1] - time_s) / 0.05, 1.0)
        )
        out[first:last] += 0.2 * voice * envelope / np.max(np.abs(voice))
        true_f0[first:last] = f0
    for start_s, end_s in breaths:
        first, last = int(start_s * sample_rate), int(end_s * sample_rate)
        noise = rng.standard_normal(last - first)
        band = np.convolve(noise, np.ones(8) / 8, "same") - np.convolve(
            noise, np.ones(64) / 64, "same"
        )
        out[first:last] += 0.03 * band * np.sin(np.pi * np.arange(last - first) / (last - first))
    out += 1e-3 * rng.standard_normal(length)  # a quiet room: -60 dBFS of hiss
    return out.astype(np.float32), true_f0


MELODY = [60, 62, 64, 65, 67, 69, 71, 72, 67, 64, 60, 57, 55, 76, 79, 52]


@pytest.fixture(scope="module")
def melody() -> tuple[FloatArray, npt.NDArray[np.float64], list[tuple[float, float, float]]]:
    """Sixteen 0.8 s notes a second apart, C major, 40-cent vibrato: a 16.7 s take."""
    notes = [(0.3 + i, 1.1 + i, float(m)) for i, m in enumerate(MELODY)]
    samples, true_f0 = sing(notes)
    return samples, true_f0, notes


@pytest.fixture(scope="module")
def melody_track(
    melody: tuple[FloatArray, npt.NDArray[np.float64], list[tuple[float, float, float]]],
) -> PitchTrack:
    return track_pitch(melody[0], RATE)


# --- pitch tracking and notes -----------------------------------------------------------


def test_pitch_track_is_within_cents_of_the_truth(
    melody: tuple[FloatArray, npt.NDArray[np.float64], list[tuple[float, float, float]]],
    melody_track: PitchTrack,
) -> None:
    _, true_f0, _ = melody
    truth = true_f0[np.rint(melody_track.times_s * RATE).astype(int)]
    both = melody_track.voiced & (truth > 0)
    errors = 1200 * np.log2(melody_track.f0_hz[both] / truth[both])
    assert both.sum() > 0.9 * (truth > 0).sum()
    assert np.median(np.abs(errors)) < 5.0  # measured: 0.6 cents
    assert np.percentile(np.abs(errors), 95) < 10.0


def test_notes_are_segmented_with_their_pitch(
    melody: tuple[FloatArray, npt.NDArray[np.float64], list[tuple[float, float, float]]],
    melody_track: PitchTrack,
) -> None:
    _, _, sung = melody
    notes = segment_notes(melody_track)
    assert len(notes) == len(sung)
    for note, (start_s, end_s, midi) in zip(notes, sung, strict=True):
        assert note.start_s == pytest.approx(start_s, abs=0.02)
        assert note.end_s == pytest.approx(end_s, abs=0.03)
        assert 100 * abs(note.midi - midi) < 5.0  # median over the note, vibrato and all
        assert note.vibrato_cents == pytest.approx(40.0, abs=10.0)
    median_error = np.median(
        [100 * abs(n.midi - m) for n, (_, _, m) in zip(notes, sung, strict=True)]
    )
    assert median_error < 3.0


def test_legato_notes_split_at_the_pitch_change() -> None:
    samples, _ = sing([(0.2, 1.0, 64.0), (1.0, 1.8, 67.0), (1.8, 2.6, 65.0)])
    notes = segment_notes(track_pitch(samples, RATE))
    assert [round(n.midi) for n in notes] == [64, 67, 65]
    assert notes[1].start_s == pytest.approx(1.0, abs=0.06)


def test_pitch_helpers() -> None:
    assert float(hz_to_midi(440.0)) == 69.0
    assert midi_to_hz(60.0) == pytest.approx(261.626, abs=1e-3)
    assert midi_to_name(69.3) == "A4"
    assert midi_to_name(60.0) == "C4"


def test_short_or_bad_audio() -> None:
    assert segment_notes(track_pitch(np.zeros(100, dtype=np.float32), RATE)) == []
    with pytest.raises(AudioDecodeError):
        track_pitch(np.full(1000, np.nan, dtype=np.float32), RATE)


# --- intonation -------------------------------------------------------------------------


def test_in_tune_melody_has_no_pitch_flags(melody_track: PitchTrack) -> None:
    report = coach_track(melody_track, key="C major")
    assert not [n for n in report.notes if n.kind in ("flat", "sharp")]
    assert report.summary.percent_in_tune == 100.0
    assert report.summary.median_abs_cents is not None
    assert report.summary.median_abs_cents < 5.0
    assert report.summary.percent_time_in_tune is not None
    assert report.summary.percent_time_in_tune > 90.0
    assert report.summary.band_counts["in_tune"] == len(MELODY)


def test_a_note_40_cents_flat_for_one_second_is_flagged() -> None:
    notes = [(0.3, 0.9, 60.0), (1.0, 1.6, 62.0), (1.7, 2.7, 64.0), (2.8, 3.4, 65.0)]
    samples, _ = sing(notes, detune=[(1.7, 2.7, -40.0)])
    report = coach_vocal(samples, RATE, key="C major")
    flags = [n for n in report.notes if n.kind in ("flat", "sharp")]
    assert len(flags) == 1
    assert flags[0].kind == "flat"
    assert flags[0].start_s == pytest.approx(1.7, abs=0.1)
    assert flags[0].end_s == pytest.approx(2.7, abs=0.1)
    assert flags[0].cents == pytest.approx(-40.0, abs=5.0)
    assert "40 cents flat on E4" in flags[0].message
    assert report.sung_notes[2].band == "noticeable"


def test_a_passage_going_flat_inside_a_long_note_is_flagged_where_it_starts() -> None:
    samples, _ = sing([(0.3, 3.8, 67.0)], detune=[(1.6, 2.6, -40.0)])
    report = coach_vocal(samples, RATE, key="C major")
    flags = [n for n in report.notes if n.kind == "flat"]
    assert len(flags) == 1
    assert flags[0].start_s == pytest.approx(1.6, abs=0.1)
    assert flags[0].end_s == pytest.approx(2.6, abs=0.1)
    assert len(report.sung_notes) == 1  # 40 cents is a drift, not a new note


def test_sharp_passage_across_notes_merges_into_one_remark() -> None:
    notes = [(0.3, 0.9, 64.0), (1.0, 1.6, 65.0), (1.7, 2.3, 67.0), (2.4, 3.0, 69.0)]
    samples, _ = sing(notes, detune=[(1.0, 2.3, 45.0)])
    report = coach_vocal(samples, RATE, key="C major")
    flags = [n for n in report.notes if n.kind in ("flat", "sharp")]
    assert [f.kind for f in flags] == ["sharp"]
    assert flags[0].start_s == pytest.approx(1.0, abs=0.1)
    assert flags[0].figures["notes"] == "F4, G4"


def test_targets_come_from_the_key() -> None:
    # F#4 sung 30 cents flat in C major is aimed at... F or G? The nearest degree: G is
    # 130 cents away, F 70: F, so it reads 70 cents sharp.
    samples, _ = sing([(0.3, 1.3, 66.0)], detune=[(0.0, 2.0, -30.0)])
    in_c = coach_vocal(samples, RATE, key="C major").sung_notes[0]
    assert in_c.target_midi == 65.0
    assert in_c.cents == pytest.approx(70.0, abs=5.0)
    in_d = coach_vocal(samples, RATE, key="D major").sung_notes[0]
    assert in_d.target_midi == 66.0
    assert in_d.cents == pytest.approx(-30.0, abs=5.0)


def test_reference_melody_an_octave_down_is_in_tune() -> None:
    notes = [(0.3, 0.9, 57.0), (1.0, 1.6, 59.0), (1.7, 2.3, 60.0)]
    samples, _ = sing(notes)
    reference = [ReferenceNote(s, e, m + 12) for s, e, m in notes]
    reference.append(ReferenceNote(2.4, 3.0, 74.0))  # never sung
    report = coach_vocal(samples, RATE, reference=reference)
    assert [n.target_midi for n in report.sung_notes] == [57.0, 59.0, 60.0]
    assert all(n.band == "in_tune" for n in report.sung_notes)
    missed = [n for n in report.notes if n.kind == "missed"]
    assert len(missed) == 1
    assert missed[0].start_s == 2.4
    assert "D5" in missed[0].message


def test_reference_from_a_guide_recording() -> None:
    notes = [(0.3, 0.9, 62.0), (1.0, 1.6, 66.0), (1.7, 2.3, 69.0)]
    guide, _ = sing(notes, vibrato_cents=0.0, seed=1)
    reference = reference_from_audio(guide, RATE)
    assert [round(r.midi) for r in reference] == [62, 66, 69]
    take, _ = sing(notes, detune=[(1.0, 1.6, 30.0)], seed=2)
    report = coach_vocal(take, RATE, reference=reference)
    cents = [n.cents for n in report.sung_notes]
    assert cents[0] == pytest.approx(0.0, abs=5.0)
    assert cents[1] == pytest.approx(30.0, abs=5.0)


# --- timing -----------------------------------------------------------------------------


def test_an_onset_80_ms_late_is_flagged_late() -> None:
    grid = beat_grid(120.0, 8.0, first_beat_s=0.5)
    starts = [0.5, 1.0, 1.5, 2.0 + 0.08, 2.5, 3.0 - 0.08, 3.5]
    samples, _ = sing([(s, s + 0.3, 64.0) for s in starts])
    report = coach_vocal(samples, RATE, key="C major", beat_times_s=grid)
    timing = {n.kind: n for n in report.notes if n.kind in ("early", "late")}
    assert set(timing) == {"early", "late"}
    assert timing["late"].start_s == pytest.approx(2.08, abs=0.02)
    assert timing["late"].ms == pytest.approx(80.0, abs=20.0)
    assert timing["early"].ms == pytest.approx(-80.0, abs=20.0)
    assert len(report.sung_notes) == len(starts)
    on_time = [n.onset_offset_ms for i, n in enumerate(report.sung_notes) if i not in (3, 5)]
    assert all(offset is not None and abs(offset) <= 20.0 for offset in on_time), on_time
    assert report.summary.percent_on_time == pytest.approx(100 * 5 / 7, abs=0.1)


def test_offbeat_onsets_are_timed_against_eighth_notes() -> None:
    grid = beat_grid(100.0, 6.0)  # eighth notes every 0.3 s
    samples, _ = sing([(0.3, 0.5, 64.0), (0.9, 1.1, 67.0)])
    report = coach_vocal(samples, RATE, beat_times_s=grid)
    assert [n.kind for n in report.notes if n.kind in ("early", "late")] == []


def test_onsets_are_timed_against_the_reference() -> None:
    samples, _ = sing([(0.36, 0.9, 64.0), (1.0, 1.6, 65.0)])
    report = coach_vocal(samples, RATE, reference=[(0.3, 0.9, 64.0), (1.0, 1.6, 65.0)])
    late = [n for n in report.notes if n.kind == "late"]
    assert len(late) == 1
    assert late[0].ms == pytest.approx(60.0, abs=15.0)


# --- phrases and breaths ------------------------------------------------------------------


def test_phrases_and_breaths() -> None:
    phrase_one = [(0.3 + 0.5 * i, 0.7 + 0.5 * i, 60.0 + 2 * i) for i in range(4)]
    phrase_two = [(3.3 + 0.5 * i, 3.7 + 0.5 * i, 67.0 - 2 * i) for i in range(4)]
    phrase_three = [(6.3, 7.0, 60.0)]
    samples, _ = sing(
        phrase_one + phrase_two + phrase_three, breaths=[(2.4, 2.9)]
    )  # a breath before phrase two, silence before phrase three
    report = coach_vocal(samples, RATE, key="C major")
    assert [p.note_count for p in report.phrases] == [4, 4, 1]
    assert report.phrases[1].start_s == pytest.approx(3.3, abs=0.03)
    assert len(report.breaths) == 1
    assert report.breaths[0].start_s == pytest.approx(2.45, abs=0.1)
    assert report.breaths[0].end_s == pytest.approx(2.85, abs=0.1)
    assert report.breaths[0].level_db < -10.0
    kinds = [n.kind for n in report.notes]
    assert kinds.count("phrase") == 3
    assert kinds.count("breath") == 1
    assert (report.summary.phrase_count, report.summary.breath_count) == (3, 1)


# --- report, JSON and SVG ---------------------------------------------------------------------


@pytest.fixture(scope="module")
def full_report(melody_track: PitchTrack) -> CoachingReport:
    return coach_track(
        melody_track, key="C major", beat_times_s=beat_grid(60.0, 17.0, first_beat_s=0.3)
    )


def test_report_json_is_document_safe(full_report: CoachingReport) -> None:
    data = full_report.to_json()
    json.dumps(data, allow_nan=False)
    assert set(data) == {"notes", "sung_notes", "phrases", "breaths", "summary"}
    summary = data["summary"]
    assert isinstance(summary, dict)
    assert summary["note_count"] == float(len(MELODY))
    notes = data["notes"]
    assert isinstance(notes, list)
    assert all({"start_s", "end_s", "kind", "message", "figures"} <= set(n) for n in notes)  # type: ignore[arg-type]


def test_summary_figures(full_report: CoachingReport) -> None:
    summary = full_report.summary
    assert summary.note_count == len(MELODY)
    assert summary.mean_timing_offset_ms is not None
    assert abs(summary.mean_timing_offset_ms) < 15.0
    assert summary.percent_on_time == 100.0
    assert summary.flagged_count == 0


def test_pitch_curve_svg() -> None:
    samples, _ = sing([(0.3, 1.3, 64.0), (1.5, 2.5, 65.0)], detune=[(1.5, 2.5, -45.0)])
    reference = [ReferenceNote(0.3, 1.3, 64.0), ReferenceNote(1.5, 2.5, 65.0)]
    track = track_pitch(samples, RATE)
    report = coach_track(track, key="C major", reference=reference)
    assert any(n.kind == "flat" for n in report.notes)
    svg = pitch_curve_svg(
        track,
        report.sung_notes,
        reference=reference,
        coaching_notes=report.notes,
        width_px=640,
        height_px=240,
    )
    root = ET.fromstring(svg)
    ns = "{http://www.w3.org/2000/svg}"
    assert root.tag == f"{ns}svg"
    assert root.get("viewBox") == "0 0 640 240"
    rects = root.findall(f".//{ns}rect")
    assert len(rects) == 4  # two targets, two reference outlines
    assert {r.get("class") for r in rects} == {"jc-ref", "jc-in_tune", "jc-noticeable"}
    path = root.find(f".//{ns}path[@class='jc-curve']")
    assert path is not None
    assert path.get("d", "").count("M") == 2  # the curve breaks between the two notes
    flags = root.findall(f".//{ns}g[@data-kind='flat']")
    assert len(flags) == 1
    assert "cents flat" in (flags[0].findtext(f"{ns}title") or "")
    labels = {t.text for t in root.iter(f"{ns}text")}
    assert {"E4", "F4"} <= labels


def test_svg_of_a_long_take_stays_small(
    full_report: CoachingReport, melody_track: PitchTrack
) -> None:
    svg = pitch_curve_svg(melody_track, full_report.sung_notes, start_s=2.0, end_s=6.0)
    ET.fromstring(svg)
    assert len(svg) < 60_000


# --- small pieces ------------------------------------------------------------------------


def test_keys_bands_and_grids() -> None:
    assert parse_key("A minor") == (9, "minor")
    assert parse_key("eb maj") == (3, "major")
    with pytest.raises(ValueError, match="A minor"):
        parse_key("H dorian")
    assert [intonation_band(c) for c in (10, -20, 40, -60)] == [
        "in_tune",
        "close",
        "noticeable",
        "off",
    ]
    assert beat_grid(120.0, 2.0, first_beat_s=0.5) == [0.5, 1.0, 1.5, 2.0]
    with pytest.raises(ValueError, match="tempo_bpm"):
        beat_grid(0.0, 1.0)
    strict = CoachingOptions(in_tune_cents=6.0)
    assert strict.in_tune_cents == 6.0
