"""Running a pedalboard over a stream of blocks, output aligned and as long as the input.

``Pedalboard.process(..., reset=False)`` keeps every plugin's state from one
call to the next, so a signal processed block by block comes out as if
processed whole: sample for sample for the filters, dynamics, delays,
modulation, distortion and reverb of the catalog (checked in the tests). Two
details need care, and :class:`BoardStream` takes them:

- a plugin with latency (Rubber Band's pitch shifter) returns fewer frames
  than it was given and owes the rest: after the last block, silence is fed
  until every frame has come out, and the output is cut to the input's length
  (pitch shifting also depends on how the signal is cut into blocks, so it is
  not sample-identical to processing the whole signal at once, only aligned);
- pedalboard reads the smaller dimension of a block as its channels, so a
  block of fewer frames than channels would be misread: short pieces are held
  back until there are :data:`MIN_FRAMES`, and a short last piece is padded;
- pedalboard 0.9's pitch shifter outputs silence when called with
  ``reset=False`` (spotify/pedalboard#415), so a board holding one runs over
  windows of :data:`WINDOW_S` seconds instead, each with a second of context
  either side and reset, joined by 50 ms crossfades.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

import numpy as np
import numpy.typing as npt
import pedalboard

from jacameno.audio_services.errors import AudioProcessingError

__all__ = ["MIN_FRAMES", "WINDOW_S", "BoardStream", "fixed_blocks"]

FloatArray = npt.NDArray[np.float32]

MIN_FRAMES = 256
"""Fewest frames handed to pedalboard at a time (far more than any channel count)."""
_FLUSH_FRAMES = 8_192
_MAX_FLUSH_S = 30.0
WINDOW_S = 30.0
"""Seconds per window for boards that cannot stream."""
_CONTEXT_S = 1.0
_CROSSFADE_S = 0.05


class BoardStream:
    """``board`` (a pedalboard.Pedalboard, or any plugin) over consecutive blocks."""

    def __init__(self, board: Any, sample_rate: int, channels: int) -> None:
        self.board = board
        self.sample_rate = sample_rate
        self.channels = channels
        self._held = np.zeros((channels, 0), np.float32)
        self._frames_in = 0
        self._frames_out = 0
        self._windows = _Windows(board, sample_rate, channels) if _cannot_stream(board) else None

    def push(self, block: FloatArray) -> FloatArray:
        """Process the next block; returns the frames that came out (possibly fewer)."""
        if self._windows is not None:
            return self._windows.push(block)
        self._frames_in += block.shape[1]
        data = np.concatenate([self._held, block], axis=1) if self._held.shape[1] else block
        if data.shape[1] < MIN_FRAMES:
            self._held = np.array(data, dtype=np.float32)
            return np.zeros((self.channels, 0), np.float32)
        self._held = np.zeros((self.channels, 0), np.float32)
        return self._process(data)

    def finish(self) -> FloatArray:
        """The frames still owed, so that the output is exactly as long as the input."""
        if self._windows is not None:
            return self._windows.finish()
        pieces = []
        if self._held.shape[1]:
            padded = np.zeros((self.channels, MIN_FRAMES), np.float32)
            padded[:, : self._held.shape[1]] = self._held
            self._held = np.zeros((self.channels, 0), np.float32)
            pieces.append(self._process(padded))
        silence = np.zeros((self.channels, _FLUSH_FRAMES), np.float32)
        flushed = 0
        while self._frames_out < self._frames_in:
            if flushed > _MAX_FLUSH_S * self.sample_rate:
                raise AudioProcessingError("an effect kept its output back for over 30 s")
            pieces.append(self._process(silence))
            flushed += _FLUSH_FRAMES
        out = np.concatenate(pieces, axis=1) if pieces else np.zeros((self.channels, 0), np.float32)
        owed = out.shape[1] - (self._frames_out - self._frames_in)
        return out[:, : max(0, owed)]

    def _process(self, data: FloatArray) -> FloatArray:
        out = np.ascontiguousarray(self.board(data, self.sample_rate, reset=False), np.float32)
        self._frames_out += out.shape[1]
        return out


def _cannot_stream(board: Any) -> bool:
    plugins = list(board) if isinstance(board, pedalboard.Pedalboard) else [board]  # type: ignore[attr-defined]
    return any(isinstance(plugin, pedalboard.PitchShift) for plugin in plugins)


class _Windows:
    """A board run over overlapping windows, each processed whole (``reset=True``)."""

    def __init__(self, board: Any, sample_rate: int, channels: int) -> None:
        self.board = board
        self.sample_rate = sample_rate
        self.core = round(WINDOW_S * sample_rate)
        self.context = round(_CONTEXT_S * sample_rate)
        self.fade = round(_CROSSFADE_S * sample_rate)
        self._ramp = (np.arange(self.fade, dtype=np.float32) + 0.5) / np.float32(self.fade)
        self._buffer = np.zeros((channels, 0), np.float32)
        self._buffer_start = 0
        self._received = 0
        self._next = 0  # first frame of the next window's core
        self._tail: FloatArray | None = None  # the last window's output past its core

    def push(self, block: FloatArray) -> FloatArray:
        self._buffer = np.concatenate([self._buffer, block], axis=1)
        self._received += block.shape[1]
        pieces = []
        while self._received >= self._next + self.core + self.context:
            pieces.append(self._window(self._next + self.core))
        return self._joined(pieces)

    def finish(self) -> FloatArray:
        pieces = []
        while self._next < self._received:
            pieces.append(self._window(min(self._next + self.core, self._received)))
        return self._joined(pieces)

    def _window(self, core_stop: int) -> FloatArray:
        core_start = self._next
        first = max(0, core_start - self.context)
        last = min(self._received, core_stop + self.context)
        piece = self._buffer[:, first - self._buffer_start : last - self._buffer_start]
        if piece.shape[1] < MIN_FRAMES:
            piece = np.pad(piece, ((0, 0), (0, MIN_FRAMES - piece.shape[1])))
        out = np.asarray(self.board(piece, self.sample_rate, reset=True), np.float32)
        core = np.array(out[:, core_start - first : core_stop - first], dtype=np.float32)
        if self._tail is not None:
            overlap = min(self.fade, self._tail.shape[1], core.shape[1])
            ramp = self._ramp[:overlap]
            core[:, :overlap] = self._tail[:, :overlap] * (1 - ramp) + core[:, :overlap] * ramp
        self._tail = out[:, core_stop - first : core_stop - first + self.fade]
        self._next = core_stop
        keep_from = max(self._buffer_start, core_stop - self.context)
        self._buffer = self._buffer[:, keep_from - self._buffer_start :]
        self._buffer_start = keep_from
        return core

    def _joined(self, pieces: list[FloatArray]) -> FloatArray:
        if not pieces:
            return np.zeros((self._buffer.shape[0], 0), np.float32)
        return np.concatenate(pieces, axis=1)


def fixed_blocks(
    blocks: Iterable[FloatArray], channels: int, num_frames: int, block_frames: int
) -> Iterator[FloatArray]:
    """Exactly ``num_frames`` frames from ``blocks``, re-cut into ``block_frames`` blocks.

    The signal is cut short or padded with silence to ``num_frames``.
    """
    pending = np.zeros((channels, 0), np.float32)
    emitted = 0
    for block in blocks:
        if emitted >= num_frames:
            return
        pending = np.concatenate([pending, block], axis=1) if pending.shape[1] else block
        whole = pending.shape[1] // block_frames * block_frames
        for start in range(0, whole, block_frames):
            size = min(block_frames, num_frames - emitted)
            if size <= 0:
                return
            yield np.ascontiguousarray(pending[:, start : start + size], dtype=np.float32)
            emitted += size
        pending = pending[:, whole:]
    while emitted < num_frames:
        size = min(block_frames, num_frames - emitted)
        piece = np.zeros((channels, size), np.float32)
        available = min(size, pending.shape[1])
        piece[:, :available] = pending[:, :available]
        pending = pending[:, available:]
        yield piece
        emitted += size
