"""The generated demo song: stems, determinism, and that the services hear what was made."""

from __future__ import annotations

import numpy as np
import pytest

from jacameno.audio_services.analysis import analyze
from jacameno.audio_services.coaching import coach_vocal
from jacameno.audio_services.demo_stems import DEMO_KEY, DEMO_TEMPO_BPM, DemoSong, demo_song
from jacameno.audio_services.metering import integrated_loudness_lufs, sample_peak_dbfs


@pytest.fixture(scope="module")
def song() -> DemoSong:
    return demo_song()


def test_stems_are_named_shaped_and_audible(song: DemoSong) -> None:
    assert set(song.stems) == {"drums", "bass", "chords", "vocal"}
    assert song.sample_rate == 44_100
    assert 20.0 <= song.duration_s <= 30.0
    frames = round(song.duration_s * song.sample_rate)
    channels = {name: audio.shape[0] for name, audio in song.stems.items()}
    assert channels == {"drums": 2, "bass": 1, "chords": 2, "vocal": 1}
    for name, audio in song.stems.items():
        assert audio.dtype == np.float32, name
        assert audio.shape[1] == frames, name
        assert sample_peak_dbfs(audio) == pytest.approx(-6.0, abs=0.01), name
        assert integrated_loudness_lufs(audio, song.sample_rate) > -30.0, name
        # audible in every bar, not just somewhere: no stretch of 2 s is silent
        # (the vocal rests in the first and last bars)
        if name != "vocal":
            window = 2 * song.sample_rate
            rms = [
                float(np.sqrt(np.mean(audio[:, start : start + window] ** 2)))
                for start in range(0, frames - window, window)
            ]
            assert min(rms) > 0.01, name


def test_same_seed_same_song_other_seed_other_take() -> None:
    first, again, other = (demo_song(seed=seed, sample_rate=22_050) for seed in (1, 1, 2))
    for name in first.stems:
        np.testing.assert_array_equal(first.stems[name], again.stems[name])
    assert not np.array_equal(first.stems["drums"], other.stems["drums"])
    assert first.melody == other.melody
    assert first.flaws == other.flaws
    assert first.stems["vocal"].shape[1] == round(first.duration_s * 22_050)


def test_analysis_finds_the_tempo_and_key_it_was_made_in(song: DemoSong) -> None:
    mix = sum(np.broadcast_to(audio, (2, audio.shape[1])) for audio in song.stems.values())
    result = analyze(np.asarray(mix) / 4, song.sample_rate)
    assert (song.tempo_bpm, song.key) == (DEMO_TEMPO_BPM, DEMO_KEY)
    assert result.tempo.tempo_bpm == pytest.approx(DEMO_TEMPO_BPM, abs=0.5)
    assert result.key is not None
    assert result.key.name == DEMO_KEY
    assert result.tempo.beat_times_s[0] == pytest.approx(song.first_beat_s, abs=0.02)


def test_coaching_finds_the_built_in_flaws_and_nothing_else(song: DemoSong) -> None:
    report = coach_vocal(
        song.stems["vocal"], song.sample_rate, key=song.key, beat_times_s=song.beat_times_s
    )
    flags = [note for note in report.notes if note.kind in ("flat", "sharp", "early", "late")]
    assert [note.kind for note in flags] == [flaw.kind for flaw in song.flaws]
    for note, flaw in zip(flags, song.flaws, strict=True):
        assert note.start_s == pytest.approx(flaw.start_s, abs=0.1)
    assert flags[0].cents == pytest.approx(song.flaws[0].amount, abs=5.0)
    assert flags[1].ms == pytest.approx(song.flaws[1].amount, abs=20.0)
    assert report.summary.note_count == len(song.melody)


def test_sample_rate_is_checked() -> None:
    with pytest.raises(ValueError, match="sample_rate"):
        demo_song(sample_rate=4_000)
