"""Audio as a re-readable stream of blocks, so that no job holds a whole track in memory.

A :class:`BlockSource` yields consecutive ``(channels, frames)`` float32 blocks
of one signal, as often as it is asked (each call of :meth:`BlockSource.blocks`
is a fresh pass from the start): a job that needs two passes (measure, then
process to a target) reads its file twice instead of keeping it decoded. Peak
memory is then a few blocks, whatever the duration.

- :class:`ArraySource`: an array already in memory (the library's array API).
- :class:`FileSource`: a file, decoded block by block with libsndfile; its
  limits are checked from the header when it is created.
- :class:`ResampledSource`: another source at a new sample rate, resampled
  block by block (:class:`~audio_services.resampling.StreamResampler`).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Protocol

import numpy as np
import numpy.typing as npt

from jacameno.audio_services.audio_io import (
    DEFAULT_MAX_CHANNELS,
    DEFAULT_MAX_DURATION_S,
    AudioInfo,
    check_limits,
    probe,
    read_blocks,
)
from jacameno.audio_services.errors import AudioDecodeError
from jacameno.audio_services.resampling import StreamResampler

__all__ = [
    "BLOCK_FRAMES",
    "ArraySource",
    "BlockSource",
    "FileSource",
    "ResampledSource",
    "count_frames",
]

FloatArray = npt.NDArray[np.float32]

BLOCK_FRAMES = 1 << 16
"""Frames per block (1.5 s at 44.1 kHz; 1.5 MB for 6 channels of float32)."""


class BlockSource(Protocol):
    """A signal readable from the start, block by block, any number of times."""

    @property
    def sample_rate(self) -> int: ...

    @property
    def channels(self) -> int: ...

    @property
    def frames_hint(self) -> int:
        """Frames as far as known before reading (exact for arrays and PCM files)."""
        ...

    def blocks(self, block_frames: int = BLOCK_FRAMES) -> Iterator[FloatArray]:
        """Consecutive ``(channels, block_frames)`` blocks (the last may be shorter)."""
        ...


class ArraySource:
    """Blocks of a ``(channels, frames)`` array in memory (not copied as a whole)."""

    def __init__(self, samples: npt.ArrayLike, sample_rate: int) -> None:
        audio = np.asarray(samples, dtype=np.float32)
        if audio.ndim == 1:
            audio = audio[np.newaxis, :]
        if audio.ndim != 2:
            raise AudioDecodeError(f"audio must be (channels, frames); got shape {audio.shape}")
        self.samples = audio
        self._sample_rate = int(sample_rate)

    @property
    def sample_rate(self) -> int:
        return self._sample_rate

    @property
    def channels(self) -> int:
        return int(self.samples.shape[0])

    @property
    def frames_hint(self) -> int:
        return int(self.samples.shape[1])

    def blocks(self, block_frames: int = BLOCK_FRAMES) -> Iterator[FloatArray]:
        for start in range(0, self.samples.shape[1], block_frames):
            yield np.ascontiguousarray(self.samples[:, start : start + block_frames])


class FileSource:
    """An audio file decoded block by block on every pass; limits checked up front.

    Raises :class:`AudioDecodeError` or :class:`AudioLimitError` from the header
    (see :func:`~audio_services.audio_io.probe`), before any sample is decoded.
    """

    def __init__(
        self,
        path: str | os.PathLike[str],
        *,
        max_duration_s: float = DEFAULT_MAX_DURATION_S,
        max_channels: int = DEFAULT_MAX_CHANNELS,
    ) -> None:
        self.path = path
        self.max_duration_s = max_duration_s
        self.max_channels = max_channels
        self.info: AudioInfo = probe(path)
        check_limits(self.info, max_duration_s=max_duration_s, max_channels=max_channels)

    @property
    def sample_rate(self) -> int:
        return self.info.sample_rate

    @property
    def channels(self) -> int:
        return self.info.channels

    @property
    def frames_hint(self) -> int:
        return self.info.frames

    def blocks(self, block_frames: int = BLOCK_FRAMES) -> Iterator[FloatArray]:
        return read_blocks(
            self.path,
            block_frames,
            max_duration_s=self.max_duration_s,
            max_channels=self.max_channels,
        )


class ResampledSource:
    """``source`` at ``sample_rate`` Hz, resampled as it is read (exactly ``resample_poly``)."""

    def __init__(self, source: BlockSource, sample_rate: int) -> None:
        self.source = source
        self._sample_rate = int(sample_rate)

    @property
    def sample_rate(self) -> int:
        return self._sample_rate

    @property
    def channels(self) -> int:
        return self.source.channels

    @property
    def frames_hint(self) -> int:
        return -(-self.source.frames_hint * self._sample_rate // self.source.sample_rate)

    def blocks(self, block_frames: int = BLOCK_FRAMES) -> Iterator[FloatArray]:
        if self._sample_rate == self.source.sample_rate:
            yield from self.source.blocks(block_frames)
            return
        resampler = StreamResampler(self.source.sample_rate, self._sample_rate, self.channels)
        for block in self.source.blocks(block_frames):
            out = resampler.push(block)
            if out.shape[1]:
                yield out
        out = resampler.finish()
        if out.shape[1]:
            yield out


def count_frames(source: BlockSource) -> int:
    """Frames of ``source``: the hint for arrays and sources whose ``frames_exact`` is
    true (an arranged track), one pass of decoding otherwise.

    A resampled source has ``ceil(frames * rate / source_rate)`` of its source's.
    """
    if isinstance(source, ArraySource) or getattr(source, "frames_exact", False):
        return source.frames_hint
    if isinstance(source, ResampledSource):
        inner = count_frames(source.source)
        return -(-inner * source.sample_rate // source.source.sample_rate)
    return sum(block.shape[1] for block in source.blocks())
