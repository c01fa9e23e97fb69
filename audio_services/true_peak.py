"""Fast vectorised true-peak detection (ITU-R BS.1770-4 annex 2) for the limiter.

The interpolator replicates libebur128's: a 49-tap Hann-windowed sinc polyphase
filter, 4x below 96 kHz, 2x below 192 kHz, none above. Its zero phase is the
input itself (the sinc is zero at the other multiples of the factor), so only
the fractional phases are computed, with ``48 / factor`` taps each.

Three savings keep it cheap on long signals (about 0.3 s for 180 s of dense
stereo at 44.1 kHz on one core, against 1 s for libebur128):

- the kernel is symmetric, so phases ``p`` and ``factor - p`` are mirror images
  and the middle phase is symmetric: both are computed from the same pair sums
  and differences, and ``max(|a + b|, |a - b|) = |a| + |b|`` gives the larger
  of a mirror pair without computing either;
- a fractional phase cannot exceed ``sum(abs(taps))`` times the largest sample
  under it, so chunks where that bound stays below the level of interest are
  skipped (their sample peak is reported);
- work runs chunk by chunk with preallocated buffers, so it stays in cache.

:class:`TruePeakStream` computes the same envelope from consecutive blocks
(keeping ``2 * half`` frames of history), and :class:`TruePeakMeter` its
maximum, skipping every chunk that cannot raise the maximum found so far.

The figures equal :func:`audio_services.metering.true_peak_dbtp` to within float
rounding, with one deliberate difference: the filter's ringing just before the
first and after the last frame is counted (folded into those frames), so this
meter never reads lower than libebur128 at the edges.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import cache

import numpy as np
import numpy.typing as npt

from jacameno.audio_services.metering import amplitude_to_db

_NUM_TAPS = 49
_CHUNK_FRAMES = 1 << 14

FloatArray = npt.NDArray[np.float32]


def oversampling_factor(sample_rate: int) -> int:
    """BS.1770-4 oversampling for a sample rate, as libebur128 chooses it."""
    if sample_rate < 96_000:
        return 4
    if sample_rate < 192_000:
        return 2
    return 1


@dataclass(frozen=True, slots=True)
class _Interpolator:
    """Pair-sum coefficients of one oversampling factor.

    A frame's window holds ``2 * half`` input frames, ``n - half + 1 .. n + half``;
    pair ``k`` is ``(window[k], window[-1 - k])``. ``middle`` weighs pair sums for
    the symmetric middle phase (factor 2 or 4); each mirror pair of phases has a
    row of ``even`` weights (on pair sums) and ``odd`` weights (on differences).
    """

    half: int
    middle: tuple[float, ...] | None
    even: tuple[tuple[float, ...], ...]
    odd: tuple[tuple[float, ...], ...]
    bound: float


@cache
def _interpolator(factor: int) -> _Interpolator:
    tap_index = np.arange(_NUM_TAPS)
    offset = (tap_index - (_NUM_TAPS - 1) / 2) * math.pi / factor
    safe_offset = np.where(offset == 0.0, 1.0, offset)
    kernel = np.where(offset == 0.0, 1.0, np.sin(safe_offset) / safe_offset)
    kernel *= 0.5 * (1.0 - np.cos(2.0 * math.pi * tap_index / (_NUM_TAPS - 1)))
    taps = (_NUM_TAPS - 1) // factor
    half = taps // 2
    # Window-ordered taps of phase p: value at n + p / factor = window @ phase_taps(p).
    phases = {p: kernel[p::factor][:taps][::-1] for p in range(1, factor)}
    middle = None
    if factor % 2 == 0:
        middle = tuple(float(c) for c in phases[factor // 2][:half])
    even, odd = [], []
    for p in range(1, (factor + 1) // 2):
        head, tail = phases[p][:half], phases[p][::-1][:half]
        even.append(tuple(float(c) for c in (head + tail) / 2.0))
        odd.append(tuple(float(c) for c in (head - tail) / 2.0))
    bound = max(float(np.abs(taps_p).sum()) for taps_p in phases.values()) if phases else 1.0
    return _Interpolator(half, middle, tuple(even), tuple(odd), bound)


def true_peak_envelope(
    samples: FloatArray, sample_rate: int, floor: float = 0.0
) -> npt.NDArray[np.float32]:
    """Per-frame true peak (linear), the maximum over channels and inter-sample phases.

    ``envelope[n]`` covers the span from frame ``n`` up to frame ``n + 1``. In
    chunks where every value is certainly below ``floor`` (linear amplitude) the
    plain sample peak is returned instead; ``floor=0`` computes every frame.
    """
    audio = np.atleast_2d(np.asarray(samples, dtype=np.float32))
    stream = TruePeakStream(sample_rate, audio.shape[0], floor=floor)
    return np.concatenate([stream.push(audio), stream.finish()])


class TruePeakStream:
    """:func:`true_peak_envelope` of consecutive ``(channels, frames)`` blocks.

    :meth:`push` returns the envelope of the frames the samples so far
    complete (the interpolation window reaches ``half`` frames ahead), and
    :meth:`finish` the rest; concatenated they equal the whole signal's
    envelope, the filter's ringing before the first and after the last frame
    folded into those frames. ``floor`` may be raised between blocks.
    """

    def __init__(self, sample_rate: int, channels: int, floor: float = 0.0) -> None:
        self.factor = oversampling_factor(sample_rate)
        self.floor = floor
        self.frames = 0
        self._spec = _interpolator(self.factor) if self.factor > 1 else None
        self._half = self._spec.half if self._spec is not None else 0
        # Padded signal: 2 * half zeros, the frames, 2 * half zeros at the end.
        # ``_buffer`` holds padded samples from ``_buffer_start`` on.
        self._buffer = np.zeros((channels, 2 * self._half), np.float32)
        self._buffer_start = 0
        self._next_extended = 0  # extended frame e is original frame e - half
        self._lead = 0.0  # ringing before the first frame
        self._scratch: _Buffers | None = None

    def push(self, block: FloatArray) -> FloatArray:
        """Envelope values of the next completed frames (lagging ``half`` frames)."""
        self.frames += block.shape[1]
        if self._spec is None:
            return np.abs(block).max(axis=0) if block.shape[1] else np.zeros(0, np.float32)
        self._buffer = np.concatenate([self._buffer, block], axis=1)
        return self._compute(self._buffer_start + self._buffer.shape[1] - 2 * self._half)

    def finish(self) -> FloatArray:
        """The last frames' envelope values, with the trailing ringing folded in."""
        if self._spec is None or self.frames == 0:
            return np.zeros(0, np.float32)
        half = self._half
        self._buffer = np.concatenate(
            [self._buffer, np.zeros((self._buffer.shape[0], 2 * half), np.float32)], axis=1
        )
        tail = self._compute(self.frames + 2 * half, fold_tail=True)
        return tail

    def _compute(self, stop: int, *, fold_tail: bool = False) -> FloatArray:
        """Extended frames ``_next_extended .. stop`` as original-frame envelope values."""
        assert self._spec is not None
        half, start = self._half, self._next_extended
        if stop <= start:
            return np.zeros(0, np.float32)
        offset = start - self._buffer_start
        # Window of extended frame e: padded e + 1 .. e + 2 * half; its sample peak
        # is padded e + half.
        local = self._buffer[:, offset:]
        sample_peaks: FloatArray = np.abs(local).max(axis=0)
        extended: FloatArray = sample_peaks[half : half + stop - start].copy()
        length = stop - start
        if self._scratch is None:
            self._scratch = _Buffers(_CHUNK_FRAMES, len(self._spec.odd))
        for chunk in range(0, length, _CHUNK_FRAMES):
            chunk_stop = min(chunk + _CHUNK_FRAMES, length)
            # The windows of these frames reach padded chunk + 1 .. chunk_stop + 2 * half.
            reach = float(sample_peaks[chunk + 1 : chunk_stop + 2 * half].max())
            if reach == 0.0 or (self.floor > 0.0 and reach * self._spec.bound < self.floor):
                continue
            _chunk_peaks(
                local, chunk, chunk_stop, self._spec, self._scratch, extended[chunk:chunk_stop]
            )
        self._next_extended = stop
        keep_from = stop - self._buffer_start
        self._buffer = self._buffer[:, keep_from:]
        self._buffer_start = stop
        # Extended frames before ``half`` are ringing ahead of frame 0.
        lead_count = max(0, min(half - start, length))
        if lead_count:
            self._lead = max(self._lead, float(extended[:lead_count].max()))
            extended = extended[lead_count:]
        first_frame = max(start - half, 0)
        if first_frame == 0 and len(extended):
            extended[0] = max(extended[0], self._lead)
        if fold_tail:
            frames_left = self.frames - first_frame
            ringing = extended[frames_left:]
            extended = extended[:frames_left]
            if len(ringing) and len(extended):
                extended[-1] = max(extended[-1], float(ringing.max()))
        return extended


