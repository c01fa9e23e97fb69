"""Find the gain into the true-peak limiter that gives a target loudness, from control points.

:class:`LimiterControl` reduces a shaped signal, as it streams by, to one row
per limiter control point (about 5 kHz): the largest true peak of its frames
and their summed K-weighted power, plus the exact power of every 100 ms
segment. The rows stay in memory while small and move to a temporary file on
long tracks (:mod:`audio_services.spill`), so memory is bounded.

:class:`LimiterGainSearch` then builds, for a candidate gain, the limiter's
control curve from the rows and *predicts* the result's integrated loudness
(:mod:`audio_services.loudness_model`) instead of rendering and metering it; a
secant search on loudness against gain (slope at most 1 under limiting)
converges in a few steps. True peaks scale linearly with gain, so the rows
serve every candidate: the envelope is exact wherever a gain up to
:attr:`LimiterControl.exact_up_to_db` could reach the ceiling (elsewhere it
is the sample peak, which cannot matter). :meth:`LimiterGainSearch.frame_gains`
gives the chosen curve frame by frame for the rendering pass.
"""

from __future__ import annotations

import math
from collections.abc import Iterator

import numpy as np
import numpy.typing as npt

from jacameno.audio_services.limiter import (
    DEFAULT_LOOKAHEAD_MS,
    DEFAULT_RELEASE_MS,
    ControlPeaks,
    FrameGains,
    LimiterCurve,
    control_step,
)
from jacameno.audio_services.loudness_model import KWeightedPower, gated_loudness_of_segments
from jacameno.audio_services.metering import db_to_amplitude
from jacameno.audio_services.spill import SpillBuffer
from jacameno.audio_services.true_peak import TruePeakStream

__all__ = ["LIMITER_MARGIN_DB", "LimiterControl", "LimiterGainSearch"]

FloatArray = npt.NDArray[np.float32]
Float64Array = npt.NDArray[np.float64]

# The limiter aims this far under the ceiling; callers verify and trim the rest.
LIMITER_MARGIN_DB = 0.02
# The search stops once the predicted loudness is this close (LU).
_PREDICTION_TOLERANCE_LU = 0.02
_MAX_PREDICTIONS = 12
# The gain into the limiter stays within this range (dB).
_MAX_SEARCH_GAIN_DB = 30.0
# Control rows processed at a time: their frame gains (step x as many) stay a few MB.
_ROWS_PER_CHUNK = 1 << 15


