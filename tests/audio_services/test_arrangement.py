"""The arranged track: clips placed to the sample, gain, fades, loops and overlaps, and
automation lanes; the mixer plays what the timeline shows."""

from __future__ import annotations

import math

import numpy as np
import pytest

from jacameno.audio_services.arrangement import (
    ArrangedSource,
    Placement,
    automation_gains,
    fade_shape,
    lane_points,
    lane_values,
)
from jacameno.audio_services.mixing import Stem, mix
from jacameno.audio_services.sources import ArraySource

SR = 48_000


def rendered(source: ArrangedSource, block_frames: int = 4_096) -> np.ndarray:
    return np.concatenate(list(source.blocks(block_frames)), axis=1)


def clip(asset: ArraySource, **fields: float | str) -> Placement:
    return Placement.of_clip({"start_s": 0.0, "duration_s": 1.0, **fields}, asset)


def click_asset(at: int = 1_000, frames: int = SR) -> ArraySource:
    samples = np.zeros((1, frames), np.float32)
    samples[0, at] = 1.0
    return ArraySource(samples, SR)


@pytest.mark.parametrize("block_frames", [512, 4_096, 65_536])
def test_a_click_lands_on_its_sample_after_offset_start_and_loops(block_frames: int) -> None:
    asset = click_asset(at=1_000)
    placement = clip(asset, start_s=0.5, offset_s=900 / SR, duration_s=2_000 / SR, loop_count=3)
    out = rendered(ArrangedSource([placement], SR), block_frames)
    assert out.shape == (1, 24_000 + 3 * 2_000)
    assert np.flatnonzero(out[0]).tolist() == [24_100, 26_100, 28_100]


def test_gain_fades_and_overlaps() -> None:
    ones = ArraySource(np.ones((1, SR), np.float32), SR)
    faded = clip(ones, gain_db=-6.0, fade_in_s=0.5, fade_out_s=0.25, fade_out_curve="equal_power")
    out = rendered(ArrangedSource([faded], SR))[0]
    gain = 10 ** (-6 / 20)
    assert out[SR // 4] == pytest.approx(gain * 0.5, abs=1e-4)  # linear, half way in
    assert out[SR // 2 + 100] == pytest.approx(gain, abs=1e-4)
    assert out[SR - SR // 8] == pytest.approx(gain * math.sin(math.pi / 4), abs=1e-3)
    both = ArrangedSource([clip(ones), clip(ones, start_s=0.5)], SR)
    summed = rendered(both)[0]
    assert summed[SR // 4] == pytest.approx(1.0)
    assert summed[3 * SR // 4] == pytest.approx(2.0)  # overlapping clips sum
    assert summed.shape[0] == SR + SR // 2


def test_fade_curves() -> None:
    x = np.array([0.0, 0.25, 1.0])
    assert fade_shape("linear", x).tolist() == [0.0, 0.25, 1.0]
    assert fade_shape("exponential", x).tolist() == [0.0, 0.0625, 1.0]
    np.testing.assert_allclose(fade_shape("equal_power", x), [0.0, math.sin(math.pi / 8), 1.0])


def test_a_clip_past_its_asset_plays_silence_and_stereo_spreads() -> None:
    short = ArraySource(np.ones((2, 100), np.float32), SR)
    mono = ArraySource(np.ones((1, 100), np.float32), SR)
    out = rendered(
        ArrangedSource(
            [clip(short, duration_s=200 / SR), clip(mono, start_s=1.0, duration_s=100 / SR)], SR
        )
    )
    assert out.shape == (2, SR + 100)
    assert out[:, :100].min() == 1.0
    assert not out[:, 100:200].any()
    assert (out[:, SR:] == 1.0).all()  # the mono clip on both channels


def test_lane_values_between_breakpoints() -> None:
    points = lane_points(
        [
            {"time_s": 1.0, "value": 0.0, "curve": "linear"},
            {"time_s": 3.0, "value": -12.0, "curve": "hold"},
            {"time_s": 4.0, "value": 6.0, "curve": "smooth"},
            {"time_s": 6.0, "value": -6.0},
            {"time_s": "junk", "value": 1.0},
        ]
    )
    times = np.array([0.0, 1.0, 2.0, 3.5, 4.0, 5.0, 6.0, 9.0])
    np.testing.assert_allclose(
        lane_values(points, times), [0.0, 0.0, -6.0, -12.0, 6.0, 0.0, -6.0, -6.0], atol=1e-9
    )


def test_automation_gains_follow_the_lanes() -> None:
    rate = 3_200  # 0.5 s and 1 s fall on the control grid (every 32 samples)
    gains = automation_gains(
        lane_points([{"time_s": 0.0, "value": 0.0}, {"time_s": 1.0, "value": -20.0}]),
        lane_points([{"time_s": 0.0, "value": -1.0}, {"time_s": 1.0, "value": 1.0}]),
        volume_db=-3.0,
        pan=0.0,
        channels=1,
        sample_rate=rate,
    )
    assert gains is not None
    left, right = gains(0, rate + 1)
    assert (left[0], right[0]) == (pytest.approx(1.0), 0.0)  # 0 dB, hard left
    centre = 10 ** (-10 / 20) * math.cos(math.pi / 4)  # -10 dB, centre
    assert (left[rate // 2], right[rate // 2]) == (pytest.approx(centre), pytest.approx(centre))
    assert (left[rate], right[rate]) == (0.0, pytest.approx(0.1))  # -20 dB, hard right
    assert np.all(np.diff(left) <= 1e-7)  # between control points: interpolated, monotonic
    later_left, _ = gains(rate // 2, 10)  # a block starting mid-song
    assert later_left[0] == pytest.approx(centre)
    assert automation_gains((), (), volume_db=0, pan=0, channels=1, sample_rate=10) is None


def test_the_mix_plays_clips_where_the_timeline_puts_them() -> None:
    asset = click_asset(at=1_000, frames=SR)
    arranged = ArrangedSource([clip(asset, start_s=1.0, offset_s=1_000 / SR, duration_s=0.5)], SR)
    muted = Stem(ArraySource(np.ones((1, 3 * SR), np.float32) * 0.5, SR), "pad", mute=True)
    result = mix([Stem(arranged, "click", role="other"), muted], SR, bus_glue=False)
    assert result.samples.shape[1] == 3 * SR  # as long as the longest stem, muted or not
    peak = int(np.argmax(np.abs(result.samples[0])))
    assert abs(peak - SR) <= SR // 1_000  # within 1 ms of 1.0 s
    assert np.abs(result.samples[:, 2 * SR :]).max() < 1e-4  # the muted pad is not heard
