"""A look-ahead true-peak limiter in vectorised numpy (offline, whole-signal).

The gain curve is built from the per-frame true-peak envelope
(:func:`audio_services.true_peak.true_peak_envelope`) at a control rate of
about 5 kHz, in dB:

1. required reduction per control step, ``max(0, 20 log10(peak / ceiling))``;
2. a hold (running maximum) reaching forward over the attack and, either side,
   over the interpolation filter's half-width;
3. an exponential release, ``r[n] = max(hold[n], a * r[n-1])``, computed block
   by block with the identity ``r[n] = a**n * cummax(hold[k] * a**-k)``;
4. two causal moving averages over half the look-ahead each: an S-shaped attack;
5. back to linear gain, interpolated linearly to every frame.

Every average spans only points the hold has raised, and a linear mix of two
gains that both meet a frame's requirement meets it too, so the curve reaches
the required reduction at every frame whose true peak needs it, across the
interpolation window around it. Gain is applied at the base rate, so where it
moves under the interpolation filter a residual overshoot of a few hundredths
of a dB remains possible; callers aim a little under the ceiling, verify with
the true-peak meter and trim (see :mod:`audio_services.mastering`).
"""

from __future__ import annotations

import math

import numpy as np
import numpy.typing as npt
from scipy.ndimage import maximum_filter1d

from audio_services.true_peak import oversampling_factor

FloatArray = npt.NDArray[np.float32]

DEFAULT_LOOKAHEAD_MS = 3.0
DEFAULT_RELEASE_MS = 80.0
# Largest exponent a block of the release recursion may reach (float32 safe).
_MAX_BLOCK_DECAY = 60.0
_CONTROL_RATE_HZ = 5_000


def limiter_gain(
    envelope: FloatArray,
    sample_rate: int,
    ceiling: float,
    lookahead_ms: float = DEFAULT_LOOKAHEAD_MS,
    release_ms: float = DEFAULT_RELEASE_MS,
) -> FloatArray | None:
    """Per-frame linear gain (<= 1) that brings ``envelope`` under ``ceiling`` (linear).

    Returns ``None`` when no frame exceeds the ceiling (unity gain).
    """
    if envelope.size == 0:
        return None
    # The curve is computed at a control rate of about 5 kHz and interpolated
    # linearly: a gain between two control points that both satisfy a frame's
    # requirement satisfies it too, so the guarantee survives the decimation.
    step = max(1, sample_rate // _CONTROL_RATE_HZ)
    num_points = -(-envelope.size // step) + 1
    padded = np.zeros(num_points * step, np.float32)
    padded[: envelope.size] = envelope
    block_peak = padded[::step].copy()
    for offset in range(1, step):
        np.maximum(block_peak, padded[offset::step], out=block_peak)
    if float(block_peak.max()) <= ceiling:
        return None
    reduction_db = 20.0 * np.log10(np.maximum(block_peak / np.float32(ceiling), 1.0))

    # A frame's interpolation window reaches this many control steps either side;
    # the linear interpolation needs one more point after.
    reach = -(-_interpolator_half_width(sample_rate) // step)
    attack_points = max(2, round(lookahead_ms * 1e-3 * sample_rate / step / 2))
    smoothing = 2 * (attack_points - 1)
    # A pre-roll lets the attack ramp start before the first frame, so a peak
    # at the very start is caught like any other.
    preroll = smoothing + reach + 1
    reduction_db = np.concatenate([np.zeros(preroll, np.float32), reduction_db])
    hold = _forward_hold(reduction_db, before=reach + 1, after=reach + smoothing)
    released = _release(hold, release_frames=max(1.0, release_ms * 1e-3 * sample_rate / step))
    smoothed = _moving_average(_moving_average(released, attack_points), attack_points)
    control_gain = np.power(np.float32(10.0), smoothed[preroll:] / np.float32(-20.0))
    return _interpolate(control_gain.astype(np.float32), step, envelope.size)


def _interpolate(points: FloatArray, step: int, num_frames: int) -> FloatArray:
    """Linear interpolation of control points spaced ``step`` frames apart."""
    fraction = np.arange(step, dtype=np.float32) / np.float32(step)
    start, end = points[:-1, np.newaxis], points[1:, np.newaxis]
    curve = start + (end - start) * fraction
    result: FloatArray = curve.reshape(-1)[:num_frames]
    return result


def _interpolator_half_width(sample_rate: int) -> int:
    factor = oversampling_factor(sample_rate)
    return 0 if factor == 1 else 48 // factor // 2


def _forward_hold(values: FloatArray, before: int, after: int) -> FloatArray:
    """``out[m] = max(values[m - before .. m + after])`` (zero outside)."""
    size = before + after + 1
    # scipy's window starts at m - size // 2 - origin.
    origin = before - size // 2
    held: FloatArray = maximum_filter1d(values, size=size, origin=origin, mode="constant")
    return held


def _release(hold: FloatArray, release_frames: float) -> FloatArray:
    """``r[n] = max(hold[n], a * r[n - 1])`` with ``a = exp(-1 / release_frames)``."""
    decay = math.exp(-1.0 / release_frames)
    block = int(min(4096, max(16, _MAX_BLOCK_DECAY * release_frames)))
    num_blocks = -(-hold.size // block)
    padded = np.zeros(num_blocks * block, np.float32)
    padded[: hold.size] = hold
    blocks = padded.reshape(num_blocks, block)
    exponents = np.arange(block, dtype=np.float32) / np.float32(release_frames)
    growth = np.exp(exponents)  # a**-j
    shrink = np.exp(-exponents)  # a**j
    local = np.maximum.accumulate(blocks * growth, axis=1)
    # Carry the decayed end of each block into the next; one step per block.
    ends = local[:, -1] * shrink[-1]
    carries = np.empty(num_blocks, np.float32)
    carry = 0.0
    for index in range(num_blocks):
        carries[index] = carry
        carry = max(float(ends[index]), carry * float(shrink[-1])) * decay
    released = np.maximum(local, carries[:, np.newaxis]) * shrink
    result: FloatArray = released.reshape(-1)[: hold.size]
    return result


def _moving_average(values: FloatArray, length: int) -> FloatArray:
    """Causal mean over ``length`` frames (zeros before the start)."""
    cumulative = np.cumsum(values, dtype=np.float64)
    result = cumulative.copy()
    result[length:] -= cumulative[:-length]
    return (result / length).astype(np.float32)


def apply_gain(samples: FloatArray, gain: FloatArray | None, scale: float = 1.0) -> FloatArray:
    """``samples * gain * scale`` over all channels, as a new float32 array."""
    if gain is None:
        return (samples * np.float32(scale)).astype(np.float32, copy=False)
    curve = gain * np.float32(scale) if scale != 1.0 else gain
    return (samples * curve[np.newaxis, :]).astype(np.float32, copy=False)