class LimiterControl:
    """Control rows of a shaped signal fed block by block; :meth:`finish` when done.

    ``exact_up_to_db``: the true-peak envelope is computed exactly wherever
    ``signal * 10 ** (gain_db / 20)`` could reach the limiter's ceiling (``ceiling``,
    linear, less :data:`LIMITER_MARGIN_DB`) for a gain up to this.
    """

    def __init__(
        self, sample_rate: int, channels: int, ceiling: float, exact_up_to_db: float
    ) -> None:
        self.sample_rate = sample_rate
        self.step = control_step(sample_rate)
        self.segment_frames = round(0.1 * sample_rate)
        self.exact_up_to_db = exact_up_to_db
        self.num_frames = 0
        self.max_peak = 0.0
        self.rows = SpillBuffer(2)  # per control point: peak, K-weighted power
        floor = ceiling * db_to_amplitude(-LIMITER_MARGIN_DB - exact_up_to_db)
        self._envelope = TruePeakStream(sample_rate, channels, floor=floor)
        self._peaks = ControlPeaks(self.step)
        self._power = KWeightedPower(sample_rate, channels)
        self._power_carry = np.zeros(0, np.float32)
        self._pending_peaks = np.zeros(0, np.float32)
        self._pending_power = np.zeros(0, np.float32)
        self._segments: list[Float64Array] = []
        self._segment_partial = 0.0  # power of the frames of an unfinished segment
        self._segment_filled = 0

    def add(self, block: FloatArray) -> None:
        """Take the next ``(channels, frames)`` block of the shaped signal."""
        power = self._power.push(block)
        self._add_segments(power)
        self.num_frames += block.shape[1]
        peaks = self._peaks.push(self._envelope.push(block))
        self._pair(peaks, self._interval_power(power, final=False))

    def finish(self) -> None:
        """Flush the last frames (the envelope's look-ahead and partial intervals)."""
        peaks = self._peaks.push(self._envelope.finish())
        closing = self._peaks.finish()[:-1]  # the last partial interval, if any
        self._pair(np.concatenate([peaks, closing]), self._interval_power(None, final=True))

    @property
    def segment_power(self) -> Float64Array:
        """Summed K-weighted power of every whole 100 ms segment (not a partial last one)."""
        whole = self.num_frames // self.segment_frames
        return np.concatenate([np.zeros(0), *self._segments])[:whole]

    def close(self) -> None:
        self.rows.close()

    def _add_segments(self, power: FloatArray) -> None:
        data = power.astype(np.float64)
        needed = self.segment_frames - self._segment_filled
        if len(data) < needed:
            self._segment_partial += float(data.sum())
            self._segment_filled += len(data)
            return
        self._segments.append(np.array([self._segment_partial + float(data[:needed].sum())]))
        rest = data[needed:]
        whole = len(rest) // self.segment_frames * self.segment_frames
        self._segments.append(rest[:whole].reshape(-1, self.segment_frames).sum(axis=1))
        self._segment_partial = float(rest[whole:].sum())
        self._segment_filled = len(rest) - whole

    def _interval_power(self, power: FloatArray | None, *, final: bool) -> FloatArray:
        data = self._power_carry if power is None else np.concatenate([self._power_carry, power])
        whole = len(data) // self.step * self.step
        sums = data[:whole].reshape(-1, self.step).sum(axis=1, dtype=np.float64)
        rest = data[whole:]
        if final and len(rest):
            sums = np.append(sums, rest.sum(dtype=np.float64))
            rest = rest[:0]
        self._power_carry = np.array(rest, dtype=np.float32)
        interval_power: FloatArray = sums.astype(np.float32)
        return interval_power

    def _pair(self, peaks: FloatArray, power: FloatArray) -> None:
        peaks = np.concatenate([self._pending_peaks, peaks])
        power = np.concatenate([self._pending_power, power])
        count = min(len(peaks), len(power))
        if count:
            self.max_peak = max(self.max_peak, float(peaks[:count].max()))
            self.rows.append(np.stack([peaks[:count], power[:count]], axis=1))
        self._pending_peaks, self._pending_power = peaks[count:], power[count:]


