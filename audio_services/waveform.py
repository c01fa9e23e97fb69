"""Waveform peaks for drawing, and a pyramid that serves any resolution without decoding.

A point is the minimum and maximum sample over a span of frames. The pyramid
keeps per-channel min/max at a base resolution (at most ``MAX_BASE_SPP``
samples per point, finer for short files so that ``MAX_POINTS`` points are
always real data) and at every ``LEVEL_FACTOR`` coarsening of it. A request for
N points reads the coarsest level that still has 16 stored points per requested
point (or the finest level) and merges them in groups, so
``GET /api/v1/assets/{id}/waveform?points=N`` costs O(N), never touches the
audio, and places every peak within 1/16 of a point of where it belongs (within
one stored point when N nears the base resolution).

"Mixed" peaks are the envelope over channels (minimum of minima, maximum of
maxima), not the peaks of a mono downmix: a downmix cancels out-of-phase
channels and hides a clipped one, an envelope shows what each speaker gets.

:class:`WaveformPyramidBuilder` builds the same pyramid from consecutive
blocks (the base level is a few MB even for an hour; the audio is never held).

Serialised form (``to_bytes``): a 32-byte little-endian header (magic
``b"JWPK"``, version, channels, sample rate, frames, base samples-per-point,
level count) followed by each level's int16 (min, max) pairs, channel-major:
about 1.3 MB for three minutes of 44.1 kHz stereo (63 MB as 16-bit PCM).
Values are quantised to 1/32767 of full scale and clamped to +-1 (float files
may exceed full scale; the picture cannot).
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from jacameno.audio_services.errors import AudioDecodeError
from jacameno.audio_services.result_json import JsonObject, json_object

__all__ = [
    "LEVEL_FACTOR",
    "MAX_BASE_SPP",
    "MAX_POINTS",
    "WaveformPeaks",
    "WaveformPyramid",
    "WaveformPyramidBuilder",
    "waveform_peaks",
]

FloatArray = npt.NDArray[np.float32]
Int16Array = npt.NDArray[np.int16]

MAX_POINTS = 65_536
"""Largest ``points`` a request may ask for."""
MAX_BASE_SPP = 256
LEVEL_FACTOR = 4
_MIN_LEVEL_POINTS = 64
_OVERSAMPLING = 16
_MAGIC = b"JWPK"
_VERSION = 1
_HEADER = struct.Struct("<4sHHIQIH6x")
_SCALE = 32767.0


@dataclass(frozen=True, slots=True, eq=False)
class WaveformPeaks:
    """Per-point minima and maxima, ``(channels, points)`` each, in [-1, 1].

    ``samples_per_point`` may be fractional (frames divided by points) and is
    below 1 when more points were asked for than the audio has frames.
    """

    sample_rate: int
    frames: int
    samples_per_point: float
    minima: FloatArray
    maxima: FloatArray

    @property
    def points(self) -> int:
        points: int = self.minima.shape[1]
        return points

    @property
    def duration_s(self) -> float:
        return self.frames / self.sample_rate

    def to_json(self, *, decimals: int = 4) -> JsonObject:
        """JSON-ready: ``{"channels": [{"min": [...], "max": [...]}, ...], ...}``."""
        return json_object(
            {
                "sample_rate": self.sample_rate,
                "frames": self.frames,
                "duration_s": self.duration_s,
                "points": self.points,
                "samples_per_point": self.samples_per_point,
                "channels": [
                    {
                        "min": np.round(low.astype(np.float64), decimals),
                        "max": np.round(high.astype(np.float64), decimals),
                    }
                    for low, high in zip(self.minima, self.maxima, strict=True)
                ],
            }
        )


def waveform_peaks(
    samples: npt.ArrayLike, points: int, *, sample_rate: int = 0, mix: bool = False
) -> WaveformPeaks:
    """Min/max peaks of ``(channels, frames)`` samples in exactly ``points`` points.

    With ``mix`` the channels are merged into their envelope (one row).
    ``sample_rate`` is only carried into the result (for ``duration_s``).
    """
    data = _as_channels(samples)
    _check_points(points)
    minima, maxima = _group_extremes(data, data, points, frames=data.shape[1], block=1)
    if mix:
        minima, maxima = minima.min(axis=0, keepdims=True), maxima.max(axis=0, keepdims=True)
    return WaveformPeaks(
        sample_rate=sample_rate,
        frames=int(data.shape[1]),
        samples_per_point=data.shape[1] / points,
        minima=np.clip(minima, -1.0, 1.0),
        maxima=np.clip(maxima, -1.0, 1.0),
    )


class WaveformPyramid:
    """Precomputed min/max levels of one asset; answers :meth:`peaks` for any point count."""

    def __init__(
        self,
        sample_rate: int,
        frames: int,
        base_samples_per_point: int,
        levels: list[tuple[Int16Array, Int16Array]],
    ) -> None:
        if not levels:
            raise ValueError("a pyramid needs at least one level")
        self.sample_rate = sample_rate
        self.frames = frames
        self.channels = int(levels[0][0].shape[0])
        self.base_samples_per_point = base_samples_per_point
        self.levels = levels

    @classmethod
    def build(cls, samples: npt.ArrayLike, sample_rate: int) -> WaveformPyramid:
        """Compute every level from ``(channels, frames)`` samples; the audio is read once."""
        data = _as_channels(samples)
        builder = WaveformPyramidBuilder(sample_rate, data.shape[0], data.shape[1])
        builder.add(data)
        return builder.finish()

    def level_samples_per_point(self, level: int) -> int:
        return self.base_samples_per_point * int(LEVEL_FACTOR**level)

    def peaks(self, points: int, *, channel: int | None = None, mix: bool = False) -> WaveformPeaks:
        """``points`` min/max points of the whole asset: per channel, one ``channel``, or mixed."""
        _check_points(points)
        if channel is not None and not 0 <= channel < self.channels:
            raise ValueError(f"channel {channel} out of range 0-{self.channels - 1}")
        # The coarsest level with _OVERSAMPLING stored points per requested point:
        # a stored point straddling two output points then blurs at most 1/16 of one.
        level = 0
        while (
            level + 1 < len(self.levels)
            and self.levels[level + 1][0].shape[1] >= points * _OVERSAMPLING
        ):
            level += 1
        low_q, high_q = self.levels[level]
        if channel is not None:
            low_q, high_q = low_q[channel : channel + 1], high_q[channel : channel + 1]
        minima, maxima = _group_extremes(
            low_q, high_q, points, frames=self.frames, block=self.level_samples_per_point(level)
        )
        if mix:
            minima, maxima = minima.min(axis=0, keepdims=True), maxima.max(axis=0, keepdims=True)
        return WaveformPeaks(
            sample_rate=self.sample_rate,
            frames=self.frames,
            samples_per_point=self.frames / points,
            minima=(minima / _SCALE).astype(np.float32),
            maxima=(maxima / _SCALE).astype(np.float32),
        )

    def to_bytes(self) -> bytes:
        header = _HEADER.pack(
            _MAGIC,
            _VERSION,
            self.channels,
            self.sample_rate,
            self.frames,
            self.base_samples_per_point,
            len(self.levels),
        )
        body = b"".join(
            np.stack([low, high], axis=-1).astype("<i2").tobytes() for low, high in self.levels
        )
        return header + body

    @classmethod
    def from_bytes(cls, data: bytes) -> WaveformPyramid:
        """Inverse of :meth:`to_bytes`; raises :class:`AudioDecodeError` on malformed data."""
        if len(data) < _HEADER.size:
            raise AudioDecodeError("waveform data is shorter than its header")
        magic, version, channels, sample_rate, frames, base, n_levels = _HEADER.unpack_from(data)
        if magic != _MAGIC or version != _VERSION or channels == 0 or base == 0:
            raise AudioDecodeError("not waveform pyramid data (bad magic, version or header)")
        offset, levels = _HEADER.size, []
        points = -(-frames // base)
        for _ in range(n_levels):
            size = channels * points * 2 * 2
            if offset + size > len(data):
                raise AudioDecodeError("waveform data is truncated")
            pairs = np.frombuffer(data, dtype="<i2", count=channels * points * 2, offset=offset)
            pairs = pairs.reshape(channels, points, 2).astype(np.int16)
            levels.append((pairs[..., 0].copy(), pairs[..., 1].copy()))
            offset += size
            points = -(-points // LEVEL_FACTOR)
        return cls(sample_rate, frames, base, levels)


class WaveformPyramidBuilder:
    """A :class:`WaveformPyramid` from consecutive ``(channels, frames)`` blocks.

    ``frames_hint`` (the header's frame count) chooses the base resolution; the
    pyramid records the frames actually added.
    """

    def __init__(self, sample_rate: int, channels: int, frames_hint: int) -> None:
        self.sample_rate = sample_rate
        self.channels = channels
        base = 1
        while base * 2 <= MAX_BASE_SPP and frames_hint // (base * 2) >= MAX_POINTS:
            base *= 2
        self.base = base
        self.frames = 0
        self._carry = np.zeros((channels, 0), np.float32)
        self._low: list[Int16Array] = []
        self._high: list[Int16Array] = []

    def add(self, block: FloatArray) -> None:
        """Take the next block."""
        self.frames += block.shape[1]
        data = np.concatenate([self._carry, block], axis=1) if self._carry.shape[1] else block
        whole = data.shape[1] // self.base * self.base
        if whole:
            low, high = _block_extremes(data[:, :whole], data[:, :whole], self.base)
            self._low.append(_quantise(low))
            self._high.append(_quantise(high))
        self._carry = np.array(data[:, whole:], dtype=np.float32)

    def finish(self) -> WaveformPyramid:
        """The pyramid of everything added (``ValueError`` if nothing was)."""
        if self.frames == 0:
            raise ValueError("a waveform needs at least one frame")
        if self._carry.shape[1]:
            self._low.append(_quantise(self._carry.min(axis=1, keepdims=True)))
            self._high.append(_quantise(self._carry.max(axis=1, keepdims=True)))
        low = np.concatenate(self._low, axis=1)
        high = np.concatenate(self._high, axis=1)
        # Quantising is monotonic, so extremes of quantised points are the
        # quantised extremes: coarser levels are built from the stored integers.
        levels = [(low, high)]
        while low.shape[1] >= _MIN_LEVEL_POINTS * LEVEL_FACTOR:
            low_f, high_f = _block_extremes(low, high, LEVEL_FACTOR)
            low, high = low_f.astype(np.int16), high_f.astype(np.int16)
            levels.append((low, high))
        return WaveformPyramid(self.sample_rate, self.frames, self.base, levels)


def _as_channels(samples: npt.ArrayLike) -> FloatArray:
    data = np.asarray(samples, dtype=np.float32)
    if data.ndim == 1:
        data = data[None, :]
    if data.ndim != 2 or data.shape[1] == 0:
        raise ValueError(
            f"samples must be shaped (channels, frames) with frames > 0, got {data.shape}"
        )
    return data


def _check_points(points: int) -> None:
    if not 1 <= points <= MAX_POINTS:
        raise ValueError(f"points must be between 1 and {MAX_POINTS}, got {points}")


def _block_extremes(
    low: npt.NDArray[Any], high: npt.NDArray[Any], block: int
) -> tuple[FloatArray, FloatArray]:
    """Min of ``low`` and max of ``high`` over consecutive blocks (the last may be short)."""
    channels, length = low.shape
    whole = length // block * block
    shape = (channels, whole // block, block)
    minima = [low[:, :whole].reshape(shape).min(axis=2)]
    maxima = [high[:, :whole].reshape(shape).max(axis=2)]
    if whole < length:
        # The short last block, without copying the whole signal to pad it.
        minima.append(low[:, whole:].min(axis=1, keepdims=True))
        maxima.append(high[:, whole:].max(axis=1, keepdims=True))
    return (
        np.concatenate(minima, axis=1).astype(np.float32),
        np.concatenate(maxima, axis=1).astype(np.float32),
    )


def _group_extremes(
    low: npt.NDArray[Any], high: npt.NDArray[Any], points: int, *, frames: int, block: int
) -> tuple[npt.NDArray[Any], npt.NDArray[Any]]:
    """Merge stored points of ``block`` frames each into exactly ``points`` output points.

    Output point ``i`` covers frames ``[i * frames // points, (i + 1) * frames // points)``
    and so the stored points from the one holding its first frame on, at least one;
    when ``points`` exceeds the stored count, neighbours repeat a stored point.
    """
    starts = (np.arange(points, dtype=np.int64) * frames // points) // block
    starts = np.minimum(starts, low.shape[1] - 1)
    return np.minimum.reduceat(low, starts, axis=1), np.maximum.reduceat(high, starts, axis=1)


def _quantise(values: FloatArray) -> Int16Array:
    quantised: Int16Array = np.rint(np.clip(values, -1.0, 1.0) * _SCALE).astype(np.int16)
    return quantised
