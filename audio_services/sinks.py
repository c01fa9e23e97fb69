"""Where streamed renders go, block by block: an array in memory or an audio file.

A render may be written more than once (a mastering pass that misses its
loudness target is redone), so a sink is written in passes: :meth:`begin`
starts the output over, :meth:`write` appends a block, :meth:`end` closes the
pass. The last pass is the output.
"""

from __future__ import annotations

import os
from typing import Protocol

import numpy as np
import numpy.typing as npt
import soundfile as sf

from jacameno.audio_services.audio_io import WriteFormat
from jacameno.audio_services.errors import AudioError

__all__ = ["ArraySink", "AudioSink", "FileSink"]

FloatArray = npt.NDArray[np.float32]


class AudioSink(Protocol):
    """A destination for ``(channels, frames)`` float32 blocks, written in passes."""

    def begin(self) -> None:
        """Start the output over from its first frame."""
        ...

    def write(self, block: FloatArray) -> None:
        """Append the next block."""
        ...

    def end(self) -> None:
        """Finish this pass (the output is complete)."""
        ...


class ArraySink:
    """Fills ``samples`` (``(channels, frames)``, preallocated) in every pass."""

    def __init__(self, samples: FloatArray) -> None:
        self.samples = samples
        self._position = 0

    def begin(self) -> None:
        self._position = 0

    def write(self, block: FloatArray) -> None:
        stop = self._position + block.shape[1]
        self.samples[:, self._position : stop] = block
        self._position = stop

    def end(self) -> None:
        if self._position != self.samples.shape[1]:
            raise AssertionError(f"wrote {self._position} of {self.samples.shape[1]} frames")


class FileSink:
    """Writes a WAV or FLAC file (``PCM_16``, ``PCM_24``, ``FLOAT``); each pass rewrites it.

    Non-finite samples are refused, and integer subtypes clip at full scale.
    """

    def __init__(
        self,
        path: str | os.PathLike[str],
        sample_rate: int,
        channels: int,
        *,
        format: WriteFormat = "WAV",
        subtype: str = "PCM_24",
    ) -> None:
        if not sf.check_format(format, subtype):
            raise ValueError(f"{format} cannot hold subtype {subtype!r}")
        self.path = path
        self.sample_rate = sample_rate
        self.channels = channels
        self.format = format
        self.subtype = subtype
        self.frames = 0
        self._file: sf.SoundFile | None = None

    def begin(self) -> None:
        self.end()
        self.frames = 0
        try:
            self._file = sf.SoundFile(
                self.path,
                "w",
                self.sample_rate,
                self.channels,
                format=self.format,
                subtype=self.subtype,
            )
        except (sf.LibsndfileError, RuntimeError) as exc:
            raise AudioError(f"cannot write audio: {exc}") from exc

    def write(self, block: FloatArray) -> None:
        if self._file is None:
            raise RuntimeError("call begin() before write()")
        if not np.isfinite(block).all():
            raise AudioError("refusing to write non-finite samples (NaN or inf)")
        self._file.write(np.ascontiguousarray(block.T))
        self.frames += block.shape[1]

    def end(self) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None
