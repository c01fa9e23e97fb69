"""Syllable targets from a coached vocal: a synthetic singer's phrases, coached for real."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import pytest
import soundfile as sf

from jacameno.audio_services.coaching import coach_track
from jacameno.audio_services.jobs.compute import MAX_SUMMARY_PHRASES, compute
from jacameno.audio_services.jobs.document import MAX_RESULT_LIST, document_result
from jacameno.audio_services.lyrics.melody_fit import PhraseShape, phrases_of, syllable_targets
from jacameno.audio_services.lyrics.model import MAX_SYLLABLES, LyricsError, LyricsRequest
from jacameno.audio_services.pitch import track_pitch
from jacameno.audio_services.result_json import json_object
from tests.audio_services.test_coaching import RATE, sing

#: Four phrases of 6, 8, 5 and 7 notes (MIDI), as sung lines of a verse.
PHRASES = (
    (60, 62, 64, 65, 67, 69),
    (67, 65, 64, 62, 60, 62, 64, 67),
    (69, 67, 65, 64, 62),
    (60, 64, 67, 72, 71, 69, 67),
)
NOTE_GAP_S = 0.04  # articulation inside a phrase (under the 0.25 s phrase gap)
PHRASE_GAP_S = 0.6  # a breath between phrases


def phrase_notes() -> list[tuple[float, float, float]]:
    """(start_s, end_s, midi) of every note: 0.25 and 0.3 s notes in turn."""
    notes: list[tuple[float, float, float]] = []
    time_s = 0.3
    for phrase in PHRASES:
        for index, midi in enumerate(phrase):
            duration_s = 0.25 + 0.05 * (index % 2)
            notes.append((time_s, time_s + duration_s, float(midi)))
            time_s += duration_s + NOTE_GAP_S
        time_s += PHRASE_GAP_S
    return notes


@pytest.fixture(scope="module")
def vocal() -> npt.NDArray[np.float32]:
    samples, _ = sing(phrase_notes(), vibrato_cents=20.0)
    return samples


@pytest.fixture(scope="module")
def coached_summary(vocal: npt.NDArray[np.float32]) -> dict[str, Any]:
    """The summary as the coaching job writes it: figures plus the phrases."""
    report = coach_track(track_pitch(vocal, RATE))
    phrases = [
        {"start_s": round(p.start_s, 3), "end_s": round(p.end_s, 3), "note_count": p.note_count}
        for p in report.phrases
    ]
    # Through json_object, as into the document: note counts become floats there.
    return json_object({"note_count": report.summary.note_count, "phrases": phrases})


def test_each_phrase_gives_its_line_the_notes_it_holds(coached_summary: dict[str, Any]) -> None:
    assert syllable_targets(coached_summary, 4) == (6, 8, 5, 7)
    phrases = phrases_of(coached_summary)
    assert [p.note_count for p in phrases] == [6, 8, 5, 7]
    starts = [phrase[0][0] for phrase in _notes_by_phrase()]
    for phrase, start_s in zip(phrases, starts, strict=True):
        assert phrase.start_s == pytest.approx(start_s, abs=0.03)
        assert phrase.end_s > phrase.start_s


def test_more_lines_than_phrases_cycle_through_them(coached_summary: dict[str, Any]) -> None:
    assert syllable_targets(coached_summary, 6) == (6, 8, 5, 7, 6, 8)
    assert syllable_targets(coached_summary, 8) == (6, 8, 5, 7) * 2
    assert syllable_targets(coached_summary, 2) == (6, 8)
    # The targets are a request's syllables as they are.
    request = LyricsRequest(theme="rain", rhyme_scheme="ABABCC", syllables=(6, 8, 5, 7, 6, 8))
    assert request.syllables == syllable_targets(coached_summary, 6)


def _notes_by_phrase() -> list[list[tuple[float, float, float]]]:
    notes = iter(phrase_notes())
    return [[next(notes) for _ in phrase] for phrase in PHRASES]


def _phrase(note_count: object, start_s: object = 0.0, end_s: object = 1.0) -> dict[str, object]:
    return {"start_s": start_s, "end_s": end_s, "note_count": note_count}


def test_long_phrases_are_clipped_to_the_syllable_bound() -> None:
    summary = {"phrases": [_phrase(40.0), _phrase(1.0, 2.0, 3.0)]}
    assert syllable_targets(summary, 3) == (MAX_SYLLABLES, 1, MAX_SYLLABLES)


@pytest.mark.parametrize(
    "entry",
    [
        "six notes",
        None,
        [0.0, 1.0, 6],
        {"start_s": 0.0, "end_s": 1.0},
        _phrase("6"),
        _phrase(True),
        _phrase(0.0),
        _phrase(-3.0),
        _phrase(6.5),
        _phrase(float("nan")),
        _phrase(float("inf")),
        _phrase(6.0, start_s="0"),
        _phrase(6.0, start_s=2.0, end_s=1.0),
        _phrase(6.0, start_s=-1.0),
        _phrase(6.0, end_s=float("inf")),
    ],
)
def test_malformed_phrases_are_skipped(entry: object) -> None:
    summary = {"phrases": [entry, _phrase(7.0, 5.0, 6.0)]}
    assert phrases_of(summary) == (PhraseShape(5.0, 6.0, 7),)
    assert syllable_targets(summary, 2) == (7, 7)


def test_phrases_are_taken_in_time_order() -> None:
    summary = {"phrases": [_phrase(5, 3.0, 4.0), _phrase(9, 0.0, 2.0)]}
    assert syllable_targets(summary, 2) == (9, 5)


@pytest.mark.parametrize(
    "summary",
    [
        {},
        {"phrases": []},
        {"phrases": None},
        {"phrases": "6 8 5 7"},
        {"phrases": {"0": _phrase(6.0)}},
        {"phrases": [None, "junk", _phrase(0.0)]},
    ],
)
def test_no_phrases_asks_for_coaching(summary: dict[str, object]) -> None:
    assert phrases_of(summary) == ()
    with pytest.raises(LyricsError, match="no coached phrases yet: run coaching first"):
        syllable_targets(summary, 4)


@pytest.mark.parametrize("lines", [0, -1, 33])
def test_line_count_out_of_range_is_refused(lines: int) -> None:
    with pytest.raises(LyricsError, match="lines must be between 1 and 32"):
        syllable_targets({"phrases": [_phrase(6.0)]}, lines)


def _coaching_job(samples: npt.NDArray[np.float32], folder: Path) -> dict[str, Any]:
    """The coaching job's computed result on ``samples`` written to a WAV file."""
    path = folder / "vocal.wav"
    sf.write(path, samples, RATE, subtype="FLOAT")
    inputs = {"track_id": "track-1", "asset_id": "asset-1", "key": "C major"}
    computed = compute("coaching", {}, inputs, {"asset-1": str(path)}, str(folder), 600.0)
    result: dict[str, Any] = computed["result"]
    return result


