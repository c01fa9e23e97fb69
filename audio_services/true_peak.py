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

from audio_services.metering import amplitude_to_db

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
    num_frames = audio.shape[1]
    envelope = np.abs(audio).max(axis=0) if num_frames else np.zeros(0, np.float32)
    factor = oversampling_factor(sample_rate)
    if factor == 1 or num_frames == 0:
        return envelope
    spec = _interpolator(factor)
    half = spec.half
    # Extended frames -half .. num_frames + half - 1 catch the ringing into the
    # silence around the signal; ``padded`` adds the window reach on top.
    padded = np.pad(audio, ((0, 0), (2 * half, 2 * half)))
    extended = np.pad(envelope, (half, half))
    num_extended = extended.size
    sample_peaks = extended.copy()
    buffers = _Buffers(min(_CHUNK_FRAMES, num_extended), len(spec.odd))
    for start in range(0, num_extended, _CHUNK_FRAMES):
        stop = min(start + _CHUNK_FRAMES, num_extended)
        # The window of extended frame e holds extended frames e - half + 1 .. e + half.
        reach = sample_peaks[max(0, start - half + 1) : stop + half]
        if floor > 0.0 and float(reach.max()) * spec.bound < floor:
            continue
        _chunk_peaks(padded, start, stop, spec, buffers, extended[start:stop])
    result = extended[half : half + num_frames]
    result[0] = max(result[0], extended[:half].max())
    result[-1] = max(result[-1], extended[half + num_frames :].max())
    return result


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

    Only chunks whose bound reaches the sample peak are interpolated: the true
    peak is at least the sample peak, so no other chunk can hold the maximum.
    """
    audio = np.atleast_2d(np.asarray(samples, dtype=np.float32))
    if audio.shape[1] == 0:
        return 0.0
    sample_peak = float(np.abs(audio).max())
    if sample_peak == 0.0:
        return 0.0
    return float(true_peak_envelope(audio, sample_rate, floor=sample_peak).max())


def fast_true_peak_dbtp(samples: FloatArray, sample_rate: int) -> float:
    """:func:`true_peak_linear` in dBTP (``-inf`` for silence); no input validation."""
    return amplitude_to_db(true_peak_linear(samples, sample_rate))
