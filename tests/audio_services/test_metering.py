"""Loudness and true-peak meters against EBU Tech 3341 / 3342 figures on generated signals.

The EBU reference files are 48 kHz tone sequences; these tests synthesise the
same sequences (stereo 1 kHz sines at the stated dBFS, i.e. peak amplitude).
"""

from __future__ import annotations

import math
import pickle

import numpy as np
import numpy.typing as npt
import pytest

from jacameno.audio_services.errors import AudioDecodeError, AudioLimitError
from jacameno.audio_services.metering import (
    LoudnessReport,
    integrated_loudness_lufs,
    loudness_and_range,
    loudness_range_lu,
    measure_loudness,
    sample_peak_dbfs,
    true_peak_dbtp,
)
from jacameno.audio_services.true_peak import fast_true_peak_dbtp, true_peak_envelope

SAMPLE_RATE = 48_000
FloatArray = npt.NDArray[np.float32]


def tone(level_dbfs: float, num_seconds: float, frequency_hz: float = 1_000.0) -> FloatArray:
    """A sine peaking at ``level_dbfs``; segments hold whole cycles, so they join cleanly."""
    t = np.arange(round(num_seconds * SAMPLE_RATE)) / SAMPLE_RATE
    return (10 ** (level_dbfs / 20) * np.sin(2 * np.pi * frequency_hz * t)).astype(np.float32)


def sequence(*segments: tuple[float, float], channels: int = 2) -> FloatArray:
    """Stereo (by default) concatenation of (level dBFS, seconds) tone segments."""
    mono = np.concatenate([tone(level, seconds) for level, seconds in segments])
    return np.tile(mono, (channels, 1))


# --- EBU Tech 3341: integrated loudness, +/- 0.1 LU -----------------------------------


@pytest.mark.parametrize(
    ("case", "segments"),
    [
        (1, [(-23.0, 20.0)]),
        (3, [(-36.0, 10.0), (-23.0, 60.0), (-36.0, 10.0)]),
        (4, [(-72.0, 10.0), (-36.0, 10.0), (-23.0, 60.0), (-36.0, 10.0), (-72.0, 10.0)]),
        (5, [(-26.0, 20.0), (-20.0, 20.1), (-26.0, 20.0)]),
    ],
)
def test_tech_3341_integrated_cases_read_minus_23(
    case: int, segments: list[tuple[float, float]]
) -> None:
    assert integrated_loudness_lufs(sequence(*segments), SAMPLE_RATE) == pytest.approx(
        -23.0, abs=0.1
    ), f"Tech 3341 case {case}"


def test_tech_3341_case_2_reads_minus_33() -> None:
    assert integrated_loudness_lufs(sequence((-33.0, 20.0)), SAMPLE_RATE) == pytest.approx(
        -33.0, abs=0.1
    )


def test_tech_3341_case_6_five_channels_weight_the_surrounds() -> None:
    # L, R, C, Ls, Rs: surrounds weigh +1.5 dB (BS.1770-4 table 3).
    channels = [tone(level, 20.0) for level in (-28.0, -28.0, -24.0, -30.0, -30.0)]
    assert integrated_loudness_lufs(np.stack(channels), SAMPLE_RATE) == pytest.approx(
        -23.0, abs=0.1
    )


def test_five_one_excludes_the_lfe_channel() -> None:
    quiet = [tone(level, 20.0) for level in (-28.0, -28.0, -24.0, -30.0, -30.0)]
    loud_lfe = tone(-6.0, 20.0, frequency_hz=60.0)
    five_one = np.stack([quiet[0], quiet[1], quiet[2], loud_lfe, quiet[3], quiet[4]])
    assert integrated_loudness_lufs(five_one, SAMPLE_RATE) == pytest.approx(-23.0, abs=0.1)
    # Peaks still count on every channel, the LFE included.
    assert true_peak_dbtp(five_one, SAMPLE_RATE) == pytest.approx(-6.0, abs=0.1)


def test_mono_sine_at_minus_20_dbfs_reads_minus_23() -> None:
    # One channel weighted 1.0: half the power of the stereo case.
    assert integrated_loudness_lufs(tone(-20.0, 10.0), SAMPLE_RATE) == pytest.approx(-23.0, abs=0.1)


# --- EBU Tech 3341: true peak, +0.2 / -0.4 dB ------------------------------------------


def _faded(samples: FloatArray) -> FloatArray:
    """50 ms raised-cosine fades, so the interpolator sees no onset step."""
    ramp_frames = round(0.05 * SAMPLE_RATE)
    ramp = 0.5 - 0.5 * np.cos(np.pi * np.arange(ramp_frames) / ramp_frames)
    envelope = np.ones(samples.size)
    envelope[:ramp_frames] = ramp
    envelope[-ramp_frames:] = ramp[::-1]
    return (samples * envelope).astype(np.float32)


