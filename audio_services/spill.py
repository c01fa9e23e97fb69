"""An append-only table of float32 rows that moves to a temporary file past a memory budget.

Streaming jobs produce a few per-frame features that a later stage must read
again from the start: the band energies of the onset detector (normalised by
their maximum over the whole track), the limiter's control points (searched
for the gain that meets a loudness target), a mix bus (processed once its
loudness is known). :class:`SpillBuffer` keeps them in memory while they are
small and in an anonymous temporary file (deleted when closed, never named)
once they pass ``memory_bytes``, so resident memory stays bounded whatever
the duration. Rows come back in order, in chunks, as often as asked.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable, Iterator
from typing import BinaryIO

import numpy as np
import numpy.typing as npt

__all__ = ["KEEP_BUDGET_BYTES", "SPILL_MEMORY_BYTES", "DiskBudget", "KeptBlocks", "SpillBuffer"]

FloatArray = npt.NDArray[np.float32]

SPILL_MEMORY_BYTES = 8 * 1024**2
"""Bytes of rows kept in memory before a buffer moves them to a temporary file."""
KEEP_BUDGET_BYTES = 512 * 1024**2
"""Bytes of processed audio one job may keep in temporary files to skip recomputing it
(8 stems x 3 min of mix inserts: 320 MB; a 3 min stereo master: 64 MB)."""
_CHUNK_BYTES = 4 * 1024**2


class SpillBuffer:
    """Rows of ``width`` float32 values; use as a context manager (closes the file)."""

    def __init__(self, width: int, memory_bytes: int = SPILL_MEMORY_BYTES) -> None:
        if width <= 0:
            raise ValueError(f"width must be positive, got {width}")
        self.width = width
        self.memory_bytes = memory_bytes
        self._chunks: list[FloatArray] = []
        self._memory_rows = 0
        self._file: BinaryIO | None = None
        self._rows = 0

    def __len__(self) -> int:
        return self._rows

    def __enter__(self) -> SpillBuffer:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    @property
    def spilled(self) -> bool:
        """Whether the rows live in a temporary file."""
        return self._file is not None

    def append(self, rows: npt.ArrayLike) -> None:
        """Add ``(n, width)`` rows (a 1-D array is one column when ``width`` is 1)."""
        data = np.ascontiguousarray(rows, dtype=np.float32).reshape(-1, self.width)
        if not len(data):
            return
        self._rows += len(data)
        if self._file is not None:
            self._file.write(data.tobytes())
            return
        self._chunks.append(data)
        self._memory_rows += len(data)
        if self._memory_rows * self.width * 4 > self.memory_bytes:
            self._file = tempfile.TemporaryFile()  # noqa: SIM115 (closed in close())
            for chunk in self._chunks:
                self._file.write(chunk.tobytes())
            self._chunks, self._memory_rows = [], 0

    def chunks(self, rows_per_chunk: int | None = None) -> Iterator[FloatArray]:
        """Every row in order, ``(rows, width)`` at a time (read-only views in memory)."""
        size = rows_per_chunk or max(1, _CHUNK_BYTES // (4 * self.width))
        if self._file is None:
            for chunk in self._chunks:
                for start in range(0, len(chunk), size):
                    yield chunk[start : start + size]
            return
        self._file.flush()
        for start in range(0, self._rows, size):
            yield self._read(start, min(size, self._rows - start))

    def transform(
        self, function: Callable[[FloatArray], FloatArray], rows_per_chunk: int | None = None
    ) -> None:
        """Replace every chunk of rows, in order, by ``function(chunk)`` (same shape)."""
        size = rows_per_chunk or max(1, _CHUNK_BYTES // (4 * self.width))
        if self._file is None:
            self._chunks = [
                np.concatenate([function(chunk[s : s + size]) for s in range(0, len(chunk), size)])
                for chunk in self._chunks
            ]
            return
        self._file.flush()
        for start in range(0, self._rows, size):
            count = min(size, self._rows - start)
            replaced = np.ascontiguousarray(function(self._read(start, count)), dtype=np.float32)
            if replaced.shape != (count, self.width):
                raise ValueError(f"transform changed a chunk's shape to {replaced.shape}")
            self._file.seek(start * self.width * 4)
            self._file.write(replaced.tobytes())

    def close(self) -> None:
        """Drop the rows (and the temporary file)."""
        if self._file is not None:
            self._file.close()
            self._file = None
        self._chunks, self._memory_rows, self._rows = [], 0, 0

    def _read(self, start: int, count: int) -> FloatArray:
        assert self._file is not None
        self._file.seek(start * self.width * 4)
        data = np.frombuffer(self._file.read(count * self.width * 4), dtype=np.float32)
        return data.reshape(count, self.width).copy()


class DiskBudget:
    """Bytes a job may still write to temporary files."""

    def __init__(self, remaining_bytes: int = KEEP_BUDGET_BYTES) -> None:
        self.remaining_bytes = remaining_bytes

    def take(self, num_bytes: int) -> bool:
        """Reserve ``num_bytes`` if there are that many left."""
        if num_bytes > self.remaining_bytes:
            return False
        self.remaining_bytes -= num_bytes
        return True

    def give_back(self, num_bytes: int) -> None:
        self.remaining_bytes += num_bytes


class KeptBlocks:
    """A stream's ``(channels, frames)`` blocks kept in a temporary file while a budget lasts.

    Once a block does not fit, everything kept is dropped (:attr:`complete` is
    false) and its bytes go back to the budget: the stream must be computed again.
    """

    def __init__(self, channels: int, budget: DiskBudget) -> None:
        self._spill: SpillBuffer | None = SpillBuffer(channels, memory_bytes=0)
        self._budget = budget
        self._taken = 0

    @property
    def complete(self) -> bool:
        """Whether every block offered was kept."""
        return self._spill is not None

    def keep(self, block: FloatArray) -> None:
        if self._spill is None:
            return
        if self._budget.take(block.nbytes):
            self._spill.append(block.T)
            self._taken += block.nbytes
        else:
            self.close()

    def blocks(self, block_frames: int) -> Iterator[FloatArray]:
        """The kept stream again, ``block_frames`` at a time."""
        if self._spill is None:
            raise RuntimeError("the blocks were not all kept; compute the stream again")
        for rows in self._spill.chunks(block_frames):
            yield np.ascontiguousarray(rows.T)

    def close(self) -> None:
        if self._spill is not None:
            self._spill.close()
            self._spill = None
            self._budget.give_back(self._taken)
