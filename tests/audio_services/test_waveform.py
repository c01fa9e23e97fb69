"""Waveform peaks and the multi-resolution pyramid."""

from __future__ import annotations

import json
import time

import numpy as np
import numpy.typing as npt
import pytest

from jacameno.audio_services.errors import AudioDecodeError
from jacameno.audio_services.waveform import (
    MAX_BASE_SPP,
    MAX_POINTS,
    WaveformPyramid,
    waveform_peaks,
)

FloatArray = npt.NDArray[np.float32]
RATE = 44_100


@pytest.fixture(scope="module")
def track() -> FloatArray:
    """180 s stereo noise at -14 dBFS RMS with a click train: right channel half as loud."""
    rng = np.random.default_rng(0)
    left = (0.2 * rng.standard_normal(180 * RATE)).clip(-0.9, 0.9)
    samples = np.stack([left, 0.5 * left]).astype(np.float32)
    samples[:, ::RATE] = [[1.0], [-1.0]]  # one full-scale click a second
    return samples


@pytest.fixture(scope="module")
def pyramid(track: FloatArray) -> WaveformPyramid:
    return WaveformPyramid.build(track, RATE)


def test_exact_peaks_of_a_known_signal() -> None:
    samples = np.array([[0.0, 0.5, -0.25, 0.0, 0.1, -0.9, 0.3, 0.2]], dtype=np.float32)
    peaks = waveform_peaks(samples, 4, sample_rate=8_000)
    np.testing.assert_allclose(peaks.minima, [[0.0, -0.25, -0.9, 0.2]])
    np.testing.assert_allclose(peaks.maxima, [[0.5, 0.0, 0.1, 0.3]])
    assert peaks.samples_per_point == 2.0
    assert peaks.duration_s == pytest.approx(0.001)


def test_mixed_peaks_are_the_envelope_over_channels() -> None:
    samples = np.array([[0.5, -0.1], [-0.5, 0.8]], dtype=np.float32)
    mixed = waveform_peaks(samples, 2, mix=True)
    np.testing.assert_allclose(mixed.minima, [[-0.5, -0.1]])
    np.testing.assert_allclose(mixed.maxima, [[0.5, 0.8]])


def test_more_points_than_frames_repeat_samples() -> None:
    peaks = waveform_peaks(np.array([0.1, -0.2, 0.3], dtype=np.float32), 6)
    np.testing.assert_allclose(peaks.maxima, [[0.1, 0.1, -0.2, -0.2, 0.3, 0.3]])
    assert peaks.points == 6


@pytest.mark.parametrize("points", [0, MAX_POINTS + 1])
def test_points_out_of_range(points: int) -> None:
    with pytest.raises(ValueError, match="points must be between"):
        waveform_peaks(np.zeros(10, dtype=np.float32), points)