def _phased_sine(divisor: int, phase_deg: float, amplitude: float) -> FloatArray:
    frames = np.arange(SAMPLE_RATE)
    wave = amplitude * np.sin(2 * np.pi * frames / divisor + np.deg2rad(phase_deg))
    return np.tile(_faded(wave.astype(np.float32)), (2, 1))


def _four_fs_pulses(offset: int) -> FloatArray:
    """0 dBTP pulses synthesised at 4 x 48 kHz, decimated starting at ``offset`` (0..3).

    Hann-windowed sinc pulses band-limited to 16 kHz, one every 100 ms, each
    peaking at exactly 1.0 on the 192 kHz grid; each offset puts that peak on a
    different inter-sample position of the 48 kHz signal.
    """
    upsampled_rate = 4 * SAMPLE_RATE
    t = np.arange(4 * SAMPLE_RATE) / upsampled_rate - 0.05
    local = (t + 0.05) % 0.1 - 0.05
    window = np.where(np.abs(local) < 0.004, 0.5 + 0.5 * np.cos(np.pi * local / 0.004), 0.0)
    pulses = np.sinc(2 * 16_000 * local) * window
    return np.tile(pulses[offset::4].astype(np.float32), (2, 1))


SQRT2_BELOW_FULL_SCALE = math.sqrt(2) * 10 ** (-0.001 / 20)

TRUE_PEAK_CASES = [
    pytest.param(_phased_sine(4, 0.0, 0.5), -6.0, id="15-fs/4-0deg"),
    pytest.param(_phased_sine(4, 45.0, 0.5), -6.0, id="16-fs/4-45deg"),
    pytest.param(_phased_sine(6, 60.0, 0.5), -6.0, id="17-fs/6-60deg"),
    pytest.param(_phased_sine(8, 67.5, 0.5), -6.0, id="18-fs/8-67.5deg"),
    pytest.param(_phased_sine(4, 45.0, SQRT2_BELOW_FULL_SCALE), 3.0, id="19-fs/4-45deg-+3"),
    *(pytest.param(_four_fs_pulses(k), 0.0, id=f"{20 + k}-4fs-offset-{k}") for k in range(4)),
]


@pytest.mark.parametrize(("samples", "expected_dbtp"), TRUE_PEAK_CASES)
def test_tech_3341_true_peak_cases(samples: FloatArray, expected_dbtp: float) -> None:
    measured = true_peak_dbtp(samples, SAMPLE_RATE)
    assert expected_dbtp - 0.4 <= measured <= expected_dbtp + 0.2


@pytest.mark.parametrize(("samples", "expected_dbtp"), TRUE_PEAK_CASES)
def test_fast_true_peak_meter_matches_libebur128(samples: FloatArray, expected_dbtp: float) -> None:
    assert fast_true_peak_dbtp(samples, SAMPLE_RATE) == pytest.approx(
        true_peak_dbtp(samples, SAMPLE_RATE), abs=1e-3
    )


def test_case_19_sample_peak_misses_the_inter_sample_peak() -> None:
    samples = _phased_sine(4, 45.0, SQRT2_BELOW_FULL_SCALE)
    assert sample_peak_dbfs(samples) == pytest.approx(-0.001, abs=0.002)
    assert true_peak_dbtp(samples, SAMPLE_RATE) > 2.8


@pytest.mark.parametrize("sample_rate", [44_100, 48_000, 96_000, 192_000])
def test_fast_true_peak_envelope_matches_libebur128_on_noise(sample_rate: int) -> None:
    rng = np.random.default_rng(sample_rate)
    noise = _faded((rng.standard_normal(SAMPLE_RATE) * 0.2).astype(np.float32))
    samples = np.stack([noise, np.roll(noise, 7) * 0.9])
    envelope = true_peak_envelope(samples, sample_rate)
    assert envelope.shape == (samples.shape[1],)
    assert np.all(envelope >= np.abs(samples).max(axis=0))
    assert 20 * math.log10(float(envelope.max())) == pytest.approx(
        true_peak_dbtp(samples, sample_rate), abs=1e-4
    )


# --- EBU Tech 3342: loudness range, +/- 1 LU -------------------------------------------


@pytest.mark.parametrize(
    ("segments", "expected_lu"),
    [
        pytest.param([(-20.0, 20.0), (-30.0, 20.0)], 10.0, id="case-1"),
        pytest.param([(-20.0, 20.0), (-15.0, 20.0)], 5.0, id="case-2"),
        pytest.param([(-40.0, 20.0), (-20.0, 20.0)], 20.0, id="case-3"),
        pytest.param(
            [(-50.0, 20.0), (-35.0, 20.0), (-20.0, 20.0), (-35.0, 20.0), (-50.0, 20.0)],
            15.0,
            id="case-4",
        ),
    ],
)
def test_tech_3342_loudness_range(segments: list[tuple[float, float]], expected_lu: float) -> None:
    assert loudness_range_lu(sequence(*segments), SAMPLE_RATE) == pytest.approx(
        expected_lu, abs=1.0
    )


