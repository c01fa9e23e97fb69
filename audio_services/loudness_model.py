"""Predict the integrated loudness of a signal under a slowly varying gain, cheaply.

The mastering loop needs the loudness of ``scale * gain[n] * x[n]`` for several
candidate limiter curves. K-weighting (ITU-R BS.1770-4) is linear and time
invariant, and a limiter's gain moves over milliseconds while the K filter's
memory is short, so ``K(g x) ~= g K(x)``: the K-weighted power of ``x`` is
computed once, as it streams by (:class:`KWeightedPower`), and each prediction
is a weighted sum per 100 ms segment plus the BS.1770 gating
(:func:`gated_loudness_of_segments`: 400 ms blocks every 100 ms, absolute gate
-70 LUFS, relative gate -10 LU).

It predicts; it does not measure. The mastering loop always confirms with
libebur128 (:func:`audio_services.metering.loudness_and_range`), and on
programme material the two agree within a few hundredths of an LU.
"""

from __future__ import annotations

import math

import numpy as np
import numpy.typing as npt
from scipy import signal

FloatArray = npt.NDArray[np.float32]

_ABSOLUTE_GATE_LUFS = -70.0
_RELATIVE_GATE_LU = -10.0
_OFFSET_DB = -0.691


def k_weighting_sos(sample_rate: int) -> npt.NDArray[np.float64]:
    """BS.1770-4 K-weighting as two biquads, re-derived for ``sample_rate``.

    The formulas and constants are libebur128's (pre-filter shelf, then RLB high-pass).
    """
    shelf_hz, shelf_db, shelf_q = 1681.974450955533, 3.999843853973347, 0.7071752369554196
    k = math.tan(math.pi * shelf_hz / sample_rate)
    vh = 10.0 ** (shelf_db / 20.0)
    vb = vh**0.4996667741545416
    a0 = 1.0 + k / shelf_q + k * k
    shelf = [
        (vh + vb * k / shelf_q + k * k) / a0,
        2.0 * (k * k - vh) / a0,
        (vh - vb * k / shelf_q + k * k) / a0,
        1.0,
        2.0 * (k * k - 1.0) / a0,
        (1.0 - k / shelf_q + k * k) / a0,
    ]
    high_pass_hz, high_pass_q = 38.13547087602444, 0.5003270373238773
    k = math.tan(math.pi * high_pass_hz / sample_rate)
    a0 = 1.0 + k / high_pass_q + k * k
    high_pass = [
        1.0,
        -2.0,
        1.0,
        1.0,
        2.0 * (k * k - 1.0) / a0,
        (1.0 - k / high_pass_q + k * k) / a0,
    ]
    return np.array([shelf, high_pass])


class KWeightedPower:
    """Per-frame K-weighted power of consecutive ``(channels, frames)`` blocks.

    Mono and stereo channels all weigh 1.0 in BS.1770-4, so the power is the
    sum over channels; the filters' state carries from block to block.
    """

    def __init__(self, sample_rate: int, channels: int) -> None:
        self._sos = k_weighting_sos(sample_rate).astype(np.float32)
        self._state = np.zeros((len(self._sos), channels, 2), np.float32)

    def push(self, block: FloatArray) -> FloatArray:
        weighted, self._state = signal.sosfilt(self._sos, block, axis=1, zi=self._state)
        power: FloatArray = np.einsum("cn,cn->n", weighted, weighted).astype(np.float32)
        return power


def gated_loudness_of_segments(
    segment_power: npt.NDArray[np.float64], segment_frames: int
) -> float:
    """BS.1770-4 loudness (LUFS) from summed power per 100 ms segment of ``segment_frames``.

    Blocks are four consecutive segments (400 ms every 100 ms); ``-inf`` under
    four segments or when no block passes the gates.
    """
    if len(segment_power) < 4:
        return -math.inf
    window = np.convolve(segment_power, np.ones(4), mode="valid")
    return gated_loudness_lufs(window / (4 * segment_frames))


def gated_loudness_lufs(block_powers: npt.NDArray[np.float64]) -> float:
    """BS.1770-4 gating over mean-square block powers (channel weights applied)."""
    with np.errstate(divide="ignore"):
        block_lufs = _OFFSET_DB + 10.0 * np.log10(block_powers)
    above_absolute = block_powers[block_lufs > _ABSOLUTE_GATE_LUFS]
    if above_absolute.size == 0:
        return -math.inf
    relative_gate = _OFFSET_DB + 10.0 * math.log10(above_absolute.mean()) + _RELATIVE_GATE_LU
    gated = above_absolute[_OFFSET_DB + 10.0 * np.log10(above_absolute) > relative_gate]
    return _OFFSET_DB + 10.0 * math.log10(gated.mean())
