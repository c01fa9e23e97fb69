"""Mastering accuracy on generated songs: loudness on target, true peak under the ceiling."""

from __future__ import annotations

import json
import math
import pickle
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import pyloudnorm
import pytest
from scipy import signal

from jacameno.audio_services.errors import (
    AudioDecodeError,
    AudioProcessingError,
    InvalidEffectChainError,
)
from jacameno.audio_services.mastering import (
    MASTER_PRESETS,
    MasterSettings,
    master,
    master_settings,
    set_stereo_width,
    soft_clip,
)
from jacameno.audio_services.metering import integrated_loudness_lufs, true_peak_dbtp
from jacameno.audio_services.reference_match import long_term_spectrum_db
from jacameno.audio_services.true_peak import fast_true_peak_dbtp

SAMPLE_RATE = 44_100
FloatArray = npt.NDArray[np.float32]

# --- A small song generator -------------------------------------------------------------


@dataclass(frozen=True)
class Genre:
    bpm: float
    kick: tuple[int, ...]  # 16th-note steps per bar
    snare: tuple[int, ...]
    hat_every: int  # 0: no hats
    bass: str  # sine | saw | 808
    chords: str  # pad | saw | pluck | none
    drive: float = 0.0  # tanh drive on the chords (guitars)
    swell_s: float = 0.0  # slow loudness swells (wide loudness range)
    drums_level: float = 1.0
    chords_level: float = 0.25
    bursts_level: float = 0.3  # noise bursts (crashes, risers)


GENRES = {
    "pop": Genre(118, (0, 8, 10), (4, 12), 2, "sine", "pad"),
    "edm": Genre(128, (0, 4, 8, 12), (4, 12), 1, "saw", "saw"),
    "hiphop": Genre(88, (0, 7, 10), (4, 12), 1, "808", "pad"),
    "rock": Genre(140, (0, 6, 8), (4, 12), 2, "saw", "saw", drive=4.0),
    "acoustic": Genre(96, (), (), 0, "sine", "pluck"),
    "ambient": Genre(70, (), (), 0, "sine", "pad", swell_s=12.0),
    "percussion": Genre(100, (0, 6), (12,), 0, "none", "none", bursts_level=0.0),
    "wall": Genre(150, (0, 4, 8, 12), (4, 12), 1, "saw", "saw", 12.0, 0.0, 0.2, 0.8, 0.05),
}
PROGRESSION = np.array([(0, 4, 7), (9, 12, 16), (5, 9, 12), (7, 11, 14)])


def _one_shot(kind: str, rng: np.random.Generator) -> npt.NDArray[np.float64]:
    t = np.arange(int(0.6 * SAMPLE_RATE)) / SAMPLE_RATE
    if kind == "kick":
        return np.sin(2 * np.pi * np.cumsum(50 + 100 * np.exp(-t * 30)) / SAMPLE_RATE) * np.exp(
            -t * 8
        )
    if kind == "snare":
        return (0.6 * rng.standard_normal(t.size) + np.sin(2 * np.pi * 185 * t)) * np.exp(-t * 22)
    return np.diff(rng.standard_normal(t.size + 1)) * np.exp(-t * 60) * 0.5