def test_pyramid_levels(pyramid: WaveformPyramid, track: FloatArray) -> None:
    # 180 s at 44.1 kHz: the finest level keeps at least MAX_POINTS real points.
    assert pyramid.base_samples_per_point <= MAX_BASE_SPP
    assert pyramid.levels[0][0].shape == (2, -(-track.shape[1] // pyramid.base_samples_per_point))
    assert pyramid.levels[0][0].shape[1] >= MAX_POINTS
    assert pyramid.levels[-1][0].shape[1] >= 64
    sizes = [level[0].shape[1] for level in pyramid.levels]
    assert sizes[1:] == [-(-size // 4) for size in sizes[:-1]]


@pytest.mark.parametrize("points", [1, 100, 1_000, 4_321, MAX_POINTS])
def test_pyramid_matches_exact_peaks(
    pyramid: WaveformPyramid, track: FloatArray, points: int
) -> None:
    served = pyramid.peaks(points)
    exact = waveform_peaks(track, points)
    assert served.minima.shape == served.maxima.shape == (2, points)
    assert served.samples_per_point == pytest.approx(track.shape[1] / points)
    # Quantised to 16 bits, and a stored point straddling two output points may
    # lend its peak to the neighbour: compare each point with its neighbourhood.
    padded = np.pad(exact.maxima, ((0, 0), (1, 1)), mode="edge")
    neighbourhood_max = np.maximum(np.maximum(padded[:, :-2], padded[:, 1:-1]), padded[:, 2:])
    assert np.all(served.maxima <= neighbourhood_max + 1e-4)
    assert np.mean(np.abs(served.maxima - exact.maxima) < 1e-4) > 0.5
    assert served.maxima[0].max() == pytest.approx(1.0, abs=1e-4)
    assert served.minima[1].min() == pytest.approx(-1.0, abs=1e-4)


def test_clicks_land_on_the_right_points(pyramid: WaveformPyramid) -> None:
    points = 1_800  # 0.1 s per point, one click every 10 points
    served = pyramid.peaks(points, channel=0)
    assert served.maxima.shape == (1, points)
    clicks = np.flatnonzero(served.maxima[0] > 0.95)
    assert set(clicks % 10) <= {0, 9}
    assert len(set(clicks // 10)) == 180


def test_channel_and_mix_selection(pyramid: WaveformPyramid) -> None:
    right = pyramid.peaks(500, channel=1)
    mixed = pyramid.peaks(500, mix=True)
    assert right.minima.shape == mixed.minima.shape == (1, 500)
    assert np.all(mixed.maxima >= right.maxima)
    with pytest.raises(ValueError, match="channel 2"):
        pyramid.peaks(10, channel=2)


def test_serialised_pyramid_is_compact_and_round_trips(pyramid: WaveformPyramid) -> None:
    data = pyramid.to_bytes()
    # int16 min/max: a 3-minute stereo track costs about 1.3 MB against 63 MB of PCM.
    assert len(data) < 1.5e6
    restored = WaveformPyramid.from_bytes(data)
    assert (restored.sample_rate, restored.frames, restored.channels) == (
        pyramid.sample_rate,
        pyramid.frames,
        pyramid.channels,
    )
    for (low_a, high_a), (low_b, high_b) in zip(pyramid.levels, restored.levels, strict=True):
        np.testing.assert_array_equal(low_a, low_b)
        np.testing.assert_array_equal(high_a, high_b)


def test_serving_any_point_count_is_fast(pyramid: WaveformPyramid) -> None:
    restored = WaveformPyramid.from_bytes(pyramid.to_bytes())
    started = time.perf_counter()
    for points in (1, 37, 800, 1920, 10_000, MAX_POINTS):
        restored.peaks(points)
    assert time.perf_counter() - started < 0.5


@pytest.mark.parametrize(
    "data",
    [b"", b"JWPK", b"XXXX" + bytes(28), WaveformPyramid.build(np.ones(1000), 8000).to_bytes()[:40]],
    ids=["empty", "short", "magic", "truncated"],
)
def test_malformed_pyramid_data(data: bytes) -> None:
    with pytest.raises(AudioDecodeError):
        WaveformPyramid.from_bytes(data)


def test_short_file_gets_sample_resolution() -> None:
    clip = np.linspace(-1, 1, 1_000, dtype=np.float32)
    small = WaveformPyramid.build(clip, 8_000)
    assert small.base_samples_per_point == 1
    peaks = small.peaks(1_000)
    np.testing.assert_allclose(peaks.maxima[0], clip, atol=1 / 32767)


def test_json_is_document_safe(pyramid: WaveformPyramid) -> None:
    data = pyramid.peaks(64).to_json()
    text = json.dumps(data, allow_nan=False)
    assert data["points"] == 64.0
    channels = data["channels"]
    assert isinstance(channels, list)
    assert len(channels) == 2
    assert '"min"' in text
    assert '"max"' in text


def test_values_over_full_scale_are_clamped() -> None:
    loud = np.array([[2.0, -3.0, 0.5]], dtype=np.float32)
    assert waveform_peaks(loud, 3).maxima.max() == 1.0
    assert WaveformPyramid.build(loud, 8_000).peaks(3).minima.min() == -1.0