def test_the_coaching_job_writes_the_phrases_into_its_summary(
    vocal: npt.NDArray[np.float32], tmp_path: Path
) -> None:
    result = _coaching_job(vocal, tmp_path)

    summary = result["summary"]
    assert summary["phrase_count"] == 4.0
    assert [p["note_count"] for p in summary["phrases"]] == [6.0, 8.0, 5.0, 7.0]
    for phrase in summary["phrases"]:
        assert set(phrase) == {"start_s", "end_s", "note_count"}
        assert phrase["start_s"] == round(phrase["start_s"], 3)
    # The document keeps the list, and the lyrics read it from there.
    kept = document_result(result)["summary"]
    assert kept["phrases"] == summary["phrases"]
    assert syllable_targets(kept, 4) == (6, 8, 5, 7)


def test_a_take_of_many_phrases_keeps_the_first_the_document_can_hold(tmp_path: Path) -> None:
    assert MAX_SUMMARY_PHRASES <= MAX_RESULT_LIST
    # 70 one-note phrases: 0.15 s notes, 0.3 s apart (a phrase gap is 0.25 s).
    notes = [(0.3 + 0.45 * i, 0.45 + 0.45 * i, float(60 + i % 12)) for i in range(70)]
    samples, _ = sing(notes, vibrato_cents=0.0, tail_s=0.5)

    summary = _coaching_job(samples, tmp_path)["summary"]

    assert summary["phrase_count"] == 70.0
    assert len(summary["phrases"]) == MAX_SUMMARY_PHRASES
    assert summary["phrases"][0]["start_s"] == pytest.approx(0.3, abs=0.03)
    assert summary["phrases"][-1]["start_s"] == pytest.approx(0.3 + 0.45 * 63, abs=0.03)
    assert document_result({"summary": summary})["summary"]["phrases"] == summary["phrases"]