# --- One-pass report and edge cases ----------------------------------------------------


def test_measure_loudness_agrees_with_the_single_meters() -> None:
    samples = sequence((-20.0, 20.0), (-30.0, 20.0))
    report = measure_loudness(samples, SAMPLE_RATE)
    assert report.integrated_lufs == pytest.approx(
        integrated_loudness_lufs(samples, SAMPLE_RATE), abs=1e-9
    )
    assert report.loudness_range_lu == pytest.approx(loudness_range_lu(samples, SAMPLE_RATE))
    assert report.true_peak_dbtp == pytest.approx(true_peak_dbtp(samples, SAMPLE_RATE))
    assert report.sample_peak_dbfs == pytest.approx(-20.0, abs=0.01)
    assert report.num_seconds == pytest.approx(40.0)
    assert (report.sample_rate, report.num_channels) == (SAMPLE_RATE, 2)
    assert loudness_and_range(samples, SAMPLE_RATE) == (
        report.integrated_lufs,
        report.loudness_range_lu,
    )


def test_silence_measures_minus_infinity_and_serialises_as_null() -> None:
    report = measure_loudness(np.zeros((2, 5 * SAMPLE_RATE), np.float32), SAMPLE_RATE)
    assert report.integrated_lufs == -math.inf
    assert report.true_peak_dbtp == -math.inf
    assert report.sample_peak_dbfs == -math.inf
    assert report.loudness_range_lu == 0.0
    as_json = report.to_json()
    assert as_json["integrated_lufs"] is None
    assert as_json["loudness_range_lu"] == 0.0


def test_signal_shorter_than_one_gating_block_has_no_integrated_loudness() -> None:
    short = np.tile(tone(-20.0, 0.3), (2, 1))
    assert integrated_loudness_lufs(short, SAMPLE_RATE) == -math.inf
    assert loudness_range_lu(short, SAMPLE_RATE) == 0.0
    assert true_peak_dbtp(short, SAMPLE_RATE) == pytest.approx(-20.0, abs=0.1)


def test_just_over_400_ms_is_measured() -> None:
    assert integrated_loudness_lufs(sequence((-23.0, 0.45)), SAMPLE_RATE) == pytest.approx(
        -23.0, abs=0.1
    )


def test_empty_audio_is_silence() -> None:
    assert integrated_loudness_lufs(np.zeros((2, 0), np.float32), SAMPLE_RATE) == -math.inf
    assert sample_peak_dbfs(np.zeros((2, 0), np.float32)) == -math.inf


def test_one_dimensional_input_is_mono() -> None:
    mono = tone(-20.0, 5.0)
    assert integrated_loudness_lufs(mono, SAMPLE_RATE) == pytest.approx(
        integrated_loudness_lufs(mono[np.newaxis, :], SAMPLE_RATE)
    )


def test_float64_input_is_accepted() -> None:
    samples = sequence((-23.0, 5.0)).astype(np.float64)
    assert integrated_loudness_lufs(samples, SAMPLE_RATE) == pytest.approx(-23.0, abs=0.1)


@pytest.mark.parametrize("bad_value", [math.nan, math.inf, -math.inf])
def test_non_finite_samples_raise_a_decode_error(bad_value: float) -> None:
    samples = sequence((-23.0, 2.0))
    samples[1, 12_345] = bad_value
    with pytest.raises(AudioDecodeError, match="frame 12345"):
        integrated_loudness_lufs(samples, SAMPLE_RATE)
    with pytest.raises(AudioDecodeError):
        measure_loudness(samples, SAMPLE_RATE)
    with pytest.raises(AudioDecodeError):
        sample_peak_dbfs(samples)


def test_frames_by_channels_layout_is_refused_with_a_hint() -> None:
    with pytest.raises(AudioLimitError, match="transpose"):
        integrated_loudness_lufs(sequence((-23.0, 1.0)).T, SAMPLE_RATE)


def test_integer_samples_are_refused() -> None:
    with pytest.raises(AudioDecodeError, match="floating point"):
        integrated_loudness_lufs(np.zeros((2, 1000), np.int16), SAMPLE_RATE)


@pytest.mark.parametrize("sample_rate", [0, 4_000, 1_000_000])
def test_unsupported_sample_rates_are_refused(sample_rate: int) -> None:
    with pytest.raises(AudioLimitError, match="sample rate"):
        integrated_loudness_lufs(np.zeros((2, 1000), np.float32), sample_rate)


def test_report_is_a_plain_picklable_value() -> None:
    report = measure_loudness(sequence((-23.0, 3.0)), SAMPLE_RATE)
    assert isinstance(report, LoudnessReport)
    assert pickle.loads(pickle.dumps(report)) == report