class TruePeakMeter:
    """Maximum true peak (linear) of consecutive blocks, and their sample peak."""

    def __init__(self, sample_rate: int, channels: int) -> None:
        self._stream = TruePeakStream(sample_rate, channels)
        self.true_peak = 0.0
        self.sample_peak = 0.0

    def add(self, block: FloatArray) -> None:
        if block.shape[1]:
            self.sample_peak = max(self.sample_peak, float(np.abs(block).max()))
        self._take(self._stream.push(block))

    def finish(self) -> float:
        """The maximum true peak over everything added (0 for silence)."""
        self._take(self._stream.finish())
        return self.true_peak

    def _take(self, envelope: FloatArray) -> None:
        if len(envelope):
            self.true_peak = max(self.true_peak, float(envelope.max()))
        # No chunk below what is already found can raise the maximum; the true
        # peak is never below the sample peak.
        self._stream.floor = max(self.true_peak, self.sample_peak)


class _Buffers:
    """Scratch arrays reused across chunks (allocation would dominate otherwise)."""

    def __init__(self, size: int, num_mirror_pairs: int) -> None:
        self.pair_sum = np.empty(size, np.float32)
        self.pair_diff = np.empty(size, np.float32)
        self.product = np.empty(size, np.float32)
        self.middle = np.empty(size, np.float32)
        self.even = [np.empty(size, np.float32) for _ in range(num_mirror_pairs)]
        self.odd = [np.empty(size, np.float32) for _ in range(num_mirror_pairs)]


