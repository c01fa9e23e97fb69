"""A look-ahead true-peak limiter in vectorised numpy, computed as the signal streams by.

The gain curve is built from the per-frame true-peak envelope
(:class:`audio_services.true_peak.TruePeakStream`) at a control rate of about
5 kHz (:class:`ControlPeaks`: the largest envelope value of every ``step``
frames), in dB:

1. required reduction per control step, ``max(0, 20 log10(peak / ceiling))``;
2. a hold (running maximum) reaching forward over the attack and, either side,
   over the interpolation filter's half-width;
3. an exponential release, ``r[n] = max(hold[n], a * r[n-1])``, computed block
   by block with the identity ``r[n] = a**n * cummax(hold[k] * a**-k)``;
4. two causal moving averages over half the look-ahead each: an S-shaped attack;
5. back to linear gain (:class:`LimiterCurve`), interpolated linearly to every
   frame (:class:`FrameGains`).

Every stage keeps only the few control points its window needs, so a curve of
any length costs the same memory; the control points come out ``after`` points
(the look-ahead) and at most one release block behind the input.

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

from jacameno.audio_services.true_peak import oversampling_factor

__all__ = [
    "DEFAULT_LOOKAHEAD_MS",
    "DEFAULT_RELEASE_MS",
    "ControlPeaks",
    "FrameGains",
    "LimiterCurve",
    "control_step",
    "limiter_gain",
]

FloatArray = npt.NDArray[np.float32]

DEFAULT_LOOKAHEAD_MS = 3.0
DEFAULT_RELEASE_MS = 80.0
# Largest exponent a block of the release recursion may reach (float32 safe).
_MAX_BLOCK_DECAY = 60.0
_CONTROL_RATE_HZ = 5_000


def control_step(sample_rate: int) -> int:
    """Frames per control point (about 5 kHz)."""
    return max(1, sample_rate // _CONTROL_RATE_HZ)


def limiter_gain(
    envelope: FloatArray,
    sample_rate: int,
    ceiling: float,
    lookahead_ms: float = DEFAULT_LOOKAHEAD_MS,
    release_ms: float = DEFAULT_RELEASE_MS,
) -> FloatArray | None:
    """Per-frame linear gain (<= 1) that brings ``envelope`` under ``ceiling`` (linear).

    Returns ``None`` when no frame exceeds the ceiling (unity gain). The
    whole-signal form of :class:`ControlPeaks`, :class:`LimiterCurve` and
    :class:`FrameGains`.
    """
    if envelope.size == 0:
        return None
    step = control_step(sample_rate)
    peaks = ControlPeaks(step)
    points = np.concatenate([peaks.push(envelope), peaks.finish()])
    if float(points.max()) <= ceiling:
        return None
    curve = LimiterCurve(sample_rate, ceiling, lookahead_ms, release_ms)
    frames = FrameGains(step, envelope.size)
    gains = [frames.push(curve.push(points)), frames.push(curve.finish()), frames.finish()]
    return np.concatenate(gains)


class ControlPeaks:
    """Largest envelope value of every ``step`` frames, then one closing zero point."""

    def __init__(self, step: int) -> None:
        self.step = step
        self._carry = np.zeros(0, np.float32)

    def push(self, envelope: FloatArray) -> FloatArray:
        data = np.concatenate([self._carry, envelope]) if len(self._carry) else envelope
        whole = len(data) // self.step * self.step
        self._carry = np.array(data[whole:], dtype=np.float32)
        maxima: FloatArray = data[:whole].reshape(-1, self.step).max(axis=1)
        return maxima.astype(np.float32, copy=False)

    def finish(self) -> FloatArray:
        last = [float(self._carry.max())] if len(self._carry) else []
        self._carry = np.zeros(0, np.float32)
        return np.array([*last, 0.0], dtype=np.float32)


class LimiterCurve:
    """Control-point gains (linear, <= 1) for a stream of control-point peaks (linear).

    Feed every peak of the signal, then :meth:`finish`; the gains come out in
    order, one per peak, some calls later than their peak.
    """

    def __init__(
        self,
        sample_rate: int,
        ceiling: float,
        lookahead_ms: float = DEFAULT_LOOKAHEAD_MS,
        release_ms: float = DEFAULT_RELEASE_MS,
    ) -> None:
        step = control_step(sample_rate)
        self.ceiling = np.float32(ceiling)
        # A frame's interpolation window reaches this many control steps either
        # side; the linear interpolation needs one more point after.
        reach = -(-_interpolator_half_width(sample_rate) // step)
        attack_points = max(2, round(lookahead_ms * 1e-3 * sample_rate / step / 2))
        smoothing = 2 * (attack_points - 1)
        # A pre-roll lets the attack ramp start before the first frame, so a peak
        # at the very start is caught like any other.
        self._preroll = smoothing + reach + 1
        self._to_drop = self._preroll
        self._started = False
        self._hold = _ForwardHold(before=reach + 1, after=reach + smoothing)
        self._release = _Release(max(1.0, release_ms * 1e-3 * sample_rate / step))
        self._averages = (_MovingAverage(attack_points), _MovingAverage(attack_points))

    def push(self, peaks: FloatArray) -> FloatArray:
        reduction_db = 20.0 * np.log10(np.maximum(peaks / self.ceiling, np.float32(1.0)))
        if not self._started:
            self._started = True
            reduction_db = np.concatenate([np.zeros(self._preroll, np.float32), reduction_db])
        return self._after_hold(self._hold.push(reduction_db.astype(np.float32)), final=False)

    def finish(self) -> FloatArray:
        return self._after_hold(self._hold.finish(), final=True)

    def _after_hold(self, held: FloatArray, *, final: bool) -> FloatArray:
        released = self._release.push(held)
        if final:
            released = np.concatenate([released, self._release.finish()])
        smoothed = self._averages[1].push(self._averages[0].push(released))
        if self._to_drop:
            dropped = min(self._to_drop, len(smoothed))
            smoothed = smoothed[dropped:]
            self._to_drop -= dropped
        gain: FloatArray = np.power(np.float32(10.0), smoothed / np.float32(-20.0))
        return gain.astype(np.float32, copy=False)


class FrameGains:
    """Linear interpolation of control-point gains to ``num_frames`` frames, ``step`` apart."""

    def __init__(self, step: int, num_frames: int) -> None:
        self.step = step
        self.num_frames = num_frames
        self._fraction = np.arange(step, dtype=np.float32) / np.float32(step)
        self._last: FloatArray = np.zeros(0, np.float32)
        self._emitted = 0

    def push(self, points: FloatArray) -> FloatArray:
        data = np.concatenate([self._last, points]) if len(self._last) else points
        if len(data) < 2:
            self._last = data
            return np.zeros(0, np.float32)
        start, end = data[:-1, np.newaxis], data[1:, np.newaxis]
        curve = (start + (end - start) * self._fraction).reshape(-1)
        self._last = data[-1:]
        kept: FloatArray = curve[: max(0, self.num_frames - self._emitted)].astype(np.float32)
        self._emitted += len(kept)
        return kept

    def finish(self) -> FloatArray:
        """Frames still owed (unity gain: none, when every point was pushed)."""
        missing = self.num_frames - self._emitted
        self._emitted = self.num_frames
        return np.ones(max(0, missing), np.float32)


def _interpolator_half_width(sample_rate: int) -> int:
    factor = oversampling_factor(sample_rate)
    return 0 if factor == 1 else 48 // factor // 2


class _ForwardHold:
    """``out[m] = max(values[m - before .. m + after])``, zero outside the stream."""

    def __init__(self, *, before: int, after: int) -> None:
        self.before, self.after = before, after
        self._buffer = np.zeros(before, np.float32)  # values from next - before on
        self._received = 0
        self._next = 0

    def push(self, values: FloatArray) -> FloatArray:
        self._buffer = np.concatenate([self._buffer, values])
        self._received += len(values)
        return self._emit(self._received - self.after)

    def finish(self) -> FloatArray:
        self._buffer = np.concatenate([self._buffer, np.zeros(self.after, np.float32)])
        return self._emit(self._received)

    def _emit(self, stop: int) -> FloatArray:
        count = stop - self._next
        if count <= 0:
            return np.zeros(0, np.float32)
        size = self.before + self.after + 1
        window = self._buffer[: count + size - 1]
        held: FloatArray = maximum_filter1d(window, size=size, origin=-(size // 2))[:count]
        self._buffer = self._buffer[count:]
        self._next = stop
        return held


class _Release:
    """``r[n] = max(hold[n], a * r[n - 1])``, ``a = exp(-1 / release_frames)``, in blocks."""

    def __init__(self, release_frames: float) -> None:
        self.decay = math.exp(-1.0 / release_frames)
        self.block = int(min(4096, max(16, _MAX_BLOCK_DECAY * release_frames)))
        exponents = np.arange(self.block, dtype=np.float32) / np.float32(release_frames)
        self._growth = np.exp(exponents)  # a**-j
        self._shrink = np.exp(-exponents)  # a**j
        self._carry = 0.0
        self._pending = np.zeros(0, np.float32)

    def push(self, hold: FloatArray) -> FloatArray:
        data = np.concatenate([self._pending, hold]) if len(self._pending) else hold
        whole = len(data) // self.block * self.block
        self._pending = np.array(data[whole:], dtype=np.float32)
        return self._blocks(data[:whole])

    def finish(self) -> FloatArray:
        count = len(self._pending)
        if not count:
            return np.zeros(0, np.float32)
        padded = np.zeros(self.block, np.float32)
        padded[:count] = self._pending
        self._pending = np.zeros(0, np.float32)
        return self._blocks(padded)[:count]

    def _blocks(self, data: FloatArray) -> FloatArray:
        if not len(data):
            return np.zeros(0, np.float32)
        blocks = data.reshape(-1, self.block)
        local = np.maximum.accumulate(blocks * self._growth, axis=1)
        # Carry the decayed end of each block into the next; one step per block.
        ends = local[:, -1] * self._shrink[-1]
        carries = np.empty(len(blocks), np.float32)
        carry = self._carry
        for index in range(len(blocks)):
            carries[index] = carry
            carry = max(float(ends[index]), carry * float(self._shrink[-1])) * self.decay
        self._carry = carry
        released: FloatArray = (np.maximum(local, carries[:, np.newaxis]) * self._shrink).reshape(
            -1
        )
        return released


class _MovingAverage:
    """Causal mean over ``length`` points (zeros before the start)."""

    def __init__(self, length: int) -> None:
        self.length = length
        self._history = np.zeros(length - 1, np.float32)

    def push(self, values: FloatArray) -> FloatArray:
        if not len(values):
            return np.zeros(0, np.float32)
        data = np.concatenate([self._history, values])
        cumulative = np.concatenate([[0.0], np.cumsum(data, dtype=np.float64)])
        sums = cumulative[self.length :] - cumulative[: -self.length]
        self._history = data[len(data) - (self.length - 1) :]
        averages: FloatArray = (sums / self.length).astype(np.float32)
        return averages


def apply_gain(samples: FloatArray, gain: FloatArray | None, scale: float = 1.0) -> FloatArray:
    """``samples * gain * scale`` over all channels, as a new float32 array."""
    if gain is None:
        return (samples * np.float32(scale)).astype(np.float32, copy=False)
    curve = gain * np.float32(scale) if scale != 1.0 else gain
    return (samples * curve[np.newaxis, :]).astype(np.float32, copy=False)
