"""MIDI tracks through FluidSynth: notes at their pitch and on their sample, cut at the
clip's end, voices summed across passes, and played by the mixer and the stems."""

from __future__ import annotations

import math
import os
from pathlib import Path

import numpy as np
import pytest

from jacameno.audio_services.midi_render import (
    SOUNDFONT_PATHS,
    MidiTrackSource,
    find_soundfont,
    note_events,
)
from jacameno.audio_services.mixing import Stem, mix
from jacameno.audio_services.pitch import track_pitch

SR = 44_100


def soundfont() -> Path:
    if not any(Path(path).is_file() for path in SOUNDFONT_PATHS):
        message = "no General MIDI SoundFont: run make synth-deps (timgm6mb-soundfont)"
        if os.environ.get("JACAMENO_REQUIRE_SERVICES") == "1":
            pytest.fail(message)
        pytest.skip(message)
    return find_soundfont()


def render(
    notes: list[dict[str, float]], start_s: float = 0.0, bpm: float = 120.0, instrument: int = 0
) -> np.ndarray:
    clip = {"start_s": start_s, "duration_s": 8.0, "notes": notes}
    source = MidiTrackSource(
        [clip], bpm=bpm, instrument=instrument, sample_rate=SR, soundfont=soundfont()
    )
    blocks = list(source.blocks(4_096))
    out = np.concatenate(blocks, axis=1)
    assert out.shape == (2, source.frames_hint)
    return out


def onset(audio: np.ndarray) -> int:
    return int(np.flatnonzero(np.abs(audio[0]) > 1e-6)[0])


def pitch_hz(audio: np.ndarray, start_s: float, stop_s: float) -> float:
    """The median pitch Praat finds between ``start_s`` and ``stop_s``."""
    track = track_pitch(audio[0], SR)
    window = (track.times_s >= start_s) & (track.times_s <= stop_s) & ~np.isnan(track.f0_hz)
    return float(np.median(track.f0_hz[window]))


@pytest.mark.parametrize("pitch", [57, 69, 76])
def test_a_note_sounds_at_its_pitch(pitch: int) -> None:
    # GM 80, the square lead: TimGM6mb tunes it within 1.3 cents (its piano samples are
    # up to 7 cents off: the SoundFont's tuning, heard the same in the browser).
    audio = render([{"pitch": pitch, "start_beats": 0.0, "length_beats": 4.0}], instrument=80)
    expected = 440.0 * 2 ** ((pitch - 69) / 12)
    cents = 1200 * math.log2(pitch_hz(audio, 0.2, 1.5) / expected)
    assert abs(cents) < 5.0


@pytest.mark.parametrize("start_s", [0.5, 0.123457, 1 / 3, 2.000011])
def test_a_note_starts_on_its_sample(start_s: float) -> None:
    note = [{"pitch": 69, "start_beats": 0.0, "length_beats": 1.0}]
    reference = onset(render(note))  # the instrument's own attack, at 0 s
    late_ms = (onset(render(note, start_s=start_s)) - reference - start_s * SR) / SR * 1000
    assert 0.0 <= late_ms < 1.0


def test_beats_follow_the_tempo_and_clips_cut_notes() -> None:
    events = note_events(
        [
            {
                "start_s": 1.0,
                "duration_s": 2.0,
                "notes": [
                    {"pitch": 60, "start_beats": 1.0, "length_beats": 1.0, "velocity": 90},
                    {"pitch": 62, "start_beats": 2.0, "length_beats": 4.0},
                    {"pitch": 64, "start_beats": 5.0, "length_beats": 1.0},
                ],
            }
        ],
        bpm=90.0,
        sample_rate=SR,
    )
    on = {e.pitch: e.sample for e in events if e.velocity}
    off = {e.pitch: e.sample for e in events if not e.velocity}
    assert on[60] == round((1.0 + 60 / 90) * SR)
    assert off[60] == round((1.0 + 2 * 60 / 90) * SR)
    assert off[62] == 3 * SR  # cut at the clip's end
    assert 64 not in on  # starts after the clip ends


def test_a_chord_is_the_sum_of_its_notes() -> None:
    notes = [
        {"pitch": 60, "start_beats": 0.0, "length_beats": 2.0},
        {"pitch": 64, "start_beats": 0.01, "length_beats": 2.0},
    ]
    chord = render(notes)
    alone = [render([note]) for note in notes]
    frames = min(chord.shape[1], *(a.shape[1] for a in alone))
    summed = alone[0][:, :frames] + alone[1][:, :frames]
    np.testing.assert_allclose(chord[:, :frames], summed, atol=1e-4)


def test_the_mixer_plays_a_midi_track_beside_audio() -> None:
    clip = {
        "start_s": 0.5,
        "duration_s": 2.0,
        "notes": [{"pitch": 69, "start_beats": 0.0, "length_beats": 2.0}],
    }
    keys = MidiTrackSource([clip], bpm=120.0, instrument=0, sample_rate=SR, soundfont=soundfont())
    result = mix([Stem(keys, "Keys", role="keys")], SR, bus_glue=False)
    assert result.samples.shape[1] == keys.frames_hint
    assert np.abs(result.samples[:, : SR // 2 - 100]).max() < 1e-4  # silent before 0.5 s
    assert np.abs(result.samples[:, SR:]).max() > 0.01