def _chunk_peaks(
    padded: FloatArray,
    start: int,
    stop: int,
    spec: _Interpolator,
    buffers: _Buffers,
    out: FloatArray,
) -> None:
    """Raise ``out`` (extended frames ``start..stop``) to the fractional-phase peaks."""
    length = stop - start
    width = 2 * spec.half
    pair_sum = buffers.pair_sum[:length]
    pair_diff = buffers.pair_diff[:length]
    product = buffers.product[:length]
    middle = buffers.middle[:length]
    even = [buffer[:length] for buffer in buffers.even]
    odd = [buffer[:length] for buffer in buffers.odd]
    for channel in padded:
        for k in range(spec.half):
            head = channel[start + 1 + k : stop + 1 + k]
            tail = channel[start + width - k : stop + width - k]
            np.add(head, tail, out=pair_sum)
            if spec.odd:
                np.subtract(head, tail, out=pair_diff)
            if spec.middle is not None:
                _accumulate(middle, pair_sum, spec.middle[k], product, first=k == 0)
            for index in range(len(spec.odd)):
                _accumulate(even[index], pair_sum, spec.even[index][k], product, first=k == 0)
                _accumulate(odd[index], pair_diff, spec.odd[index][k], product, first=k == 0)
        if spec.middle is not None:
            np.abs(middle, out=middle)
            np.maximum(out, middle, out=out)
        for index in range(len(spec.odd)):
            np.abs(even[index], out=even[index])
            np.abs(odd[index], out=odd[index])
            np.add(even[index], odd[index], out=product)
            np.maximum(out, product, out=out)


def _accumulate(
    total: FloatArray, values: FloatArray, weight: float, scratch: FloatArray, *, first: bool
) -> None:
    if first:
        np.multiply(values, weight, out=total)
    else:
        np.multiply(values, weight, out=scratch)
        np.add(total, scratch, out=total)


def true_peak_linear(samples: FloatArray, sample_rate: int) -> float:
    """Maximum true peak (linear amplitude) over all channels and frames.

    Only chunks whose bound reaches the largest value found so far are
    interpolated: no other chunk can hold the maximum.
    """
    audio = np.atleast_2d(np.asarray(samples, dtype=np.float32))
    meter = TruePeakMeter(sample_rate, audio.shape[0])
    for start in range(0, audio.shape[1], 1 << 16):
        meter.add(audio[:, start : start + (1 << 16)])
    return meter.finish()


def fast_true_peak_dbtp(samples: FloatArray, sample_rate: int) -> float:
    """:func:`true_peak_linear` in dBTP (``-inf`` for silence); no input validation."""
    return amplitude_to_db(true_peak_linear(samples, sample_rate))