def _pattern(
    steps: tuple[int, ...], num_frames: int, step: int, rng: np.random.Generator
) -> npt.NDArray[np.float64]:
    bars = range(num_frames // (16 * step) + 1)
    onsets = np.array([(bar * 16 + s) * step for bar in bars for s in steps], dtype=np.int64)
    onsets = onsets[onsets < num_frames]
    train = np.zeros(num_frames)
    train[onsets] = 1.0 - 0.3 * rng.random(onsets.size)
    return train


def _hits(
    kind: str, steps: tuple[int, ...], n: int, step: int, rng: np.random.Generator
) -> npt.NDArray[np.float64]:
    if not steps:
        return np.zeros(n)
    hits: npt.NDArray[np.float64] = signal.oaconvolve(
        _pattern(steps, n, step, rng), _one_shot(kind, rng)
    )
    return hits[:n]


def _oscillator(frequency_hz: npt.NDArray[np.float64], wave: str) -> npt.NDArray[np.float64]:
    cycles = np.cumsum(frequency_hz) / SAMPLE_RATE
    return 2 * (cycles % 1.0) - 1 if wave == "saw" else np.sin(2 * np.pi * cycles)


def make_song(genre: str, num_seconds: float, seed: int = 0, peak_dbfs: float = -6.0) -> FloatArray:
    """Stereo drums, bass, chords and noise bursts, peak-normalised to ``peak_dbfs``."""
    style = GENRES[genre]
    rng = np.random.default_rng(seed)
    n = int(num_seconds * SAMPLE_RATE)
    frames = np.arange(n)
    step = int(SAMPLE_RATE * 60 / style.bpm / 4)
    chord_index = (frames // (16 * step)) % len(PROGRESSION)
    kick = _hits("kick", style.kick, n, step, rng)
    snare = _hits("snare", style.snare, n, step, rng)
    hats = _hits("hat", tuple(range(0, 16, style.hat_every or 16)), n, step, rng)
    hats *= style.hat_every > 0
    drums = np.stack([kick + 0.5 * snare + 0.25 * hats, kick + 0.45 * snare + 0.18 * hats])
    song = style.drums_level * drums
    root_hz = 55 * 2 ** (PROGRESSION[chord_index, 0] / 12)
    if style.bass == "808":
        bass = np.sin(2 * np.pi * np.cumsum(root_hz) / SAMPLE_RATE)
        bass *= np.exp(-((frames % (8 * step)) / SAMPLE_RATE) * 1.5)
    elif style.bass != "none":
        bass = _oscillator(root_hz, style.bass) * np.exp(-((frames % (2 * step)) / SAMPLE_RATE) * 4)
    else:
        bass = np.zeros(n)
    song += 0.5 * bass
    if style.chords != "none":
        chord = sum(
            _oscillator(
                220 * 2 ** (PROGRESSION[chord_index, voice] / 12) * (1 + 0.002 * voice),
                "saw" if style.chords == "saw" else "sine",
            )
            for voice in range(3)
        )
        if style.chords == "pluck":
            chord *= np.exp(-((frames % (4 * step)) / SAMPLE_RATE) * 5)
        if style.drive:
            chord = np.tanh(chord * style.drive)
        song += np.stack([1.1 * chord, 0.9 * chord]) * style.chords_level
    bursts = np.zeros(n)
    for start in range(0, n, 32 * step):
        length = min(int(1.5 * SAMPLE_RATE), n - start)
        bursts[start : start + length] = rng.standard_normal(length) * np.exp(
            -np.arange(length) / SAMPLE_RATE * 3
        )
    song += np.stack([bursts, np.roll(bursts, 13)]) * style.bursts_level
    if style.swell_s:
        song *= 0.15 + 0.85 * np.sin(np.pi * frames / SAMPLE_RATE / style.swell_s) ** 2
    normalised: FloatArray = song * (10 ** (peak_dbfs / 20) / np.abs(song).max())
    return normalised.astype(np.float32)


SONG_SECONDS = {"pop": 20, "edm": 15, "hiphop": 12, "rock": 10, "acoustic": 14, "ambient": 30,
                "percussion": 10, "wall": 12}  # fmt: skip


@pytest.fixture(scope="module")
def songs() -> dict[str, FloatArray]:
    return {
        genre: make_song(genre, seconds, seed=index, peak_dbfs=-3.0 - 4 * (index % 4))
        for index, (genre, seconds) in enumerate(SONG_SECONDS.items())
    }


def _pyloudnorm_lufs(samples: FloatArray) -> float:
    return float(pyloudnorm.Meter(SAMPLE_RATE).integrated_loudness(samples.T.astype(np.float64)))


# --- Accuracy ---------------------------------------------------------------------------


def test_generated_songs_span_genres_and_crest_factors(songs: dict[str, FloatArray]) -> None:
    crest_db = {
        genre: true_peak_dbtp(song, SAMPLE_RATE) - integrated_loudness_lufs(song, SAMPLE_RATE)
        for genre, song in songs.items()
    }
    assert max(crest_db.values()) - min(crest_db.values()) > 6.0, crest_db


@pytest.mark.parametrize("target_lufs", [-23.0, -14.0, -9.0])
@pytest.mark.parametrize("genre", list(SONG_SECONDS))
def test_master_hits_the_target_under_the_ceiling(
    songs: dict[str, FloatArray], genre: str, target_lufs: float
) -> None:
    settings = master_settings("streaming", target_lufs=target_lufs, ceiling_dbtp=-1.0)
    result = master(songs[genre], SAMPLE_RATE, settings)
    out = result.samples
    assert out.shape == songs[genre].shape
    assert out.dtype == np.float32
    assert np.isfinite(out).all()
    # Loudness: our meter (libebur128) and pyloudnorm as an independent check.
    assert integrated_loudness_lufs(out, SAMPLE_RATE) == pytest.approx(target_lufs, abs=0.5)
    assert _pyloudnorm_lufs(out) == pytest.approx(target_lufs, abs=0.5)
    assert result.output.integrated_lufs == pytest.approx(
        integrated_loudness_lufs(out, SAMPLE_RATE), abs=1e-6
    )
    # True peak at or under the ceiling, with libebur128 and with the fast meter.
    assert true_peak_dbtp(out, SAMPLE_RATE) <= settings.ceiling_dbtp
    assert fast_true_peak_dbtp(out, SAMPLE_RATE) <= settings.ceiling_dbtp
    assert result.output.true_peak_dbtp <= settings.ceiling_dbtp
    assert result.passes <= 2


@pytest.mark.parametrize("preset", list(MASTER_PRESETS))
def test_presets_meet_their_own_targets(songs: dict[str, FloatArray], preset: str) -> None:
    settings = MASTER_PRESETS[preset]
    result = master(songs["pop"], SAMPLE_RATE, settings)
    assert integrated_loudness_lufs(result.samples, SAMPLE_RATE) == pytest.approx(
        settings.target_lufs, abs=0.5
    )
    assert true_peak_dbtp(result.samples, SAMPLE_RATE) <= settings.ceiling_dbtp


def test_documented_preset_figures() -> None:
    figures = {name: (s.target_lufs, s.ceiling_dbtp) for name, s in MASTER_PRESETS.items()}
    assert figures == {
        "streaming": (-14.0, -1.0),
        "club": (-9.0, -1.0),
        "broadcast": (-23.0, -1.0),
        "podcast": (-16.0, -1.0),
    }


@pytest.mark.parametrize("sample_rate", [48_000, 96_000])
def test_other_sample_rates_hold_the_ceiling(sample_rate: int) -> None:
    rng = np.random.default_rng(3)
    t = np.arange(8 * sample_rate) / sample_rate
    beats = (np.sin(2 * np.pi * 60 * t) * np.exp(-(t % 0.5) * 10)
             + 0.2 * rng.standard_normal(t.size) * np.exp(-((t + 0.25) % 0.5) * 20))  # fmt: skip
    song = (np.stack([beats, np.roll(beats, 5)]) * 0.5).astype(np.float32)
    result = master(song, sample_rate, master_settings("club"))
    assert integrated_loudness_lufs(result.samples, sample_rate) == pytest.approx(-9.0, abs=0.5)
    assert true_peak_dbtp(result.samples, sample_rate) <= -1.0


def test_mono_stays_mono(songs: dict[str, FloatArray]) -> None:
    mono = songs["acoustic"][:1]
    result = master(mono, SAMPLE_RATE, master_settings("streaming", stereo_width=2.0))
    assert result.samples.shape == mono.shape
    assert integrated_loudness_lufs(result.samples, SAMPLE_RATE) == pytest.approx(-14.0, abs=0.5)


def test_result_reports_what_was_done(songs: dict[str, FloatArray]) -> None:
    result = master(songs["edm"], SAMPLE_RATE, master_settings("club"))
    assert result.input.integrated_lufs == pytest.approx(
        integrated_loudness_lufs(songs["edm"], SAMPLE_RATE), abs=1e-6
    )
    assert result.input.true_peak_dbtp == pytest.approx(
        true_peak_dbtp(songs["edm"], SAMPLE_RATE), abs=0.01
    )
    assert result.target_lufs == -9.0
    assert result.limiter_reduction_db > 0.0
    assert result.gain_db > 0.0
    assert 1 <= result.passes <= result.settings.max_passes
    assert result.trim_db <= 0.0
    as_json = json.loads(json.dumps(result.to_json()))
    assert as_json["output"]["integrated_lufs"] == pytest.approx(-9.0, abs=0.5)
    assert "samples" not in as_json
    clone = pickle.loads(pickle.dumps(result))
    assert np.array_equal(clone.samples, result.samples)


# --- Stages -----------------------------------------------------------------------------


def _side_to_mid_db(stereo: FloatArray) -> float:
    mid, side = stereo[0] + stereo[1], stereo[0] - stereo[1]
    return 10 * math.log10(float(np.mean(side**2)) / float(np.mean(mid**2)))


def test_stereo_width_scales_the_side_signal(songs: dict[str, FloatArray]) -> None:
    song = songs["pop"]
    assert np.allclose(set_stereo_width(song, 1.0), song, atol=1e-6)
    mono = set_stereo_width(song, 0.0)
    assert np.allclose(mono[0], mono[1])
    narrow = master(song, SAMPLE_RATE, master_settings("broadcast", stereo_width=1.0))
    wide = master(song, SAMPLE_RATE, master_settings("broadcast", stereo_width=2.0))
    widened_db = _side_to_mid_db(wide.samples) - _side_to_mid_db(narrow.samples)
    assert widened_db == pytest.approx(20 * math.log10(2.0), abs=0.5)


def test_low_cut_and_tilt_shape_the_spectrum(songs: dict[str, FloatArray]) -> None:
    song = songs["edm"]
    plain = master(song, SAMPLE_RATE, master_settings("broadcast"))
    shaped = master(song, SAMPLE_RATE, master_settings("broadcast", low_cut_hz=150.0, tilt_db=4.0))

    def band_db(samples: FloatArray, low_hz: float, high_hz: float) -> float:
        frequencies, spectrum_db = long_term_spectrum_db(samples, SAMPLE_RATE)
        band = (frequencies >= low_hz) & (frequencies < high_hz)
        return float(10 * np.log10(np.mean(10 ** (spectrum_db[band] / 10))))

    lows = band_db(shaped.samples, 30, 80) - band_db(plain.samples, 30, 80)
    highs = band_db(shaped.samples, 4_000, 12_000) - band_db(plain.samples, 4_000, 12_000)
    assert lows < -6.0
    assert highs > 1.0


def test_soft_clip_is_transparent_below_the_knee_and_bounded_above() -> None:
    ramp = np.linspace(-4.0, 4.0, 10_001, dtype=np.float32)[np.newaxis, :]
    clipped = soft_clip(ramp, 1.0)
    assert np.abs(clipped).max() <= 1.0
    quiet = np.abs(ramp) < 0.6
    assert np.array_equal(clipped[quiet], ramp[quiet])
    assert np.all(np.diff(clipped[0]) >= 0)  # monotonic: no fold-back


def test_reference_matching_moves_spectrum_and_loudness(songs: dict[str, FloatArray]) -> None:
    song = songs["pop"]
    sos = signal.butter(2, 2_000, "lowpass", fs=SAMPLE_RATE, output="sos")
    dull = signal.sosfilt(sos, song, axis=1).astype(np.float32)
    reference = (songs["rock"] * 0.7).astype(np.float32)
    reference_lufs = integrated_loudness_lufs(reference, SAMPLE_RATE)
    result = master(dull, SAMPLE_RATE, master_settings("streaming"), reference=reference)
    assert result.target_lufs == pytest.approx(reference_lufs, abs=1e-6)
    assert integrated_loudness_lufs(result.samples, SAMPLE_RATE) == pytest.approx(
        reference_lufs, abs=0.5
    )
    assert true_peak_dbtp(result.samples, SAMPLE_RATE) <= -1.0

    def brightness_db(samples: FloatArray) -> float:
        frequencies, spectrum_db = long_term_spectrum_db(samples, SAMPLE_RATE)
        high = (frequencies > 4_000) & (frequencies < 10_000)
        mid = (frequencies > 300) & (frequencies < 1_000)
        return float(spectrum_db[high].mean() - spectrum_db[mid].mean())

    before = brightness_db(dull)
    after = brightness_db(result.samples)
    target = brightness_db(reference)
    assert abs(after - target) < abs(before - target) - 3.0


# --- Errors and settings ----------------------------------------------------------------


def test_silence_cannot_be_mastered() -> None:
    with pytest.raises(AudioProcessingError, match="silence"):
        master(np.zeros((2, 5 * SAMPLE_RATE), np.float32), SAMPLE_RATE)


def test_too_short_to_measure_cannot_be_mastered() -> None:
    blip = (np.random.default_rng(0).standard_normal((2, SAMPLE_RATE // 4)) * 0.1).astype(
        np.float32
    )
    with pytest.raises(AudioProcessingError, match="400 ms"):
        master(blip, SAMPLE_RATE)


def test_nan_input_is_a_decode_error(songs: dict[str, FloatArray]) -> None:
    broken = songs["rock"].copy()
    broken[0, 1000] = np.nan
    with pytest.raises(AudioDecodeError):
        master(broken, SAMPLE_RATE)


def test_unreachable_target_raises(songs: dict[str, FloatArray]) -> None:
    settings = master_settings("streaming", target_lufs=-5.0, ceiling_dbtp=-12.0, max_passes=2)
    with pytest.raises(AudioProcessingError, match="could not reach"):
        master(songs["acoustic"], SAMPLE_RATE, settings)


@pytest.mark.parametrize(
    "overrides",
    [
        {"target_lufs": -50.0},
        {"ceiling_dbtp": 1.0},
        {"stereo_width": 3.0},
        {"compression_ratio": math.nan},
        {"low_cut_hz": 5.0},
        {"max_passes": 0},
        {"max_passes": 2.5},
        {"clipper": "yes"},
        {"target_lufs": "loud"},
        {"no_such_setting": 1},
    ],
)
def test_bad_settings_are_refused(overrides: dict[str, object]) -> None:
    with pytest.raises(InvalidEffectChainError, match=r"master setting|bad master settings"):
        master_settings("streaming", **overrides)


def test_settings_from_document_json() -> None:
    settings = MasterSettings.from_json({"preset": "club", "ceiling_dbtp": -0.5, "max_passes": 3.0})
    assert settings.target_lufs == -9.0
    assert settings.ceiling_dbtp == -0.5
    assert settings.max_passes == 3
    assert MasterSettings.from_json(settings.to_json()) == settings
    with pytest.raises(InvalidEffectChainError, match="unknown master settings"):
        MasterSettings.from_json({"volume": 11})
    with pytest.raises(InvalidEffectChainError, match="unknown mastering preset"):
        master_settings("lofi")


def test_clipper_defaults_on_for_loud_targets() -> None:
    assert master_settings("club").uses_clipper
    assert not master_settings("streaming").uses_clipper
    assert master_settings("streaming", clipper=True).uses_clipper