class LimiterGainSearch:
    """Limiter curves for ``shaped * gain`` under ``ceiling`` (linear), searched by loudness."""

    def __init__(
        self,
        control: LimiterControl,
        ceiling: float,
        lookahead_ms: float = DEFAULT_LOOKAHEAD_MS,
        release_ms: float = DEFAULT_RELEASE_MS,
    ) -> None:
        self.control = control
        self.lookahead_ms = lookahead_ms
        self.release_ms = release_ms
        self.ceiling = ceiling * db_to_amplitude(-LIMITER_MARGIN_DB)
        self._segment_power = control.segment_power

    def limits(self, gain_db: float) -> bool:
        """Whether the limiter acts at all at ``gain_db``."""
        return self.control.max_peak * db_to_amplitude(gain_db) > self.ceiling

    def predict_lufs(self, gain_db: float | None = None) -> float:
        """Predicted integrated loudness (LUFS) at ``gain_db``; ``None``: unlimited, unity gain."""
        segments = self._segment_power
        scale = 1.0 if gain_db is None else db_to_amplitude(gain_db)
        if gain_db is not None and self.limits(gain_db):
            # Interval sums are float32: keep rounding from going below silence.
            segments = np.maximum(segments - self._limited_power(gain_db), 0.0)
        return gated_loudness_of_segments(segments * scale * scale, self.control.segment_frames)

    def search(self, gain_db: float, target_lufs: float) -> tuple[float, float]:
        """The gain (dB) whose predicted loudness is nearest ``target_lufs``, and that loudness.

        A candidate above ``control.exact_up_to_db`` ends the search at once
        (predicted loudness NaN): the rows must be rebuilt to be exact for it.
        """
        history: list[tuple[float, float]] = []
        predicted = -math.inf
        for _ in range(_MAX_PREDICTIONS):
            if gain_db > self.control.exact_up_to_db:
                return gain_db, math.nan
            predicted = self.predict_lufs(gain_db)
            history.append((gain_db, predicted))
            close = abs(target_lufs - predicted) <= _PREDICTION_TOLERANCE_LU
            if close or not math.isfinite(predicted):
                break
            gain_db = _next_gain_db(history, target_lufs)
        return history[-1][0], predicted

    def frame_gains(self, gain_db: float) -> Iterator[FloatArray]:
        """The limiter's per-frame gain at ``gain_db``, in consecutive pieces (empty if none)."""
        if not self.limits(gain_db):
            return
        scale = np.float32(db_to_amplitude(gain_db))
        curve = self._curve()
        frames = FrameGains(self.control.step, self.control.num_frames)
        for rows in self.control.rows.chunks(_ROWS_PER_CHUNK):
            yield frames.push(curve.push(rows[:, 0] * scale))
        yield frames.push(curve.push(np.zeros(1, np.float32)))  # the closing point
        yield frames.push(curve.finish())
        yield frames.finish()

    def _curve(self) -> LimiterCurve:
        return LimiterCurve(
            self.control.sample_rate, self.ceiling, self.lookahead_ms, self.release_ms
        )

    def _limited_power(self, gain_db: float) -> Float64Array:
        """Power per segment the curve at ``gain_db`` takes away (before the gain's scale).

        Each control interval's power is counted in the segment its first frame
        falls in (at most ``step - 1`` frames from a segment edge).
        """
        scale = np.float32(db_to_amplitude(gain_db))
        curve = self._curve()
        ledger = _PowerLedger(self.control, len(self._segment_power))
        for rows in self.control.rows.chunks(_ROWS_PER_CHUNK):
            ledger.queue(rows[:, 1])
            ledger.account(curve.push(rows[:, 0] * scale))
        ledger.account(curve.push(np.zeros(1, np.float32)))
        ledger.account(curve.finish())
        return ledger.taken


class _PowerLedger:
    """Pairs control-interval power with the curve's gains as they come, per segment."""

    def __init__(self, control: LimiterControl, num_segments: int) -> None:
        self.step = control.step
        self.segment_frames = control.segment_frames
        self.taken = np.zeros(num_segments)
        self._power = np.zeros(0, np.float32)
        self._previous = np.zeros(0, np.float32)
        self._interval = 0  # the next interval whose two gain points are not both known

    def queue(self, power: FloatArray) -> None:
        self._power = np.concatenate([self._power, power])

    def account(self, gains: FloatArray) -> None:
        points = np.concatenate([self._previous, gains])
        self._previous = points[-1:]
        if len(points) < 2:
            return
        first, second = points[:-1].astype(np.float64), points[1:].astype(np.float64)
        # Mean of g**2 over an interval where g runs linearly between its points.
        kept = (first * first + first * second + second * second) / 3.0
        used = min(len(kept), len(self._power))
        lost = self._power[:used].astype(np.float64) * (1.0 - kept[:used])
        self._power = self._power[used:]
        frames = np.arange(self._interval, self._interval + used, dtype=np.int64) * self.step
        segments = frames // self.segment_frames
        inside = segments < len(self.taken)
        self.taken += np.bincount(segments[inside], lost[inside], minlength=len(self.taken))
        self._interval += used


def _next_gain_db(history: list[tuple[float, float]], target_lufs: float) -> float:
    """Secant step on loudness against gain; limiting makes the slope at most 1."""
    gain_db, lufs = history[-1]
    slope = 1.0
    if len(history) > 1:
        previous_gain_db, previous_lufs = history[-2]
        if gain_db != previous_gain_db:
            slope = (lufs - previous_lufs) / (gain_db - previous_gain_db)
    slope = min(1.0, max(0.05, slope))
    step_db = (target_lufs - lufs) / slope
    return min(_MAX_SEARCH_GAIN_DB, max(-_MAX_SEARCH_GAIN_DB, gain_db + step_db))
