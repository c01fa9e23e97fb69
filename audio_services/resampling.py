"""Polyphase resampling of a stream, block by block, equal to scipy's ``resample_poly``.

:class:`StreamResampler` takes consecutive ``(channels, frames)`` blocks of one
signal and returns the resampled signal in consecutive pieces. Concatenated,
the pieces are exactly what :func:`audio_services.audio_io.resample` (scipy's
``resample_poly``, Kaiser window, beta 5) returns for the whole signal at once:
every output sample is the same filter sum over the same input samples, and
only the inputs the remaining outputs still need are kept (about
``20 * max(up, down) / up`` frames), so memory does not grow with duration.
"""

from __future__ import annotations

from math import gcd

import numpy as np
import numpy.typing as npt
from scipy.signal import firwin, upfirdn

__all__ = ["StreamResampler"]

FloatArray = npt.NDArray[np.float32]


class StreamResampler:
    """Resample consecutive blocks from ``sample_rate`` to ``target_sample_rate`` (Hz)."""

    def __init__(self, sample_rate: int, target_sample_rate: int, channels: int) -> None:
        common = gcd(sample_rate, target_sample_rate)
        self.up = target_sample_rate // common
        self.down = sample_rate // common
        self.channels = channels
        self._passthrough = self.up == self.down == 1
        # The filter and the output offset of resample_poly, term for term.
        max_rate = max(self.up, self.down, 2)
        half_len = 10 * max_rate
        taps = firwin(2 * half_len + 1, 1.0 / max_rate, window=("kaiser", 5.0))
        taps = np.asarray(taps, dtype=np.float32)
        taps *= self.up
        pre_pad = self.down - half_len % self.down
        self._taps = np.concatenate([np.zeros(pre_pad, np.float32), taps])
        self._skip = (half_len + pre_pad) // self.down
        self._buffer = np.zeros((channels, 0), np.float32)
        self._buffer_start = 0  # input index of the buffer's first frame
        self._frames_in = 0
        self._next_out = 0  # index of the next output frame to return

    def push(self, block: FloatArray) -> FloatArray:
        """Resample the next input block; returns every output frame it completes."""
        if self._passthrough:
            self._frames_in += block.shape[1]
            return block
        self._buffer = np.concatenate([self._buffer, block.astype(np.float32, copy=False)], axis=1)
        self._frames_in += block.shape[1]
        # Output i of the filter reads inputs up to floor(i * down / up).
        complete = -(-self._frames_in * self.up // self.down) - self._skip
        return self._emit(complete, final=False)

    def finish(self) -> FloatArray:
        """The output frames still owed after the last block (``ceil(n * up / down)`` in all)."""
        if self._passthrough:
            return np.zeros((self.channels, 0), np.float32)
        total = -(-self._frames_in * self.up // self.down)
        return self._emit(total, final=True)

    def _emit(self, stop: int, *, final: bool) -> FloatArray:
        start = self._next_out
        if stop <= start:
            return np.zeros((self.channels, 0), np.float32)
        first_filter_out = start + self._skip
        # The earliest input the first output reads, rounded down to a multiple of
        # ``down`` so that the slice's output grid is the whole signal's.
        first_input = max(0, (first_filter_out * self.down - len(self._taps) + 1) // self.up)
        first_input -= first_input % self.down
        # The buffer starts at such a multiple too, never later than this.
        piece = self._buffer[:, first_input - self._buffer_start :]
        slice_start_out = first_input * self.up // self.down
        needed = first_filter_out - slice_start_out + (stop - start)
        if not piece.any():  # silence in, silence out (exactly), without filtering
            filtered = np.zeros((self.channels, needed), np.float32)
        else:
            filtered = upfirdn(self._taps, piece, self.up, self.down, axis=1)
        if filtered.shape[1] < needed:
            if not final:
                raise AssertionError("the resampler was asked for outputs it cannot complete")
            tail = -(-(needed - filtered.shape[1]) * self.down // self.up) + len(self._taps)
            piece = np.pad(piece, ((0, 0), (0, tail)))
            filtered = upfirdn(self._taps, piece, self.up, self.down, axis=1)
        out = filtered[:, first_filter_out - slice_start_out : needed]
        self._next_out = stop
        # Keep the inputs the next output reads from on.
        keep_from = max(0, ((stop + self._skip) * self.down - len(self._taps) + 1) // self.up)
        keep_from -= keep_from % self.down
        if keep_from > self._buffer_start:
            self._buffer = self._buffer[:, keep_from - self._buffer_start :]
            self._buffer_start = keep_from
        return np.ascontiguousarray(out, dtype=np.float32)
